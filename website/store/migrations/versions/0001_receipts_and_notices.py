"""Receipts and notices; receipts are append-only (schema v1 of the hand-written store).

Revision ID: 0001
Revises:
Create Date: 2026-12-01

On SQLite this creates exactly what the old ``init-db`` created as version 1, so a v1 file is
stamped with this revision and continues from here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from website.store.tables import JSONText, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SQLITE_IMMUTABLE = """CREATE TRIGGER receipts_are_immutable BEFORE UPDATE ON receipts
   BEGIN SELECT RAISE(ABORT, 'consent receipts are immutable'); END"""

POSTGRESQL_IMMUTABLE = (
    """CREATE FUNCTION receipts_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'consent receipts are immutable' USING ERRCODE = 'restrict_violation';
    END $$""",
    """CREATE TRIGGER receipts_are_immutable BEFORE UPDATE ON receipts
       FOR EACH ROW EXECUTE FUNCTION receipts_are_immutable()""",
    # TRUNCATE would bypass row triggers: receipts leave only by DELETE (retention, erasure).
    """CREATE TRIGGER receipts_are_not_truncated BEFORE TRUNCATE ON receipts
       FOR EACH STATEMENT EXECUTE FUNCTION receipts_are_immutable()""",
)


def upgrade() -> None:
    op.create_table(
        "receipts",
        sa.Column("receipt_id", sa.Text, primary_key=True),
        sa.Column("consent_id", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revision", sa.Text, nullable=False),
        sa.Column("notice_hash", sa.Text, nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("categories", JSONText(), nullable=False),
        sa.Column("services", JSONText(), nullable=False),
        sa.Column("page_path", sa.Text, nullable=False),
        sa.Column("ip_prefix", sa.Text, nullable=False),
        sa.Column("ua_browser", sa.Text, nullable=False),
        sa.Column("ua_os", sa.Text, nullable=False),
        sa.Column("ua_device", sa.Text, nullable=False),
    )
    op.create_index("receipts_by_consent", "receipts", ["consent_id", "created_at"])
    op.create_index("receipts_by_time", "receipts", ["created_at"])
    op.create_table(
        "notices",
        sa.Column("notice_hash", sa.Text, primary_key=True),
        sa.Column("revision", sa.Text, nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_IMMUTABLE:
            op.execute(statement)
    else:
        op.execute(SQLITE_IMMUTABLE)


def downgrade() -> None:
    raise NotImplementedError("receipts are proof: the schema only moves forward")
