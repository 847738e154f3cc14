"""The operator's admin at ``/admin``: accounts and sessions, dashboard, receipts, exports.

Sessions: Flask-Login on a cookie of their own (``admin_session``, ``Path=/admin``, HttpOnly,
``SameSite=Strict``, ``Secure`` over HTTPS, signed with its own salt), so the public site's
``Lax`` CSRF cookie and the admin's login never share a cookie. A session ends after
``ADMIN_IDLE_MINUTES`` without a request and at the latest ``ADMIN_SESSION_HOURS`` after the
login; changing the password or disabling the account ends every session of that account.

The clock is ``app.config["ADMIN_CLOCK"]`` (a function returning an aware UTC datetime; tests
set it), so lockout and idle timeout are tested without sleeping.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin

from website.i18n import LANGUAGES
from website.settings import ConfigError
from website.store import get_store

from .accounts import Accounts, AdminUser

EXTENSION = "admin"
COOKIE_NAME = "admin_session"
COOKIE_PATH = "/admin"
#: Settings with their defaults; each may also come from the environment variable of its name.
DEFAULTS: dict[str, int] = {"ADMIN_IDLE_MINUTES": 30, "ADMIN_SESSION_HOURS": 12}


def is_admin_path(path: str) -> bool:
    return path == COOKIE_PATH or path.startswith(COOKIE_PATH + "/")


class AdminAwareSessionInterface(SecureCookieSessionInterface):
    """The site's session interface, except under ``/admin``: there a separate, stricter cookie."""

    def __init__(self, site: SecureCookieSessionInterface) -> None:
        self.site = site

    @staticmethod
    def _admin() -> bool:
        return has_request_context() and is_admin_path(request.path)

    def get_signing_serializer(self, app: Flask):  # type: ignore[no-untyped-def]
        if not self._admin():
            return self.site.get_signing_serializer(app)
        serializer = super().get_signing_serializer(app)
        if serializer is not None:
            serializer.salt = "admin-session"
        return serializer

    def get_cookie_name(self, app: Flask) -> str:
        return COOKIE_NAME if self._admin() else self.site.get_cookie_name(app)

    def get_cookie_path(self, app: Flask) -> str:
        return COOKIE_PATH if self._admin() else self.site.get_cookie_path(app)

    def get_cookie_samesite(self, app: Flask) -> str | None:
        return "Strict" if self._admin() else self.site.get_cookie_samesite(app)

    def get_cookie_httponly(self, app: Flask) -> bool:
        return True if self._admin() else self.site.get_cookie_httponly(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        if self._admin():
            return request.is_secure or bool(app.config.get("SESSION_COOKIE_SECURE"))
        return self.site.get_cookie_secure(app)


class AdminPrincipal(UserMixin):
    """The logged-in admin. The session id names the account and a fingerprint of its password
    hash: a new password (or a disabled account) ends every session at the next request."""

    def __init__(self, user: AdminUser) -> None:
        self.user = user
        self.name = user.name

    def get_id(self) -> str:
        return f"{self.user.name}|{fingerprint(self.user)}"


def fingerprint(user: AdminUser) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def utc_now() -> datetime:
    return datetime.now(UTC)


def now() -> datetime:
    clock: Callable[[], datetime] = current_app.config.get("ADMIN_CLOCK") or utc_now
    return clock()


def accounts() -> Accounts:
    return Accounts(get_store().engine, now)


login_manager = LoginManager()
login_manager.login_view = "admin.login"
login_manager.login_message = None  # type: ignore[assignment]
# The idle and absolute timeouts below bound a session; no IP/user-agent binding is kept.
login_manager.session_protection = None  # type: ignore[assignment]


@login_manager.user_loader
def load_user(user_id: str) -> AdminPrincipal | None:
    name, _, mark = user_id.partition("|")
    user = accounts().get(name)
    if user is None or user.disabled or fingerprint(user) != mark:
        return None
    return AdminPrincipal(user)


def _positive(key: str, raw: str) -> int:
    """A whole number of minutes or hours, at least 1 (0 would end every session at once)."""
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ConfigError(f"{key}={raw!r} must be a whole number, at least 1")
    return int(raw)


def init_app(app: Flask) -> None:
    """Register the blueprint, the login manager, the admin's session cookie and commands."""
    from .cli import admin_cli
    from .views import bp

    for key, default in DEFAULTS.items():
        if key not in app.config:
            app.config[key] = _positive(key, os.environ.get(key) or str(default))
        else:
            app.config[key] = _positive(key, str(app.config[key]))
    app.config.setdefault("ADMIN_CLOCK", None)
    language = app.config.get("ADMIN_LANGUAGE") or os.environ.get("ADMIN_LANGUAGE") or "en"
    if language not in LANGUAGES:
        raise ConfigError(f"ADMIN_LANGUAGE={language!r} must be one of {', '.join(LANGUAGES)}")
    app.config["ADMIN_LANGUAGE"] = language
    site = app.session_interface
    assert isinstance(site, SecureCookieSessionInterface)
    app.session_interface = AdminAwareSessionInterface(site)
    login_manager.init_app(app)
    # Flask-Login's after-request hook only refreshes "remember me" cookies, which the admin
    # never sets; it reads the session on every response of the whole site, which would add
    # "Vary: Cookie" to cacheable static files. The admin's own requests do not need it.
    hooks = app.after_request_funcs.get(None, [])
    if login_manager._update_remember_cookie in hooks:
        hooks.remove(login_manager._update_remember_cookie)
    app.register_blueprint(bp)
    app.cli.add_command(admin_cli)
    app.extensions[EXTENSION] = True
