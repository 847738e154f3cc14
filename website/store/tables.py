"""The receipt store's tables, declared once for both backends (SQLAlchemy Core, no ORM).

Times are one type inside the program (an aware UTC ``datetime``). PostgreSQL keeps them as
``timestamptz``; SQLite has no time type, so they are stored as fixed-width ISO 8601 text with
``Z`` (``2026-12-01T10:00:00.000000Z``), which sorts like the time it names and is exactly what
schema v1/v2 files already hold, so old files need no rewriting.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Dialect,
    Index,
    MetaData,
    String,
    Table,
    Text,
    false,
)
from sqlalchemy.dialects.postgresql import TIMESTAMP
from sqlalchemy.types import TypeDecorator, TypeEngine

#: The text form of a time on SQLite; fixed width, so text order is time order.
SQLITE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC ``datetime``: ``timestamptz`` on PostgreSQL, ISO 8601 text on SQLite."""

    impl = String(27)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(TIMESTAMP(timezone=True))
        return dialect.type_descriptor(String(27))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps aware UTC times only")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.strftime(SQLITE_TIME_FORMAT)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return datetime.fromisoformat(value).astimezone(UTC)


class JSONText(TypeDecorator[dict[str, bool]]):
    """A JSON object as canonical text (sorted keys), the same bytes on both backends."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: dict[str, bool] | None, dialect: Dialect) -> Any:
        return None if value is None else json.dumps(value, sort_keys=True)

    def process_result_value(self, value: Any, dialect: Dialect) -> dict[str, bool] | None:
        return None if value is None else json.loads(value)


metadata = MetaData()

receipts = Table(
    "receipts",
    metadata,
    Column("receipt_id", Text, primary_key=True),
    Column("consent_id", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revision", Text, nullable=False),
    Column("notice_hash", Text, nullable=False),
    Column("language", Text, nullable=False),
    Column("method", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("categories", JSONText(), nullable=False),
    Column("services", JSONText(), nullable=False),
    Column("page_path", Text, nullable=False),
    Column("ip_prefix", Text, nullable=False),
    Column("ua_browser", Text, nullable=False),
    Column("ua_os", Text, nullable=False),
    Column("ua_device", Text, nullable=False),
    Column("decision_id", Text),
    Column("policy_version", Text, nullable=False, server_default=""),
    Column("policy_hash", Text, nullable=False, server_default=""),
    Column("app_version", Text, nullable=False, server_default=""),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("gpc", Boolean(), nullable=False, server_default=false()),
    # Tamper evidence (docs/proof.md); NULL on receipts stored before revision 0004.
    Column("key_id", Text),
    Column("hmac", Text),
    Index("receipts_by_consent", "consent_id", "created_at"),
    Index("receipts_by_time", "created_at"),
    # Idempotency is per visitor: the same decision_id under another consent id is another
    # receipt, never a way into someone else's history.
    Index("receipts_by_decision", "consent_id", "decision_id", unique=True),
)

notices = Table(
    "notices",
    metadata,
    Column("notice_hash", Text, primary_key=True),
    Column("revision", Text, nullable=False),
    Column("language", Text, nullable=False),
    Column("content", Text, nullable=False),
)

#: How many page views honoured a GPC signal, per UTC day: an aggregate, no personal data.
gpc_views = Table(
    "gpc_views",
    metadata,
    Column("day", Date, primary_key=True),
    Column("views", BigInteger, nullable=False),
)

#: One row per sealed UTC day: the chain of digests over each day's receipt HMACs.
seals = Table(
    "seals",
    metadata,
    Column("day", Date, primary_key=True),
    Column("receipt_ids", Text, nullable=False),  # a JSON array, in seal order
    Column("previous", Text, nullable=False),
    Column("digest", Text, nullable=False),
    Column("sealed_at", UTCDateTime(), nullable=False),
)

#: A receipt removed on purpose (retention, erasure): what the seal needs, no personal data.
removal_notes = Table(
    "removal_notes",
    metadata,
    Column("receipt_id", Text, primary_key=True),
    Column("day", Date, nullable=False),
    Column("hmac", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("removed_at", UTCDateTime(), nullable=False),
    Index("removal_notes_by_day", "day"),
)

RECEIPT_COLUMNS = tuple(column.name for column in receipts.columns)
