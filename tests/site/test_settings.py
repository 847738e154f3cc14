"""Configuration from the environment: safe defaults, clear errors, a persisted random key."""

from __future__ import annotations

import pytest

from website import create_app
from website.settings import ConfigError, from_environ, persistent_secret_key
from website.store import upgrade


def test_environment_overrides_and_conversions():
    config = from_environ({"TRUSTED_PROXIES": "2", "DATABASE_URL": "sqlite:////x.db", "X": "y"})
    assert config == {"TRUSTED_PROXIES": 2, "DATABASE_URL": "sqlite:////x.db"}


@pytest.mark.parametrize("value", ["two", "-1", "1.5"])
def test_bad_numbers_are_refused_with_the_variable_named(value):
    with pytest.raises(ConfigError, match=f"TRUSTED_PROXIES={value!r}"):
        from_environ({"TRUSTED_PROXIES": value})


def test_secret_key_is_random_and_persisted(tmp_path):
    first = persistent_secret_key(str(tmp_path))
    assert len(first) == 64 and first == persistent_secret_key(str(tmp_path))
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    other = tmp_path / "other"
    other.mkdir()
    assert persistent_secret_key(str(other)) != first
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".secret")] == []


def test_app_without_secret_key_uses_the_instance_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    upgrade(f"sqlite:///{tmp_path / 'r.db'}")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"})
    assert app.config["SECRET_KEY"] == (tmp_path / "secret_key").read_text()


def test_trusted_proxy_address_is_used_for_receipts(tmp_path):
    from tests.conftest import post_choice
    from website.consent.storage import open_store

    upgrade(f"sqlite:///{tmp_path / 'r.db'}")
    app = create_app({"SECRET_KEY": "k", "TRUSTED_PROXIES": 1,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"})
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "127.0.0.1"
    post_choice(client, {"categories": {}}, **{"X-Forwarded-For": "198.51.100.200"})
    store = open_store(app.config["DATABASE_URL"])
    assert [r.ip_prefix for r in store.export()] == ["198.51.100.0"]
    store.close()
