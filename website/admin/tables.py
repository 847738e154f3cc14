"""The admin's tables (migration 0005), on the receipt store's metadata and engine."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, Table, Text, false

from website.store.tables import UTCDateTime, metadata

admin_users = Table(
    "admin_users",
    metadata,
    Column("name", Text, primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("disabled", Boolean(), nullable=False, server_default=false()),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_login_at", UTCDateTime()),
)

admin_audit = Table(
    "admin_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("detail", Text, nullable=False, server_default=""),
    Column("address", Text, nullable=False, server_default=""),
    Index("admin_audit_by_time", "at"),
)
