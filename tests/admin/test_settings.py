"""The admin's settings from the environment: whole minutes and hours, at least 1."""

from __future__ import annotations

import pytest

from website import create_app
from website.settings import ConfigError


def make(monkeypatch, tmp_path, **environ: str):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    return create_app({"SECRET_KEY": "k", "DATABASE_URL": f"sqlite:///{tmp_path}/r.db"})


def test_defaults_and_environment(monkeypatch, tmp_path):
    app = make(monkeypatch, tmp_path)
    assert (app.config["ADMIN_IDLE_MINUTES"], app.config["ADMIN_SESSION_HOURS"]) == (30, 12)
    app = make(monkeypatch, tmp_path, ADMIN_IDLE_MINUTES="5", ADMIN_SESSION_HOURS="2")
    assert (app.config["ADMIN_IDLE_MINUTES"], app.config["ADMIN_SESSION_HOURS"]) == (5, 2)


@pytest.mark.parametrize("value", ["0", "-3", "ten", "1.5"])
def test_a_bad_value_refuses_to_start(monkeypatch, tmp_path, value):
    with pytest.raises(ConfigError, match="ADMIN_IDLE_MINUTES"):
        make(monkeypatch, tmp_path, ADMIN_IDLE_MINUTES=value)
