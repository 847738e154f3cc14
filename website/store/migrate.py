"""Schema migrations with Alembic, safe when several processes run them at once.

``flask --app wsgi db upgrade`` (or a deploy step) runs :func:`upgrade`; the app itself never
migrates, it only checks the revision at start-up (:func:`head_revision`).

Concurrency: on SQLite an exclusive ``flock`` on ``<db>.migrate-lock`` serialises whole runs
(including the first connection, which switches the file to WAL), and the run itself is one
``BEGIN EXCLUSIVE`` transaction. On PostgreSQL the run is one transaction that first takes
``pg_advisory_xact_lock``. Either way a second migrator waits, then finds the head already there.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, inspect, text

from .engine import DatabaseSettings, create_sqlite_file, make_engine, parse_url, sqlite_file
from .errors import SchemaError, SchemaMissing, StorageError, translated

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Any fixed 64-bit number, the same in every process: "the receipt store is being migrated".
ADVISORY_LOCK_KEY = 0x7265636569707473  # "receipts"
#: The hand-written store's ``schema_version`` numbers and the revisions that equal them.
LEGACY_VERSIONS = {1: "0001", 2: "0002"}


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@cache
def head_revision() -> str:
    """The revision this code needs (read once from the migrations folder)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    """The database's revision; a hand-written v1/v2 file counts as its equivalent revision."""
    revision = MigrationContext.configure(connection).get_current_revision()
    if revision is not None:
        return revision
    legacy = _legacy_version(connection)
    return LEGACY_VERSIONS.get(legacy) if legacy else None


def _legacy_version(connection: Connection) -> int | None:
    if not inspect(connection).has_table("schema_version"):
        return None
    version = connection.execute(text("SELECT MAX(version) FROM schema_version")).scalar()
    return int(version or 0)


def known_revision(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def upgrade(url: str | DatabaseSettings) -> str:
    """Bring the database to the head revision; returns it. Safe to run concurrently."""
    settings = url if isinstance(url, DatabaseSettings) else DatabaseSettings(url)
    parsed = parse_url(settings.url)
    with translated("cannot migrate the receipt database"), _process_lock(settings):
        engine = make_engine(settings, migrating=True)
        try:
            with engine.connect() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
                    )
                else:
                    connection.begin()  # BEGIN EXCLUSIVE (see engine.py)
                _stamp_legacy(connection)
                revision = MigrationContext.configure(connection).get_current_revision()
                if revision is not None and not known_revision(revision):
                    raise SchemaError(
                        f"the receipt database is at revision {revision!r}, newer than this "
                        f"code ({head_revision()!r}): deploy the newer code"
                    )
                config = alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                connection.commit()
        finally:
            engine.dispose()
    if parsed.get_backend_name() == "sqlite":
        _tighten_sqlite_modes(sqlite_file(parsed))
    return head_revision()


def _stamp_legacy(connection: Connection) -> None:
    """Give a hand-written v1/v2 file the Alembic revision its schema equals."""
    if MigrationContext.configure(connection).get_current_revision() is not None:
        return
    legacy = _legacy_version(connection)
    if not legacy:
        return
    if legacy not in LEGACY_VERSIONS:
        raise SchemaError(
            f"the receipt database has hand-written schema version {legacy}, which this code "
            "does not know"
        )
    config = alembic_config()
    config.attributes["connection"] = connection
    command.stamp(config, LEGACY_VERSIONS[legacy])


@contextmanager
def _process_lock(settings: DatabaseSettings) -> Iterator[None]:
    """On SQLite, one migrator at a time per file (other processes block here)."""
    url = parse_url(settings.url)
    if url.get_backend_name() != "sqlite":
        yield
        return
    path = sqlite_file(url)
    create_sqlite_file(path)
    fd = os.open(f"{path}.migrate-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _tighten_sqlite_modes(path: Path) -> None:
    """Receipts are personal data: the file and its WAL/SHM companions are owner-only."""
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if candidate.stat().st_mode & 0o077:
                candidate.chmod(0o600)
        except FileNotFoundError:
            pass


def check_revision(connection: Connection) -> None:
    """Raise :class:`SchemaError` unless the database is at the head revision."""
    revision = current_revision(connection)
    head = head_revision()
    if revision == head:
        return
    if revision is None:
        raise SchemaMissing(
            "the receipt database has no schema yet: run `flask --app wsgi db upgrade`"
        )
    if not known_revision(revision):
        raise SchemaError(
            f"the receipt database is at revision {revision!r}, newer than this code "
            f"({head!r}): deploy the newer code"
        )
    raise SchemaError(
        f"the receipt database is at revision {revision!r}, this code needs {head!r}: "
        "run `flask --app wsgi db upgrade`"
    )


__all__ = ["StorageError", "check_revision", "current_revision", "head_revision", "upgrade"]
