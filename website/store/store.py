"""The receipt store: append-only receipts, the notices they point to, a GPC view counter.

Portable SQL only (SQLAlchemy Core); the two places where SQLite and PostgreSQL spell a statement
differently (``INSERT ... ON CONFLICT``) use each dialect's own construct. Each write is one
transaction; every failure leaves as a :class:`StorageError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, Row, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from website.consent.receipts import Notice, Receipt

from .engine import DatabaseSettings, make_engine, parse_url, safe_url, sqlite_file
from .errors import (
    SchemaMissing,
    StorageConflict,
    StorageError,
    StorageUnavailable,
    translated,
)
from .migrate import check_revision
from .tables import RECEIPT_COLUMNS, gpc_views, notices, receipts

#: Rows fetched per round trip when streaming an export (memory stays flat).
EXPORT_BATCH = 500


class ReceiptStore:
    """Receipts in SQLite or PostgreSQL through one pooled engine."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self.settings = settings
        self.url = parse_url(settings.url)
        self.engine: Engine = make_engine(settings)
        self.backend = self.url.get_backend_name()

    def __repr__(self) -> str:
        return f"ReceiptStore({safe_url(self.settings.url)!r})"

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def _insert(self, table: Any) -> Any:
        dialect = postgresql if self.backend == "postgresql" else sqlite
        return dialect.insert(table)

    # --- readiness ---------------------------------------------------------------------------

    def check_schema(self) -> None:
        """Raise :class:`SchemaError` unless the schema is the head revision, or
        :class:`StorageUnavailable` when the database cannot be opened."""
        if self.backend == "sqlite":
            self._check_sqlite_file()
        with translated("cannot open the receipt database"), self.engine.connect() as connection:
            check_revision(connection)

    def check_ready(self) -> None:
        """For ``/readyz``: the schema is current and the database takes writes right now."""
        if self.backend == "sqlite":
            self._check_sqlite_file()
        with translated("the receipt database is not ready"), self.engine.connect() as connection:
            check_revision(connection)
            if self.backend == "sqlite":
                # Takes (and gives back) the write lock: fails when read-only or locked.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                connection.exec_driver_sql("ROLLBACK")
            elif connection.execute(text("SHOW transaction_read_only")).scalar() == "on":
                raise StorageUnavailable("the receipt database is read-only (a standby?)")
            connection.rollback()

    def _check_sqlite_file(self) -> None:
        path = sqlite_file(self.url)
        try:
            path.parent.stat()
        except OSError as exc:
            raise StorageUnavailable(f"cannot open the receipt database folder: {exc}") from None
        try:
            path.stat()
        except FileNotFoundError:
            raise SchemaMissing(
                f"there is no receipt database at {path}: run `flask --app wsgi db upgrade`"
            ) from None
        except OSError as exc:
            raise StorageUnavailable(f"cannot open the receipt database: {exc}") from None
        if not os.access(path, os.R_OK):
            raise StorageUnavailable(f"cannot read the receipt database {path}")

    # --- receipts ----------------------------------------------------------------------------

    def add(self, receipt: Receipt, notice: Notice) -> Receipt:
        """Store a receipt and, the first time it is used, the notice it refers to.

        A receipt whose ``(consent_id, decision_id)`` is already stored is a retry of the same
        decision: the stored receipt is returned (compare ``receipt_id``) and nothing is written.
        """
        if receipt.decision_id:
            existing = self.by_decision_id(receipt.consent_id, receipt.decision_id)
            if existing is not None:
                return existing
        try:
            with translated("cannot store the receipt"), self.engine.begin() as connection:
                connection.execute(
                    self._insert(notices)
                    .values(
                        notice_hash=notice.notice_hash,
                        revision=notice.revision,
                        language=notice.language,
                        content=notice.content,
                    )
                    .on_conflict_do_nothing(index_elements=["notice_hash"])
                )
                connection.execute(receipts.insert().values(_row(receipt)))
        except StorageConflict:
            if receipt.decision_id:
                existing = self.by_decision_id(receipt.consent_id, receipt.decision_id)
                if existing is not None:
                    return existing  # the same retry arrived twice at once
            raise
        return receipt

    def get(self, receipt_id: str) -> Receipt | None:
        """One receipt by its id."""
        return self._one(receipts.c.receipt_id == receipt_id)

    def by_decision_id(self, consent_id: str, decision_id: str) -> Receipt | None:
        """The receipt this visitor stored under ``decision_id``, if any."""
        return self._one(
            (receipts.c.consent_id == consent_id) & (receipts.c.decision_id == decision_id)
        )

    def _one(self, where: Any) -> Receipt | None:
        with translated("cannot read receipts"), self.engine.connect() as connection:
            row = connection.execute(select(receipts).where(where)).first()
        return _receipt(row) if row is not None else None

    def history(self, consent_id: str) -> list[Receipt]:
        """One visitor's receipts, oldest first."""
        query = (
            select(receipts)
            .where(receipts.c.consent_id == consent_id)
            .order_by(receipts.c.created_at, receipts.c.receipt_id)
        )
        with translated("cannot read receipts"), self.engine.connect() as connection:
            return [_receipt(row) for row in connection.execute(query)]

    def export(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[Receipt]:
        """Every receipt (``since <= created_at < until`` when given), oldest first, streamed
        in batches (flat memory); the period is a ``WHERE`` clause, not a filter in Python."""
        query = select(receipts).order_by(receipts.c.created_at, receipts.c.receipt_id)
        if since is not None:
            query = query.where(receipts.c.created_at >= _aware(since))
        if until is not None:
            query = query.where(receipts.c.created_at < _aware(until))
        with translated("cannot export receipts"), self.engine.connect() as connection:
            result = connection.execution_options(yield_per=EXPORT_BATCH).execute(query)
            for row in result:
                yield _receipt(row)

    def count(self) -> int:
        """How many receipts the store holds."""
        with translated("cannot count receipts"), self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(receipts)).scalar_one())

    def notice(self, notice_hash: str) -> Notice | None:
        query = select(notices).where(notices.c.notice_hash == notice_hash)
        with translated("cannot read notices"), self.engine.connect() as connection:
            row = connection.execute(query).first()
        return Notice(row.notice_hash, row.revision, row.language, row.content) if row else None

    # --- retention ---------------------------------------------------------------------------

    @staticmethod
    def _expired_visitors(before: datetime) -> Any:
        _aware(before)
        return (
            select(receipts.c.consent_id)
            .group_by(receipts.c.consent_id)
            .having(func.max(receipts.c.created_at) < before)
        )

    def count_expired(self, before: datetime) -> int:
        """How many receipts :meth:`purge` would delete."""
        query = select(func.count()).where(
            receipts.c.consent_id.in_(self._expired_visitors(before))
        )
        with translated("cannot count receipts"), self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def purge(self, before: datetime) -> int:
        """Delete every visitor's receipts whose newest receipt is older than ``before``.

        A visitor's history is kept whole while any of it is still needed as proof.
        """
        query = receipts.delete().where(receipts.c.consent_id.in_(self._expired_visitors(before)))
        with translated("cannot purge receipts"), self.engine.begin() as connection:
            return int(connection.execute(query).rowcount)

    # --- GPC counter -------------------------------------------------------------------------

    def add_gpc_views(self, day: date, count: int) -> None:
        """Add ``count`` GPC-honoured page views to ``day``'s total (one upsert)."""
        if count < 0:
            raise ValueError("a view count cannot be negative")
        insert = self._insert(gpc_views).values(day=day, views=count)
        statement = insert.on_conflict_do_update(
            index_elements=["day"], set_={"views": gpc_views.c.views + insert.excluded.views}
        )
        with translated("cannot count GPC views"), self.engine.begin() as connection:
            connection.execute(statement)

    def gpc_views(self, since: date, until: date) -> dict[date, int]:
        """Daily GPC view counts for ``since <= day <= until`` (days without views are absent)."""
        query = (
            select(gpc_views.c.day, gpc_views.c.views)
            .where(gpc_views.c.day >= since, gpc_views.c.day <= until)
            .order_by(gpc_views.c.day)
        )
        with translated("cannot read GPC views"), self.engine.connect() as connection:
            return {row.day: int(row.views) for row in connection.execute(query)}


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware UTC time")
    return moment.astimezone(UTC)


def _row(receipt: Receipt) -> dict[str, Any]:
    return {name: getattr(receipt, name) for name in RECEIPT_COLUMNS}


def _receipt(row: Row[Any]) -> Receipt:
    return Receipt(**row._asdict())


def open_store(url: str | DatabaseSettings) -> ReceiptStore:
    """A store with its own pool (CLI, tests); call :meth:`ReceiptStore.close` when done."""
    settings = url if isinstance(url, DatabaseSettings) else DatabaseSettings(url)
    return ReceiptStore(settings)


__all__ = ["ReceiptStore", "StorageError", "StorageUnavailable", "open_store"]
