"""The banner's idempotency key (schema v2 of the hand-written store).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("receipts", sa.Column("decision_id", sa.Text))
    op.create_index("receipts_by_decision_id", "receipts", ["decision_id"], unique=True)


def downgrade() -> None:
    raise NotImplementedError("receipts are proof: the schema only moves forward")
