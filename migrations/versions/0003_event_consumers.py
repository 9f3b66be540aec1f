"""Named consumers of the change feed: a cursor per consumer and shard, and skipped events.

Revision ID: 0003_event_consumers
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_event_consumers"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # How far each consumer has handled each shard of the feed (core/outbox.py). A consumer
    # locks its rows while it handles a batch, so two processes never take the same shard;
    # `failing_seq` and `attempts` are the event after `position` whose handler raised.
    op.create_table(
        "event_cursors",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("shard", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("position", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("failing_seq", sa.BigInteger),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.CheckConstraint("position >= 0", name="position_not_negative"),
    )
    # Events a consumer gave up on after its handler raised on every attempt.
    op.create_table(
        "event_skips",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("version", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("shard", sa.Integer, nullable=False),
        sa.Column("shard_seq", sa.BigInteger, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("skipped_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("event_skips")
    op.drop_table("event_cursors")
