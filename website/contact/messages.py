"""Contact messages in the database: the plain functions the views, the CLI and the admin use."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from website.consent.receipts import iso_utc
from website.rights.tables import contact_messages
from website.store import ReceiptStore
from website.store.errors import translated


@dataclass(frozen=True)
class Message:
    id: int
    name: str
    email: str
    message: str
    created_at: datetime
    last_activity_at: datetime
    ip_prefix: str
    consent_to_contact: bool
    answered_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        record = asdict(self)
        for key in ("created_at", "last_activity_at", "answered_at"):
            record[key] = iso_utc(record[key]) if record[key] else None
        return record


def add_message(store: ReceiptStore, *, name: str, email: str, message: str, ip_prefix: str,
                consent_to_contact: bool, now: datetime | None = None) -> Message:
    now = (now or datetime.now(UTC)).astimezone(UTC)
    values = {"name": name, "email": email, "message": message, "created_at": now,
              "last_activity_at": now, "ip_prefix": ip_prefix,
              "consent_to_contact": consent_to_contact, "answered_at": None}
    with translated("cannot store the message"), store.engine.begin() as connection:
        result = connection.execute(insert(contact_messages).values(**values))
        (message_id,) = result.inserted_primary_key or (None,)
    return Message(id=int(message_id), **values)


def list_messages(store: ReceiptStore, *, unanswered_only: bool = False) -> list[Message]:
    """Every message, newest first."""
    query = select(contact_messages).order_by(contact_messages.c.created_at.desc(),
                                              contact_messages.c.id.desc())
    if unanswered_only:
        query = query.where(contact_messages.c.answered_at.is_(None))
    with translated("cannot read messages"), store.engine.connect() as connection:
        return [Message(**row._asdict()) for row in connection.execute(query)]


def get_message(store: ReceiptStore, message_id: int) -> Message | None:
    query = select(contact_messages).where(contact_messages.c.id == message_id)
    with translated("cannot read messages"), store.engine.connect() as connection:
        row = connection.execute(query).first()
    return Message(**row._asdict()) if row else None


def mark_answered(store: ReceiptStore, message_id: int, *, now: datetime | None = None) -> bool:
    """Mark a message answered; answering is activity, so its retention starts again."""
    now = now or datetime.now(UTC)
    statement = update(contact_messages).where(contact_messages.c.id == message_id).values(
        answered_at=now, last_activity_at=now)
    with translated("cannot update the message"), store.engine.begin() as connection:
        return bool(connection.execute(statement).rowcount)


def delete_message(store: ReceiptStore, message_id: int) -> bool:
    statement = delete(contact_messages).where(contact_messages.c.id == message_id)
    with translated("cannot delete the message"), store.engine.begin() as connection:
        return bool(connection.execute(statement).rowcount)
