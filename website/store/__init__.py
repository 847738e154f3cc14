"""The receipt store: SQLAlchemy Core on SQLite (embedded) or PostgreSQL (several nodes).

The app opens one pooled engine at start-up and checks that the schema is the head revision;
it never migrates (``flask --app wsgi db upgrade`` does) and refuses to start on an older or
newer schema. A database that cannot be opened, or holds no schema yet, does not stop the app:
pages and ``/healthz`` keep working, recording answers 503 and ``/readyz`` says why, until the
database is back or migrated (the pool reconnects by itself).
"""

from __future__ import annotations

import click
from flask import Flask, current_app

from .engine import DatabaseSettings, make_engine, parse_url, safe_url
from .errors import (
    UPGRADE_COMMAND,
    SchemaError,
    SchemaMissing,
    StorageConflict,
    StorageError,
    StorageUnavailable,
)
from .keys import ReceiptKeyError, keyring_from_config
from .migrate import head_revision, upgrade
from .store import ReceiptStore, open_store

EXTENSION = "receipt_store"


def get_store() -> ReceiptStore:
    """The app's store (one pooled engine per app, shared by every request)."""
    return current_app.extensions[EXTENSION]


def _loaded_by_cli() -> bool:
    """True when a ``flask ...`` command loaded the app (it may be about to run ``db upgrade``)."""
    return click.get_current_context(silent=True) is not None


def init_app(app: Flask) -> ReceiptStore:
    """Open the pool, check the schema, register ``/readyz``, the 503 handler and ``db``."""
    from .. import health
    from .cli import db_cli, init_db_command

    store = ReceiptStore(
        DatabaseSettings.from_config(app.config),
        keyring_from_config(app.config, app.instance_path),
    )
    app.extensions[EXTENSION] = store
    try:
        store.check_schema()
    except (StorageUnavailable, SchemaMissing) as exc:
        # Not fatal: a worker that cannot open the database, or finds no schema in it yet, still
        # serves pages and /healthz; recording answers 503 and /readyz says why. (Quiet for a
        # `flask` command on a new database: it is most likely `db upgrade` creating it.)
        if not (isinstance(exc, SchemaMissing) and _loaded_by_cli()):
            app.logger.warning("receipt store not usable at start-up (%s); recording answers "
                               "503 until it is", exc)
    except SchemaError as exc:
        if not _loaded_by_cli():
            raise SchemaError(f"refusing to start: {exc}") from None
        app.logger.warning("%s", exc)
    health.init_app(app)
    app.cli.add_command(db_cli)
    app.cli.add_command(init_db_command)
    return store


__all__ = [
    "UPGRADE_COMMAND",
    "DatabaseSettings",
    "ReceiptKeyError",
    "ReceiptStore",
    "SchemaError",
    "SchemaMissing",
    "StorageConflict",
    "StorageError",
    "StorageUnavailable",
    "get_store",
    "head_revision",
    "init_app",
    "keyring_from_config",
    "make_engine",
    "open_store",
    "parse_url",
    "safe_url",
    "upgrade",
]
