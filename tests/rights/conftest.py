"""The browser fixtures (live server on SQLite and PostgreSQL, chromium, axe) for the pages of
this package; the other tests here use the shared ``app``/``client``/``store`` fixtures."""

from tests.browser.conftest import axe_source, browser, server, visit  # noqa: F401
