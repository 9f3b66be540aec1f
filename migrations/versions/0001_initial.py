"""Initial schema: course catalogue, sessions, bookings ledger, attendees, change feed.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from core.config import get_settings

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

CHANGE_SHARDS = 64  # = core.changes.SHARDS when this migration was written

SEED_COURSE_TYPES = [
    # name, short code, colour (the design document's four), order
    ("Emergency First Aid at Work", "EFAW", "#0EA5E9", 1),
    ("First Aid at Work", "FAW", "#10B981", 2),
    ("Paediatric First Aid", "PFA", "#F97316", 3),
    ("CPR and AED", "CPR", "#8B5CF6", 4),
]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    limit = get_settings().capacity_limit

    course_types = op.create_table(
        "course_types",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("short_code", sa.String(12), nullable=False, unique=True),
        sa.Column("colour", sa.String(7), nullable=False),
        sa.Column("sort_order", sa.Integer, nullable=False, server_default="0"),
    )
    op.bulk_insert(
        course_types,
        [dict(name=n, short_code=c, colour=col, sort_order=o) for n, c, col, o in SEED_COURSE_TYPES],
    )

    op.create_table(
        "course_sessions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("course_type", sa.String(100), nullable=False),
        sa.Column("session_date", sa.Date, nullable=False),
        sa.Column("start_time", sa.Time, nullable=False),
        sa.Column("end_time", sa.Time, nullable=False),
        sa.Column("location", sa.String(50), nullable=False),
        sa.Column("max_capacity", sa.Integer, nullable=False, server_default="12"),
        sa.Column("current_bookings", sa.Integer, nullable=False, server_default="0"),
        # Places held by holds not yet reaped (see the holds table in 0002). Writers reap a
        # session's expired holds before taking its places, so the guarded UPDATE is exact;
        # readers count live holds from the holds table (no timer that can be lost).
        sa.Column("held_places", sa.Integer, nullable=False, server_default="0"),
        sa.Column("instructor_notes", sa.Text),
        sa.Column("status", sa.String(20), nullable=False, server_default="scheduled"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.CheckConstraint("location IN ('Location A', 'Location B')", name="location"),
        sa.CheckConstraint("status IN ('scheduled', 'cancelled', 'completed')", name="status"),
        sa.CheckConstraint("end_time > start_time", name="ends_after_start"),
        sa.CheckConstraint(f"max_capacity >= 1 AND max_capacity <= {int(limit)}", name="capacity_range"),
        sa.CheckConstraint(
            "current_bookings >= 0 AND held_places >= 0 AND current_bookings + held_places <= max_capacity",
            name="bookings_within_capacity",
        ),
        *([sa.ForeignKeyConstraint(["course_type"], ["course_types.name"])] if postgres else []),
    )
    op.create_index("idx_sessions_date", "course_sessions", ["session_date"])
    op.create_index("idx_sessions_type", "course_sessions", ["course_type"])
    op.create_index("idx_sessions_status", "course_sessions", ["status"])
    op.create_index(
        "idx_sessions_calendar", "course_sessions",
        ["session_date", "location", "course_type", "start_time"],
    )

    op.create_table(
        "bookings",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("session_id", sa.Uuid, nullable=False),
        sa.Column("reference", sa.String(12), nullable=False, unique=True),
        sa.Column("contact_name", sa.String(200), nullable=False),
        sa.Column("contact_email", sa.String(254), nullable=False),
        sa.Column("contact_phone", sa.String(40)),
        sa.Column("company", sa.String(200)),
        sa.Column("seats", sa.Integer, nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="confirmed"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(200)),
        sa.Column("cancelled_at", sa.DateTime),
        sa.Column("cancelled_by", sa.String(200)),
        sa.Column("idempotency_key", sa.String(100), unique=True),
        sa.CheckConstraint(f"seats >= 1 AND seats <= {int(limit)}", name="seats_range"),
        sa.CheckConstraint("status IN ('confirmed', 'cancelled', 'rebook')", name="status"),
        *([sa.ForeignKeyConstraint(["session_id"], ["course_sessions.id"])] if postgres else []),
    )
    op.create_index("idx_bookings_session", "bookings", ["session_id", "status"])
    op.create_index("idx_bookings_created", "bookings", ["created_at"])

    op.create_table(
        "booking_attendees",
        sa.Column("booking_id", sa.Uuid, primary_key=True),
        sa.Column("seat_no", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.Uuid, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254)),
        # = email while the booking is confirmed, else NULL: the database itself refuses the
        # same person twice on one session, even from two desks at the same moment.
        sa.Column("active_email", sa.String(254)),
        *([sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"])] if postgres else []),
    )
    op.create_index("uq_attendees_session_active_email", "booking_attendees", ["session_id", "active_email"],
                    unique=True)

    # The change feed. `version` orders rows for people (audit trail); the feed itself is
    # read by shard: each write bumps one of CHANGE_SHARDS counters (chosen by session), so
    # writers on different sessions do not queue behind one row, and within a shard
    # versions become visible in commit order.
    op.execute(sa.schema.CreateSequence(sa.Sequence("changes_version_seq")))
    op.create_table(
        "changes",
        sa.Column("version", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("shard", sa.Integer, nullable=False),
        sa.Column("shard_seq", sa.BigInteger, nullable=False),
        sa.Column("occurred_at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(200)),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("session_id", sa.Uuid),
        sa.Column("other_session_id", sa.Uuid),
        sa.Column("booking_id", sa.Uuid),
        sa.Column("details", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_index("idx_changes_shard_seq", "changes", ["shard", "shard_seq"], unique=True)
    op.create_index("idx_changes_session", "changes", ["session_id"])

    counter = op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(counter, [{"id": shard, "version": 0} for shard in range(CHANGE_SHARDS)])


def downgrade() -> None:
    for table in ("change_counter", "changes", "booking_attendees", "bookings", "course_sessions",
                  "course_types"):
        op.drop_table(table)
    op.execute(sa.schema.DropSequence(sa.Sequence("changes_version_seq")))
