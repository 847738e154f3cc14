"""The banner's settings: CONSENT_LAYOUT, CONSENT_REOPEN_BUTTON, CONSENT_COOKIE_DOMAIN."""

from __future__ import annotations

import pytest

from website import create_app
from website.settings import ConfigError, from_environ


def test_settings_from_the_environment():
    config = from_environ({"CONSENT_LAYOUT": "bar", "CONSENT_REOPEN_BUTTON": "yes",
                           "CONSENT_COOKIE_DOMAIN": "example.com"})
    assert config == {"CONSENT_LAYOUT": "bar", "CONSENT_REOPEN_BUTTON": True,
                      "CONSENT_COOKIE_DOMAIN": "example.com"}
    assert from_environ({"CONSENT_REOPEN_BUTTON": "0"}) == {"CONSENT_REOPEN_BUTTON": False}
    with pytest.raises(ConfigError, match="CONSENT_REOPEN_BUTTON='maybe'"):
        from_environ({"CONSENT_REOPEN_BUTTON": "maybe"})


def test_unknown_layout_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="CONSENT_LAYOUT='popup' must be one of box, bar"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "CONSENT_LAYOUT": "popup",
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"})


@pytest.mark.parametrize("layout", ["box", "bar"])
def test_layout_class_on_the_first_layer(tmp_path, layout):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "CONSENT_LAYOUT": layout,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"})
    html = app.test_client().get("/").get_data(as_text=True)
    assert f'class="consent-banner cc-{layout}"' in html
    assert "cc-reopen" not in html  # off by default
