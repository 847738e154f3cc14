"""Admin accounts (scrypt hashes, lockout state kept in the database) and the admin audit log.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01

The lockout counter and ``locked_until`` live here, not in a worker's memory, so that five
failed logins lock an account for every worker and node that shares the database.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from website.store.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_users",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
    )
    op.create_table(
        "admin_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("address", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("admin_audit_by_time", "admin_audit", ["at"])


def downgrade() -> None:
    op.drop_index("admin_audit_by_time", table_name="admin_audit")
    op.drop_table("admin_audit")
    op.drop_table("admin_users")
