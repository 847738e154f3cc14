"""Where receipts are kept: see :mod:`website.store` (this module keeps the old import path)."""

from __future__ import annotations

from website.store import (
    DatabaseSettings,
    ReceiptStore,
    SchemaError,
    SchemaMissing,
    StorageConflict,
    StorageError,
    StorageUnavailable,
    get_store,
    init_app,
    open_store,
    upgrade,
)

__all__ = [
    "DatabaseSettings",
    "ReceiptStore",
    "SchemaError",
    "SchemaMissing",
    "StorageConflict",
    "StorageError",
    "StorageUnavailable",
    "get_store",
    "init_app",
    "open_store",
    "upgrade",
]
