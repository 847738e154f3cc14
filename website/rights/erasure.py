"""Erasure of one visitor's receipts (GDPR Art. 17), leaving a tombstone without personal data.

The receipts go and the tombstone is written in ONE transaction: either the visitor's history
is gone and the erasure is on record, or nothing changed. The tombstone says when, how many
receipts and why; it holds no consent id (that would be the very pseudonym that was erased).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from website.store import ReceiptStore
from website.store.errors import translated
from website.store.tables import receipts

from .tables import tombstones

#: Reasons are short, fixed phrases; the longest allowed.
MAX_REASON = 200
#: The reason of an erasure the visitor asked for at /meine-daten.
VISITOR_REQUEST = "visitor request at /meine-daten (Art. 17 GDPR)"
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")


class NothingToErase(LookupError):
    """No receipt is stored under this consent id (no tombstone is written)."""


@dataclass(frozen=True)
class Tombstone:
    """That ``receipts_count`` receipts were erased at ``erased_at`` for ``reason``."""

    id: int
    erased_at: datetime
    receipts_count: int
    reason: str

    def as_json(self) -> dict[str, Any]:
        from website.consent.receipts import iso_utc

        return {
            "id": self.id,
            "erased_at": iso_utc(self.erased_at),
            "receipts_count": self.receipts_count,
            "reason": self.reason,
        }


def check_reason(reason: str, consent_id: str = "") -> str:
    """The reason as stored: one line, at most 200 characters, no e-mail address and not the
    consent id (a tombstone must not point to the person it is about)."""
    reason = " ".join(reason.split())
    if not reason:
        raise ValueError("give a reason (for example: 'request by e-mail, Art. 17 GDPR')")
    if len(reason) > MAX_REASON:
        raise ValueError(f"the reason is longer than {MAX_REASON} characters")
    if _EMAIL.search(reason) or (consent_id and consent_id in reason):
        raise ValueError("the reason must not contain personal data (an e-mail address or the "
                         "consent id): the tombstone is kept after the receipts are gone")
    return reason


def erase_visitor(
    store: ReceiptStore, consent_id: str, reason: str, *, now: datetime | None = None
) -> Tombstone:
    """Delete every receipt of ``consent_id`` and record a tombstone, in one transaction.

    Raises :class:`NothingToErase` when there is nothing stored under the id, ``ValueError`` for
    a reason that is empty, too long or personal, and :class:`StorageError` when the database
    fails (then nothing changed).
    """
    reason = check_reason(reason, consent_id)
    erased_at = (now or datetime.now(UTC)).astimezone(UTC)
    with translated("cannot erase the receipts"), store.engine.begin() as connection:
        deleted = store.remove_receipts(
            connection, receipts.c.consent_id == consent_id, "erasure"
        )
        if not deleted:
            raise NothingToErase(f"no receipts are stored under consent id {consent_id!r}")
        result = connection.execute(
            insert(tombstones).values(
                erased_at=erased_at, receipts_count=deleted, reason=reason
            )
        )
        (tombstone_id,) = result.inserted_primary_key or (None,)
    return Tombstone(int(tombstone_id), erased_at, int(deleted), reason)


def list_tombstones(store: ReceiptStore) -> list[Tombstone]:
    """Every tombstone, oldest first (for the admin and ``receipts tombstones``)."""
    query = select(tombstones).order_by(tombstones.c.erased_at, tombstones.c.id)
    with translated("cannot read tombstones"), store.engine.connect() as connection:
        return [Tombstone(row.id, row.erased_at, row.receipts_count, row.reason)
                for row in connection.execute(query)]
