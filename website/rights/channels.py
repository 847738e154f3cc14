"""Channels that record receipts from outside the website (a phone agent's opt-in ...).

Each channel has a name and a bearer token. The token is shown once, when the channel is
created; the database keeps only its sha256 (the token is 32 random bytes, so a plain hash is
enough: there is nothing to guess). A revoked channel's token no longer works; its receipts stay.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from website.store import ReceiptStore
from website.store.errors import translated

from .tables import channels

NAME = re.compile(r"[a-z][a-z0-9-]{1,23}")


class ChannelError(ValueError):
    """A channel command that cannot be done (the message says why)."""


@dataclass(frozen=True)
class Channel:
    name: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise ChannelError(
            f"{name!r} is not a channel name: 2 to 24 characters, lower-case letters, digits "
            "and '-', starting with a letter (e.g. 'phone-hotline')"
        )
    return name


def create_channel(store: ReceiptStore, name: str, *, now: datetime | None = None) -> str:
    """Create channel ``name`` (or give a revoked one a new token); returns the token."""
    check_name(name)
    token = secrets.token_urlsafe(32)
    now = now or datetime.now(UTC)
    with translated("cannot create the channel"), store.engine.begin() as connection:
        row = connection.execute(select(channels).where(channels.c.name == name)).first()
        if row is not None and row.revoked_at is None:
            raise ChannelError(f"channel {name!r} exists and is active; revoke it first")
        if row is None:
            connection.execute(insert(channels).values(
                name=name, token_hash=token_hash(token), created_at=now, revoked_at=None))
        else:  # re-issued: the same name keeps its callers' consent ids
            connection.execute(update(channels).where(channels.c.name == name).values(
                token_hash=token_hash(token), created_at=now, revoked_at=None))
    return token


def revoke_channel(store: ReceiptStore, name: str, *, now: datetime | None = None) -> None:
    with translated("cannot revoke the channel"), store.engine.begin() as connection:
        done = connection.execute(
            update(channels)
            .where(channels.c.name == name, channels.c.revoked_at.is_(None))
            .values(revoked_at=now or datetime.now(UTC))
        ).rowcount
    if not done:
        raise ChannelError(f"there is no active channel {name!r}")


def list_channels(store: ReceiptStore) -> list[Channel]:
    query = select(channels.c.name, channels.c.created_at, channels.c.revoked_at).order_by(
        channels.c.name
    )
    with translated("cannot read channels"), store.engine.connect() as connection:
        return [Channel(row.name, row.created_at, row.revoked_at)
                for row in connection.execute(query)]


def authenticate(store: ReceiptStore, token: str) -> Channel | None:
    """The active channel this token belongs to, or None (unknown, revoked or malformed)."""
    if not token or len(token) > 128:
        return None
    wanted = token_hash(token)
    query = select(channels).where(channels.c.token_hash == wanted)
    with translated("cannot check the channel token"), store.engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None or not hmac.compare_digest(row.token_hash, wanted):
        return None
    if row.revoked_at is not None:
        return None
    return Channel(row.name, row.created_at, row.revoked_at)
