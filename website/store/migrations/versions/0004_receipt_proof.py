"""Tamper evidence: a key id and an HMAC on every receipt, daily seals, removal notes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Receipts stored before this revision keep ``key_id``/``hmac`` NULL: they are reported as
"unsigned (before proof)" by ``receipts verify`` (nothing is re-signed: signing old rows now
would vouch for content nobody checked), and the first ``receipts seal`` run seals their days,
which protects them from then on (docs/proof.md). Seals and removal notes are append-only: a
trigger refuses UPDATE and DELETE on both, like UPDATE on receipts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from website.store.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

APPEND_ONLY = ("seals", "removal_notes")

POSTGRESQL_FUNCTION = """CREATE FUNCTION proof_is_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'seals and removal notes are append-only'
            USING ERRCODE = 'restrict_violation';
    END $$"""


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    # Plain ADD COLUMN on both backends (nullable, no constraint): the table is not rebuilt,
    # so the immutability trigger on receipts stays in place.
    op.add_column("receipts", sa.Column("key_id", sa.Text, nullable=True))
    op.add_column("receipts", sa.Column("hmac", sa.Text, nullable=True))
    op.create_table(
        "seals",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("receipt_ids", sa.Text, nullable=False),
        sa.Column("previous", sa.Text, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("sealed_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "removal_notes",
        sa.Column("receipt_id", sa.Text, primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("hmac", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("removed_at", UTCDateTime(), nullable=False),
    )
    op.create_index("removal_notes_by_day", "removal_notes", ["day"])
    if postgresql:
        op.execute(POSTGRESQL_FUNCTION)
    for table in APPEND_ONLY:
        if postgresql:
            op.execute(
                f"CREATE TRIGGER {table}_are_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION proof_is_append_only()"
            )
        else:
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'seals and removal notes are append-only'); END"
                )


def downgrade() -> None:
    raise NotImplementedError("receipts are proof: the schema only moves forward")
