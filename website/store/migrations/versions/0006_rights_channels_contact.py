"""Visitor rights, other channels, the contact form: tombstones, channels, contact messages.

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-01

``tombstones`` records that an erasure happened (when, how many receipts, why) and deliberately
has no column for a consent id or anything else that points to a person. ``channels`` holds
only the sha256 of each channel's bearer token. ``contact_messages`` is personal data with a
retention period (``flask --app wsgi retention run``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from website.store.tables import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tombstones",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("erased_at", UTCDateTime(), nullable=False),
        sa.Column("receipts_count", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("tombstones_by_time", "tombstones", ["erased_at"])
    op.create_table(
        "channels",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
    )
    op.create_table(
        "contact_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_activity_at", UTCDateTime(), nullable=False),
        sa.Column("ip_prefix", sa.Text, nullable=False),
        sa.Column("consent_to_contact", sa.Boolean(), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
    )
    op.create_index("contact_messages_by_activity", "contact_messages", ["last_activity_at"])


def downgrade() -> None:
    raise NotImplementedError("the schema only moves forward")
