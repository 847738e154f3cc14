"""Complete receipts: policy version and hash, app version, expiry, GPC; per-visitor
idempotency; the aggregate GPC view counter; the legacy version table goes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Old receipts get empty policy and app versions (they were not recorded), ``gpc`` false, and
``expires_at`` = ``created_at`` + 183 days (the decision cookie's lifetime then). Every other
value is kept as it was.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from website.store.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SQLITE_IMMUTABLE = """CREATE TRIGGER receipts_are_immutable BEFORE UPDATE ON receipts
   BEGIN SELECT RAISE(ABORT, 'consent receipts are immutable'); END"""

# created_at is fixed-width text ("2026-01-01T00:00:00.000000Z"): shift the whole seconds
# (characters 1..19; SQLite would round a fraction such as .999999 into the next second) and
# keep the fraction and the Z (characters 20..27) as they are.
SQLITE_FILL_EXPIRY = (
    "UPDATE receipts SET expires_at = "
    "strftime('%Y-%m-%dT%H:%M:%S', substr(created_at, 1, 19), '+183 days') "
    "|| substr(created_at, 20)"
)
POSTGRESQL_FILL_EXPIRY = "UPDATE receipts SET expires_at = created_at + interval '183 days'"


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    # The only UPDATE receipts ever see: filling the new column, inside this migration.
    if postgresql:
        op.execute("ALTER TABLE receipts DISABLE TRIGGER receipts_are_immutable")
    else:
        op.execute("DROP TRIGGER receipts_are_immutable")

    op.drop_index("receipts_by_decision_id", table_name="receipts")
    with op.batch_alter_table("receipts") as batch:
        batch.add_column(sa.Column("policy_version", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("policy_hash", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("app_version", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("gpc", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(POSTGRESQL_FILL_EXPIRY if postgresql else SQLITE_FILL_EXPIRY)
    with op.batch_alter_table("receipts") as batch:
        batch.alter_column("expires_at", existing_type=UTCDateTime(), nullable=False)
    op.create_index(
        "receipts_by_decision", "receipts", ["consent_id", "decision_id"], unique=True
    )

    if postgresql:
        op.execute("ALTER TABLE receipts ENABLE TRIGGER receipts_are_immutable")
    else:
        op.execute(SQLITE_IMMUTABLE)

    op.create_table(
        "gpc_views",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("views", sa.BigInteger, nullable=False),
    )
    # The hand-written store's version list; Alembic's alembic_version replaces it.
    op.execute("DROP TABLE IF EXISTS schema_version")


def downgrade() -> None:
    raise NotImplementedError("receipts are proof: the schema only moves forward")
