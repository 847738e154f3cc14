"""The tables of visitor rights, other channels and the contact form (migration 0006).

Declared on their own ``MetaData`` so that the receipt store's declarations stay untouched; the
column types are the store's (aware UTC times on both backends).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, MetaData, Table, Text

from website.store.tables import UTCDateTime

metadata = MetaData()

#: That an erasure happened; no consent id, no address, nothing that points to a person.
tombstones = Table(
    "tombstones",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("erased_at", UTCDateTime(), nullable=False),
    Column("receipts_count", Integer, nullable=False),
    Column("reason", Text, nullable=False),
)

#: Channels that may record receipts through ``POST /api/receipts``; only token hashes.
channels = Table(
    "channels",
    metadata,
    Column("name", Text, primary_key=True),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
)

contact_messages = Table(
    "contact_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_activity_at", UTCDateTime(), nullable=False),
    Column("ip_prefix", Text, nullable=False),
    Column("consent_to_contact", Boolean(), nullable=False),
    Column("answered_at", UTCDateTime()),
)
