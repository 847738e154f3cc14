"""One pooled SQLAlchemy engine per app, from ``DATABASE_URL``.

* ``sqlite:///path`` (default): WAL (set once by the migration, it is persistent), full fsync,
  a busy timeout; the runtime opens the file read-write but never creates it, so a missing or
  unreadable file is reported, not silently replaced by an empty database.
* ``postgresql://`` (psycopg 3): pool size, overflow, pool and connect timeouts and a server-side
  ``statement_timeout``, so that no request hangs on a stuck database.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.pool import QueuePool

from .errors import StorageError

#: Migrations may take long and wait for each other; they get their own, looser limits.
MIGRATION_TIMEOUT_S = 300
#: A pooled PostgreSQL connection idle for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_S = 1.0


@dataclass(frozen=True)
class DatabaseSettings:
    """What the operator configures (see README, "Configuration")."""

    url: str
    pool_size: int = 5
    max_overflow: int = 5
    #: Seconds a request waits for a free pooled connection.
    pool_timeout: float = 5.0
    #: Seconds to establish a PostgreSQL connection.
    connect_timeout: int = 5
    #: Milliseconds one statement may run (PostgreSQL) or wait for a lock (SQLite busy timeout).
    statement_timeout_ms: int = 5000

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DatabaseSettings:
        return cls(
            url=config["DATABASE_URL"],
            pool_size=int(config.get("DATABASE_POOL_SIZE", cls.pool_size)),
            max_overflow=int(config.get("DATABASE_MAX_OVERFLOW", cls.max_overflow)),
            pool_timeout=float(config.get("DATABASE_POOL_TIMEOUT", cls.pool_timeout)),
            connect_timeout=int(config.get("DATABASE_CONNECT_TIMEOUT", cls.connect_timeout)),
            statement_timeout_ms=int(
                config.get("DATABASE_STATEMENT_TIMEOUT_MS", cls.statement_timeout_ms)
            ),
        )


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL for ``DATABASE_URL``, or a StorageError saying what is accepted."""
    hint = (
        f"DATABASE_URL={safe_url(url)!r} is not supported: use "
        "sqlite:////absolute/path/receipts.db "
        "or postgresql://user@host/dbname"
    )
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(hint) from None
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        if not parsed.database or parsed.database == ":memory:" or parsed.query:
            raise StorageError(hint)
        return parsed.set(drivername="sqlite")
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        if not parsed.database:
            raise StorageError(hint)
        return parsed.set(drivername="postgresql+psycopg")
    raise StorageError(hint)


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable URL>"


def sqlite_file(url: URL) -> Path:
    assert url.database
    return Path(url.database)


def make_engine(settings: DatabaseSettings, *, migrating: bool = False) -> Engine:
    """A pooled engine; it connects lazily, so creating it never fails on a down database."""
    url = parse_url(settings.url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, settings, migrating=migrating)
    return _postgresql_engine(url, settings, migrating=migrating)


def _sqlite_engine(url: URL, settings: DatabaseSettings, *, migrating: bool) -> Engine:
    path = sqlite_file(url)
    busy_ms = MIGRATION_TIMEOUT_S * 1000 if migrating else settings.statement_timeout_ms
    # Read-write, never create at run time (the migration creates the file, mode 0600).
    uri = f"file:{quote(str(path.absolute()))}?mode={'rwc' if migrating else 'rw'}"

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(
            uri,
            uri=True,
            timeout=busy_ms / 1000,
            check_same_thread=False,
            # The migration runs in one explicit BEGIN EXCLUSIVE transaction (see below).
            isolation_level=None if migrating else "",
        )
        try:
            connection.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
            connection.execute("PRAGMA synchronous=FULL")
            if migrating:
                connection.execute("PRAGMA journal_mode=WAL")
        except BaseException:
            connection.close()  # a failed open leaks no file descriptor
            raise
        return connection

    engine = create_engine(
        url,
        creator=connect,
        poolclass=QueuePool,
        pool_size=1 if migrating else settings.pool_size,
        max_overflow=0 if migrating else settings.max_overflow,
        pool_timeout=settings.pool_timeout,
    )
    if migrating:

        @event.listens_for(engine, "begin")
        def begin_exclusive(connection: Any) -> None:
            # Transactional DDL on SQLite: the whole upgrade commits or nothing does, and a
            # second migrator waits here (busy timeout) instead of failing.
            connection.exec_driver_sql("BEGIN EXCLUSIVE")

    return engine


def _postgresql_engine(url: URL, settings: DatabaseSettings, *, migrating: bool) -> Engine:
    statement_ms = 0 if migrating else settings.statement_timeout_ms
    options = f"-c statement_timeout={statement_ms}"
    if not migrating:
        # A request that left a transaction open must not hold locks forever.
        options += f" -c idle_in_transaction_session_timeout={max(statement_ms * 2, 1000)}"
    engine = create_engine(
        url,
        pool_size=1 if migrating else settings.pool_size,
        max_overflow=0 if migrating else settings.max_overflow,
        pool_timeout=settings.pool_timeout,
        pool_recycle=1800,
        connect_args={
            "connect_timeout": settings.connect_timeout,
            "options": options,
            "application_name": "website-migrate" if migrating else "website",
        },
    )
    _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: Engine) -> None:
    """Ping a pooled connection before use only when it sat idle (SQLAlchemy's pessimistic
    disconnect handling, with a custom check).

    ``pool_pre_ping`` pings on every checkout: one more round trip per transaction, and so per
    batch of receipts. A connection in steady use is known to be alive; one that idled may have
    been cut by a database restart or a firewall, and a dead one is replaced here (the pool
    retries with a new connection) rather than failing the request that gets it. A database
    that dies while connections are busy fails their statements, and SQLAlchemy then drops
    every older pooled connection at once.
    """

    @event.listens_for(engine, "checkin")
    def note_idle(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= PING_AFTER_IDLE_S:
            return
        try:
            dbapi_connection.execute("SELECT 1")
            dbapi_connection.rollback()
        except Exception as exc:  # psycopg.OperationalError and friends: the link is gone
            raise DisconnectionError(str(exc)) from exc


def create_sqlite_file(path: Path) -> None:
    """Create an empty database file with mode 0600 (WAL and SHM files inherit it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
