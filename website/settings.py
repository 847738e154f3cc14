"""Configuration from environment variables, with safe defaults for local use."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent


def boolean(raw: str) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off`` (anything else is a ValueError)."""
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


#: Environment variable -> (config key, converter). Everything else keeps its default.
_ENVIRONMENT = {
    "SECRET_KEY": ("SECRET_KEY", str),
    "RECEIPT_KEYS": ("RECEIPT_KEYS", str),
    "DATABASE_URL": ("DATABASE_URL", str),
    "DATABASE_POOL_SIZE": ("DATABASE_POOL_SIZE", int),
    "DATABASE_MAX_OVERFLOW": ("DATABASE_MAX_OVERFLOW", int),
    "DATABASE_POOL_TIMEOUT": ("DATABASE_POOL_TIMEOUT", int),
    "DATABASE_CONNECT_TIMEOUT": ("DATABASE_CONNECT_TIMEOUT", int),
    "DATABASE_STATEMENT_TIMEOUT_MS": ("DATABASE_STATEMENT_TIMEOUT_MS", int),
    "CONSENT_CATALOG": ("CONSENT_CATALOG", str),
    "LEGAL_TEXTS_DIR": ("LEGAL_TEXTS_DIR", str),
    "TRUSTED_PROXIES": ("TRUSTED_PROXIES", int),
    "CONSENT_MAX_AGE_DAYS": ("CONSENT_MAX_AGE_DAYS", int),
    "GPC_FLUSH_SECONDS": ("GPC_FLUSH_SECONDS", int),
    "PAGE_CACHE": ("PAGE_CACHE", boolean),
    "PAGE_CACHE_SIZE": ("PAGE_CACHE_SIZE", int),
    "RECEIPT_RETENTION_YEARS": ("RECEIPT_RETENTION_YEARS", int),
    "SITE_NAME": ("SITE_NAME", str),
    "CONSENT_LAYOUT": ("CONSENT_LAYOUT", str),
    "CONSENT_REOPEN_BUTTON": ("CONSENT_REOPEN_BUTTON", boolean),
    "CONSENT_COOKIE_DOMAIN": ("CONSENT_COOKIE_DOMAIN", str),
}


class ConfigError(RuntimeError):
    """A setting has a value the app cannot run with."""


def defaults(instance_path: str) -> dict[str, Any]:
    """Settings that are safe for local use on a fresh machine."""
    return {
        "DATABASE_URL": f"sqlite:///{Path(instance_path) / 'receipts.db'}",
        # Pool per app process; seconds, except the statement timeout (milliseconds).
        "DATABASE_POOL_SIZE": 5,
        "DATABASE_MAX_OVERFLOW": 5,
        "DATABASE_POOL_TIMEOUT": 5,
        "DATABASE_CONNECT_TIMEOUT": 5,
        "DATABASE_STATEMENT_TIMEOUT_MS": 5000,
        "CONSENT_CATALOG": str(PACKAGE_DIR / "consent" / "catalog.toml"),
        "LEGAL_TEXTS_DIR": str(PACKAGE_DIR / "legal"),
        "TRUSTED_PROXIES": 0,
        "CONSENT_MAX_AGE_DAYS": 182,
        # GPC-honoured page views are counted in memory and added to the store this often.
        "GPC_FLUSH_SECONDS": 60,
        "RECEIPT_RETENTION_YEARS": 3,
        "SITE_NAME": "Beispiel Digitalagentur",
        # The first layer: "box" (corner card) or "bar"; a floating reopen button is opt-in.
        "CONSENT_LAYOUT": "box",
        "CONSENT_REOPEN_BUTTON": False,
        # e.g. "example.com": one decision for www.example.com and shop.example.com.
        "CONSENT_COOKIE_DOMAIN": None,
        # Request bodies above 16 KiB are refused with 413 before any parsing.
        "MAX_CONTENT_LENGTH": 16 * 1024,
        # The session cookie only carries the CSRF secret; it dies with the browser session.
        "SESSION_COOKIE_NAME": "session",
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        # Tokens are bound to the session; a time limit would only break pages left open.
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": True,
    }


def from_environ(environ: os._Environ[str] | dict[str, str] = os.environ) -> dict[str, Any]:
    """Read the settings the operator gave as environment variables."""
    config: dict[str, Any] = {}
    for variable, (key, convert) in _ENVIRONMENT.items():
        raw = environ.get(variable)
        if raw is None or raw == "":
            continue
        try:
            value = convert(raw)
        except ValueError:
            raise ConfigError(f"{variable}={raw!r} is not a valid {convert.__name__}") from None
        if convert is int and value < 0:
            raise ConfigError(f"{variable}={raw!r} must not be negative")
        config[key] = value
    return config


def persistent_secret(path: Path, make: Callable[[], str]) -> str:
    """The secret in ``path``, created once with ``make()`` (mode 0600; never hard-coded).

    Several gunicorn workers may start at once: the value is written to a temporary file and
    linked into place, so every worker reads the same complete value.
    """
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(make())
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()


def persistent_secret_key(instance_path: str) -> str:
    """The instance's random cookie and session key, created once."""
    return persistent_secret(Path(instance_path) / "secret_key", lambda: secrets.token_hex(32))
