"""Holds while on the phone, and waiting lists.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "holds",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("session_id", sa.Uuid, nullable=False),
        sa.Column("seats", sa.Integer, nullable=False),
        sa.Column("held_by", sa.String(200), nullable=False),
        sa.Column("note", sa.String(200)),
        sa.Column("status", sa.String(12), nullable=False, server_default="active"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("ended_at", sa.DateTime),
        sa.Column("booking_id", sa.Uuid),
        sa.CheckConstraint("seats >= 1", name="seats_positive"),
        sa.CheckConstraint("status IN ('active', 'released', 'converted', 'expired')", name="status"),
        *([sa.ForeignKeyConstraint(["session_id"], ["course_sessions.id"])] if postgres else []),
    )
    op.create_index("idx_holds_session_active", "holds", ["session_id", "status", "expires_at"])

    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("session_id", sa.Uuid, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("phone", sa.String(40)),
        sa.Column("company", sa.String(200)),
        sa.Column("seats", sa.Integer, nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="waiting"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(200)),
        sa.Column("ended_at", sa.DateTime),
        sa.Column("booking_id", sa.Uuid),
        sa.CheckConstraint("seats >= 1", name="seats_positive"),
        sa.CheckConstraint("status IN ('waiting', 'promoted', 'withdrawn')", name="status"),
        *([sa.ForeignKeyConstraint(["session_id"], ["course_sessions.id"])] if postgres else []),
    )
    op.create_index("idx_waitlist_session", "waitlist_entries", ["session_id", "status", "created_at"])


def downgrade() -> None:
    op.drop_table("waitlist_entries")
    op.drop_table("holds")
