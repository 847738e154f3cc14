"""Every database failure surfaces as one of these, never as a raw driver exception."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

UPGRADE_COMMAND = "flask --app wsgi db upgrade"


class StorageError(RuntimeError):
    """The receipt store cannot do what was asked (the message says why)."""


class StorageUnavailable(StorageError):
    """The database cannot be reached or written right now (down, locked, read-only, full).

    Worth retrying later; the app keeps serving pages meanwhile.
    """


class StorageConflict(StorageError):
    """A write broke a uniqueness or integrity rule (e.g. a receipt id stored twice)."""


class SchemaError(StorageError):
    """The database schema is not the one this code needs (older or newer): refuse to start."""


class SchemaMissing(SchemaError):
    """There is no schema at all yet (a new file or an empty database): nothing can be written
    into a wrong schema, so the app serves pages and answers 503 until it is created."""


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Turn driver and pool errors into :class:`StorageError` subclasses."""
    try:
        yield
    except StorageError:
        raise
    except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
        detail = str(exc.orig) if exc.orig is not None else str(exc)
        if "no such table" in detail:
            raise SchemaMissing(f"{what}: {detail}; run `{UPGRADE_COMMAND}`") from None
        raise StorageUnavailable(f"{what}: {detail}") from None
    except (sa_exc.TimeoutError, sa_exc.DisconnectionError) as exc:
        raise StorageUnavailable(f"{what}: {exc}") from None
    except sa_exc.IntegrityError as exc:
        raise StorageConflict(f"{what}: {exc.orig}") from None
    except sa_exc.ProgrammingError as exc:
        if getattr(exc.orig, "sqlstate", None) == "42P01":  # PostgreSQL: undefined_table
            raise SchemaMissing(f"{what}: {exc.orig}; run `{UPGRADE_COMMAND}`") from None
        raise StorageError(f"{what}: {exc.orig}") from None
    except sa_exc.DBAPIError as exc:
        if type(exc) is sa_exc.DatabaseError:  # e.g. "file is not a database": cannot be used
            raise StorageUnavailable(f"{what}: {exc.orig}") from None
        detail = str(exc.orig) if exc.orig is not None else str(exc)
        raise StorageError(f"{what}: {detail}") from None
    except sa_exc.SQLAlchemyError as exc:
        raise StorageError(f"{what}: {exc}") from None
    except OSError as exc:
        raise StorageUnavailable(f"{what}: {exc}") from None
