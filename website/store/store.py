"""The receipt store: append-only receipts, the notices they point to, a GPC view counter.

Portable SQL only (SQLAlchemy Core); the two places where SQLite and PostgreSQL spell a statement
differently (``INSERT ... ON CONFLICT``) use each dialect's own construct. Each write is one
transaction; every failure leaves as a :class:`StorageError`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite

from website.consent.proof import GENESIS, KeyRing, RemovalNote, Seal, seal_day, seal_mac
from website.consent.receipts import Notice, Receipt

from .engine import DatabaseSettings, make_engine, parse_url, safe_url, sqlite_file
from .errors import (
    SchemaMissing,
    StorageConflict,
    StorageError,
    StorageUnavailable,
    translated,
)
from .group_commit import GroupCommit
from .migrate import check_revision
from .tables import RECEIPT_COLUMNS, gpc_views, notices, receipts, removal_notes, seals
from .write_lock import WriteLock

#: Rows fetched per round trip when streaming an export (memory stays flat).
EXPORT_BATCH = 500
#: Receipts removed per statement by purge/erase (all in one transaction).
REMOVE_BATCH = 500
#: Tries of one day's seal transaction when PostgreSQL reports a serialization conflict (a
#: concurrent ``receipts seal`` wrote the same day first; the retry then finds it sealed).
SEAL_TRIES = 5


class ReceiptStore:
    """Receipts in SQLite or PostgreSQL through one pooled engine."""

    def __init__(self, settings: DatabaseSettings, keys: KeyRing | None = None) -> None:
        self.settings = settings
        #: Signs every receipt at insert time (the app and the CLI always pass it; a store
        #: without keys, as tests and tools open it, stores receipts unsigned).
        self.keys = keys
        self.url = parse_url(settings.url)
        self.engine: Engine = make_engine(settings)
        self.backend = self.url.get_backend_name()
        self._insert_notice = self._insert(notices).on_conflict_do_nothing(
            index_elements=["notice_hash"]
        )
        # SQLite: the group commits of several processes take turns through a file lock.
        self._sqlite_lock = WriteLock(sqlite_file(self.url)) if self.backend == "sqlite" else None
        self._stored_notices: set[str] = set()  # notice hashes committed through this store
        # A retry's decision is stored already: the unique (consent_id, decision_id) index
        # skips it, and RETURNING tells which rows went in (any other conflict still fails).
        self._insert_receipt = (
            self._insert(receipts)
            .on_conflict_do_nothing(index_elements=["consent_id", "decision_id"])
            .returning(receipts.c.receipt_id)
        )
        self._group_commit: GroupCommit[tuple[Receipt, Notice], Receipt] = GroupCommit(
            self._write_batch, settings.pool_timeout + settings.statement_timeout_ms / 1000
        )

    def __repr__(self) -> str:
        return f"ReceiptStore({safe_url(self.settings.url)!r})"

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self._sqlite_lock is not None:
            self._sqlite_lock.close()

    def _write_lock(self) -> AbstractContextManager[None]:
        if self._sqlite_lock is None:
            return nullcontext()
        return self._sqlite_lock.held(self.settings.statement_timeout_ms / 1000)

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
        """Store a receipt and, the first time it is used, the notice it refers to; return the
        stored receipt once it is committed.

        A receipt whose ``(consent_id, decision_id)`` is already stored is a retry of the same
        decision: the stored receipt is returned (compare ``receipt_id``) and nothing is written.
        Receipts that concurrent requests add share one transaction (:mod:`.group_commit`).
        """
        if self.keys is not None and receipt.hmac is None:
            key_id, mac = self.keys.sign(receipt.as_json())
            receipt = replace(receipt, key_id=key_id, hmac=mac)
        return self._group_commit.submit((receipt, notice))

    def _write_batch(
        self, batch: Sequence[tuple[Receipt, Notice]]
    ) -> list[Receipt | BaseException]:
        """Write a batch of receipts in one transaction; per receipt, what is stored for it.

        Retries (a ``(consent_id, decision_id)`` already stored, or twice in this batch) write
        nothing and get the stored receipt. If the transaction breaks another integrity rule (a
        receipt id stored twice), each receipt is written on its own, so that one bad receipt
        fails only its own request.
        """
        with translated("cannot store the receipt"):
            try:
                with self._write_lock(), self.engine.begin() as connection:
                    results = self._insert_batch(connection, batch)
                self._stored_notices.update(notice.notice_hash for _, notice in batch)
                return results
            except sa_exc.IntegrityError:
                if len(batch) == 1:
                    raise
        results: list[Receipt | BaseException] = []
        for item in batch:
            try:
                results.append(self._write_batch([item])[0])
            except StorageConflict as exc:
                receipt = item[0]
                existing = (
                    self.by_decision_id(receipt.consent_id, receipt.decision_id)
                    if receipt.decision_id
                    else None
                )
                results.append(existing if existing is not None else exc)
            except StorageError as exc:  # the others may still be stored: say so per receipt
                results.append(exc)
        return results

    def _insert_batch(
        self, connection: Connection, batch: Sequence[tuple[Receipt, Notice]]
    ) -> list[Receipt | BaseException]:
        """Insert the batch's notices and receipts; a receipt whose ``(consent_id,
        decision_id)`` is stored already (a retry) is skipped by the database itself and
        answered with the stored one, so the common case, a new decision, costs no lookup."""
        # A notice this store has committed once is there (notices are never deleted): only
        # the first batch of each revision and language writes it.
        new_notices = {
            notice.notice_hash: notice
            for _, notice in batch
            if notice.notice_hash not in self._stored_notices
        }
        if new_notices:
            connection.execute(
                self._insert_notice,
                [
                    {"notice_hash": n.notice_hash, "revision": n.revision,
                     "language": n.language, "content": n.content}
                    for n in new_notices.values()
                ],
            )
        inserted = set(
            connection.execute(self._insert_receipt, [_row(r) for r, _ in batch]).scalars()
        )
        results: list[Receipt | BaseException] = []
        for receipt, _ in batch:
            if receipt.receipt_id in inserted:
                results.append(receipt)
                continue
            stored = connection.execute(
                select(receipts).where(
                    (receipts.c.consent_id == receipt.consent_id)
                    & (receipts.c.decision_id == receipt.decision_id)
                )
            ).first()
            if stored is None:  # cannot happen: only the decision index may skip a row
                raise StorageError(f"receipt {receipt.receipt_id} was neither stored nor found")
            results.append(_receipt(stored))
        return results

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

        A visitor's history is kept whole while any of it is still needed as proof. Each
        deleted receipt leaves a removal note (same transaction), so ``receipts verify`` tells
        the purge from tampering.
        """
        where = receipts.c.consent_id.in_(self._expired_visitors(before))
        with translated("cannot purge receipts"), self.engine.begin() as connection:
            return self.remove_receipts(connection, where, "retention")

    def erase(self, consent_id: str, reason: str = "erasure") -> int:
        """Delete one visitor's receipts (Art. 17 GDPR) and write their removal notes, in one
        transaction; the number deleted (0 for an unknown consent id)."""
        where = receipts.c.consent_id == consent_id
        with translated("cannot erase receipts"), self.engine.begin() as connection:
            return self.remove_receipts(connection, where, reason)

    def remove_receipts(self, connection: Connection, where: Any, reason: str) -> int:
        """Delete the receipts matching ``where`` inside the caller's transaction, writing a
        removal note for each (so ``receipts verify`` tells deletion on purpose from
        tampering). Every deletion of receipts goes through here: retention, erasure."""
        removed_at = datetime.now(UTC)
        total = 0
        while True:
            rows = connection.execute(select(receipts).where(where).limit(REMOVE_BATCH)).all()
            if not rows:
                return total
            found = [_receipt(row) for row in rows]
            connection.execute(
                removal_notes.insert(),
                [
                    {
                        "receipt_id": receipt.receipt_id,
                        "day": receipt.created_at.date(),
                        "hmac": seal_mac(receipt.as_json()),
                        "reason": reason,
                        "removed_at": removed_at,
                    }
                    for receipt in found
                ],
            )
            ids = [receipt.receipt_id for receipt in found]
            total += int(
                connection.execute(receipts.delete().where(receipts.c.receipt_id.in_(ids)))
                .rowcount
            )

    # --- tamper evidence (docs/proof.md) -----------------------------------------------------

    def seal(self, until: date) -> list[Seal]:
        """Seal every UTC day up to ``until`` that is not sealed yet, oldest first; the new
        seals (none when all are sealed: idempotent).

        One transaction per day, which reads the chain's last digest and inserts the day's seal
        if absent (the day is the primary key). Concurrent runs are safe: SQLite serialises the
        transactions (``BEGIN IMMEDIATE``); on PostgreSQL each runs at REPEATABLE READ (receipts
        and removal notes read from one snapshot), and a run that loses the race retries and
        finds the day sealed. Inserting receipts takes no lock for this: the caller seals only
        days that are over (see ``receipts seal``).
        """
        written: list[Seal] = []
        with translated("cannot seal receipts"):
            while True:
                outcome = self._seal_next(until)
                if outcome is None:
                    return written
                if isinstance(outcome, Seal):
                    written.append(outcome)

    def _seal_next(self, until: date) -> Seal | bool | None:
        """Seal the next unsealed day: the seal, True if another run sealed it, None if none."""
        for attempt in range(SEAL_TRIES):
            try:
                with self.engine.connect() as connection:
                    if self.backend == "postgresql":
                        connection = connection.execution_options(
                            isolation_level="REPEATABLE READ"
                        )
                    else:
                        connection.exec_driver_sql("BEGIN IMMEDIATE")
                    result = self._seal_in(connection, until)
                    connection.commit()
                    return result
            except sa_exc.DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) != "40001" or attempt + 1 == SEAL_TRIES:
                    raise
        return None  # not reached

    def _seal_in(self, connection: Connection, until: date) -> Seal | bool | None:
        last = connection.execute(
            select(seals.c.day, seals.c.digest).order_by(seals.c.day.desc()).limit(1)
        ).first()
        if last is not None:
            day, previous = last.day + timedelta(days=1), last.digest
        else:
            first_receipt = connection.execute(select(func.min(receipts.c.created_at))).scalar()
            first_note = connection.execute(select(func.min(removal_notes.c.day))).scalar()
            firsts = [d for d in (_as_day(first_receipt), first_note) if d is not None]
            if not firsts:
                return None
            day, previous = min(firsts), GENESIS
        if day > until:
            return None
        start = datetime.combine(day, time(), UTC)
        rows = connection.execute(
            select(receipts).where(
                receipts.c.created_at >= start, receipts.c.created_at < start + timedelta(days=1)
            )
        ).all()
        present = [_receipt(row) for row in rows]
        notes = connection.execute(
            select(removal_notes.c.receipt_id, removal_notes.c.hmac).where(
                removal_notes.c.day == day
            )
        ).all()
        seal = seal_day(
            day,
            [(r.receipt_id, r.created_at, seal_mac(r.as_json())) for r in present],
            previous,
            [(note.receipt_id, note.hmac) for note in notes],
        )
        inserted = connection.execute(
            self._insert(seals)
            .values(
                day=seal.day,
                receipt_ids=json.dumps(list(seal.receipt_ids)),
                previous=seal.previous,
                digest=seal.digest,
                sealed_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing(index_elements=["day"])
            .returning(seals.c.day)
        ).first()
        return seal if inserted is not None else True

    def seals(self) -> list[Seal]:
        """Every seal, oldest day first."""
        with translated("cannot read seals"), self.engine.connect() as connection:
            rows = connection.execute(select(seals).order_by(seals.c.day)).all()
        return [
            Seal(row.day, tuple(json.loads(row.receipt_ids)), row.previous, row.digest)
            for row in rows
        ]

    def removal_notes(self) -> list[RemovalNote]:
        """Every removal note, by day then id."""
        query = select(removal_notes).order_by(removal_notes.c.day, removal_notes.c.receipt_id)
        with translated("cannot read removal notes"), self.engine.connect() as connection:
            return [
                RemovalNote(row.receipt_id, row.day, row.hmac, row.reason)
                for row in connection.execute(query)
            ]

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


def _as_day(moment: datetime | None) -> date | None:
    return None if moment is None else moment.astimezone(UTC).date()


def _row(receipt: Receipt) -> dict[str, Any]:
    return {name: getattr(receipt, name) for name in RECEIPT_COLUMNS}


def _receipt(row: Row[Any]) -> Receipt:
    return Receipt(**row._asdict())


def open_store(url: str | DatabaseSettings, keys: KeyRing | None = None) -> ReceiptStore:
    """A store with its own pool (CLI, tests); call :meth:`ReceiptStore.close` when done."""
    settings = url if isinstance(url, DatabaseSettings) else DatabaseSettings(url)
    return ReceiptStore(settings, keys)


__all__ = ["ReceiptStore", "StorageError", "StorageUnavailable", "open_store"]
