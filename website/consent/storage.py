"""Where receipts are kept: an append-only, versioned store (SQLite by default).

The interface is small on purpose (add, history, export, purge, notices) and the SQL portable, so
that another backend (PostgreSQL) can implement the same class. Every write is one transaction;
SQLite runs in WAL mode with full fsync, because a receipt is proof and must not be lost.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import click
from flask import Flask, current_app, g
from flask.cli import with_appcontext

from .receipts import Notice, Receipt

#: Each entry moves the schema one version up; never edit an entry once released.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE receipts (
            receipt_id TEXT PRIMARY KEY,
            consent_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revision TEXT NOT NULL,
            notice_hash TEXT NOT NULL,
            language TEXT NOT NULL,
            method TEXT NOT NULL,
            action TEXT NOT NULL,
            categories TEXT NOT NULL,
            services TEXT NOT NULL,
            page_path TEXT NOT NULL,
            ip_prefix TEXT NOT NULL,
            ua_browser TEXT NOT NULL,
            ua_os TEXT NOT NULL,
            ua_device TEXT NOT NULL
        )""",
        "CREATE INDEX receipts_by_consent ON receipts (consent_id, created_at)",
        "CREATE INDEX receipts_by_time ON receipts (created_at)",
        """CREATE TABLE notices (
            notice_hash TEXT PRIMARY KEY,
            revision TEXT NOT NULL,
            language TEXT NOT NULL,
            content TEXT NOT NULL
        )""",
        # SQLite only: receipts are proof, so an UPDATE is refused by the database itself.
        """CREATE TRIGGER receipts_are_immutable BEFORE UPDATE ON receipts
           BEGIN SELECT RAISE(ABORT, 'consent receipts are immutable'); END""",
    ),
    (
        # The banner's idempotency key: a retried request stores its decision only once.
        "ALTER TABLE receipts ADD COLUMN decision_id TEXT",
        "CREATE UNIQUE INDEX receipts_by_decision_id ON receipts (decision_id)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
_COLUMNS = (
    "receipt_id, consent_id, created_at, revision, notice_hash, language, method, action, "
    "categories, services, page_path, ip_prefix, ua_browser, ua_os, ua_device, decision_id"
)


class StorageError(RuntimeError):
    """The receipt store cannot be opened or used."""


def sqlite_path(url: str) -> str:
    """The file path in a ``sqlite:///relative`` or ``sqlite:////absolute`` URL."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise StorageError(
            f"DATABASE_URL={url!r} is not supported: use sqlite:////absolute/path/receipts.db"
        )
    return url[len(prefix) :]


class SQLiteReceiptStore:
    """Receipts in one SQLite file (WAL mode)."""

    def __init__(self, path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(path, timeout=10, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the receipt database {path}: {exc}") from None
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA busy_timeout=10000")

    def close(self) -> None:
        self.db.close()

    def schema_version(self) -> int:
        exists = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'"
        ).fetchone()
        if not exists:
            return 0
        row = self.db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return row[0] or 0

    def migrate(self) -> int:
        """Bring the schema to the current version; safe to run from several processes."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            current = self.schema_version()
            if current > SCHEMA_VERSION:
                raise StorageError(
                    f"the database has schema version {current}, newer than this code "
                    f"({SCHEMA_VERSION})"
                )
            for version in range(current, SCHEMA_VERSION):
                for statement in MIGRATIONS[version]:
                    self.db.execute(statement)
                self.db.execute("INSERT INTO schema_version (version) VALUES (?)", (version + 1,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return SCHEMA_VERSION

    def add(self, receipt: Receipt, notice: Notice) -> Receipt:
        """Store a receipt and, the first time it is used, the notice it refers to.

        A receipt whose ``decision_id`` is already stored is a retry of the same decision: the
        stored receipt is returned and nothing new is written.
        """
        if receipt.decision_id:
            existing = self.by_decision_id(receipt.decision_id)
            if existing:
                return existing
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute(
                "INSERT INTO notices (notice_hash, revision, language, content) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (notice_hash) DO NOTHING",
                (notice.notice_hash, notice.revision, notice.language, notice.content),
            )
            self.db.execute(
                f"INSERT INTO receipts ({_COLUMNS}) VALUES ({', '.join('?' * 16)})",
                _row(receipt),
            )
            self.db.execute("COMMIT")
        except sqlite3.IntegrityError:
            self.db.execute("ROLLBACK")
            existing = self.by_decision_id(receipt.decision_id) if receipt.decision_id else None
            if existing is None:
                raise
            return existing  # the same retry arrived twice at once
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return receipt

    def by_decision_id(self, decision_id: str) -> Receipt | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM receipts WHERE decision_id = ?", (decision_id,)
        ).fetchone()
        return _receipt(row) if row else None

    def history(self, consent_id: str) -> list[Receipt]:
        """One visitor's receipts, oldest first."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM receipts WHERE consent_id = ? "
            "ORDER BY created_at, receipt_id",
            (consent_id,),
        )
        return [_receipt(row) for row in rows]

    def export(self) -> Iterator[Receipt]:
        """Every receipt, oldest first, streamed."""
        for row in self.db.execute(
            f"SELECT {_COLUMNS} FROM receipts ORDER BY created_at, receipt_id"
        ):
            yield _receipt(row)

    def notice(self, notice_hash: str) -> Notice | None:
        row = self.db.execute(
            "SELECT notice_hash, revision, language, content FROM notices WHERE notice_hash = ?",
            (notice_hash,),
        ).fetchone()
        return Notice(*row) if row else None

    _EXPIRED_VISITORS = (
        "SELECT consent_id FROM receipts GROUP BY consent_id HAVING MAX(created_at) < ?"
    )

    def count_expired(self, before: str) -> int:
        """How many receipts :meth:`purge` would delete."""
        row = self.db.execute(
            f"SELECT COUNT(*) FROM receipts WHERE consent_id IN ({self._EXPIRED_VISITORS})",
            (before,),
        ).fetchone()
        return row[0]

    def purge(self, before: str) -> int:
        """Delete every visitor's receipts whose newest receipt is older than ``before``.

        A visitor's history is kept whole while any of it is still needed as proof.
        """
        self.db.execute("BEGIN IMMEDIATE")
        try:
            cursor = self.db.execute(
                f"DELETE FROM receipts WHERE consent_id IN ({self._EXPIRED_VISITORS})", (before,)
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return cursor.rowcount


def _row(receipt: Receipt) -> tuple[object, ...]:
    return (
        receipt.receipt_id,
        receipt.consent_id,
        receipt.created_at,
        receipt.revision,
        receipt.notice_hash,
        receipt.language,
        receipt.method,
        receipt.action,
        json.dumps(receipt.categories, sort_keys=True),
        json.dumps(receipt.services, sort_keys=True),
        receipt.page_path,
        receipt.ip_prefix,
        receipt.ua_browser,
        receipt.ua_os,
        receipt.ua_device,
        receipt.decision_id,
    )


def _receipt(row: tuple[object, ...]) -> Receipt:
    values = list(row)
    values[8] = json.loads(values[8])  # categories
    values[9] = json.loads(values[9])  # services
    return Receipt(*values)  # type: ignore[arg-type]


def open_store(url: str) -> SQLiteReceiptStore:
    return SQLiteReceiptStore(sqlite_path(url))


def get_store() -> SQLiteReceiptStore:
    """The request's store, opened on first use and closed at teardown."""
    if "receipt_store" not in g:
        g.receipt_store = open_store(current_app.config["DATABASE_URL"])
    return g.receipt_store


def close_store(exc: BaseException | None = None) -> None:
    store = g.pop("receipt_store", None)
    if store is not None:
        store.close()


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the receipt database."""
    store = open_store(current_app.config["DATABASE_URL"])
    try:
        version = store.migrate()
    finally:
        store.close()
    click.echo(f"Receipt database ready (schema version {version}).")


def init_app(app: Flask) -> None:
    """Check the database URL, bring the schema up to date, register teardown and CLI."""
    store = open_store(app.config["DATABASE_URL"])
    try:
        store.migrate()
    finally:
        store.close()
    app.teardown_appcontext(close_store)
    app.cli.add_command(init_db_command)
