"""The tables as the core queries them (SQLAlchemy Core).

The DDL itself (checks, indexes, foreign keys) is in migrations/versions/, which create
and evolve these tables; the constraints there are repeated here only where a query or
a reader of this file needs them. Foreign keys exist on PostgreSQL only: DuckDB turns an
UPDATE of a table that a foreign key references into delete + insert and then refuses
it, so there the core keeps referential integrity itself (every write goes through it).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

course_types = sa.Table(
    "course_types",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("short_code", sa.String(12), nullable=False, unique=True),
    sa.Column("colour", sa.String(7), nullable=False),
    sa.Column("sort_order", sa.Integer, nullable=False, server_default="0"),
    sa.Column("joining_instructions", sa.Text),   # what to bring (e-mails); NULL: none
    sa.Column("reminder_days", sa.Integer),       # reminder e-mail this many days before; NULL: 3
    sa.Column("certificate_months", sa.Integer),  # none: the course gives no certificate
)

course_sessions = sa.Table(
    "course_sessions",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("course_type", sa.String(100), nullable=False),
    sa.Column("session_date", sa.Date, nullable=False),
    sa.Column("start_time", sa.Time, nullable=False),
    sa.Column("end_time", sa.Time, nullable=False),
    sa.Column("location", sa.String(50), nullable=False),
    sa.Column("max_capacity", sa.Integer, nullable=False, server_default="12"),
    sa.Column("current_bookings", sa.Integer, nullable=False, server_default="0"),
    sa.Column("held_places", sa.Integer, nullable=False, server_default="0"),
    sa.Column("instructor_notes", sa.Text),
    sa.Column("status", sa.String(20), nullable=False, server_default="scheduled"),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

bookings = sa.Table(
    "bookings",
    metadata,
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
    sa.Column("emails", sa.String(10)),  # contact (NULL too) / attendees / none: who is e-mailed
)

booking_attendees = sa.Table(
    "booking_attendees",
    metadata,
    sa.Column("booking_id", sa.Uuid, primary_key=True),
    sa.Column("seat_no", sa.Integer, primary_key=True),
    sa.Column("session_id", sa.Uuid, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(254)),
    sa.Column("active_email", sa.String(254)),  # email while the booking is confirmed, else NULL
)

# The change feed, and the audit trail: one row per write, in the write's transaction.
changes = sa.Table(
    "changes",
    metadata,
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

changes_version_seq = sa.Sequence("changes_version_seq")

# One row per shard of the change feed. A write bumps the row of its session's shard, last
# in its transaction; the sum over all rows counts the committed writes, so it moves on
# every commit and never goes back, and a reader that has seen a shard at n has seen all
# of that shard's changes up to n.
change_counter = sa.Table(
    "change_counter",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.BigInteger, nullable=False),
)

holds = sa.Table(
    "holds",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("session_id", sa.Uuid, nullable=False),
    sa.Column("seats", sa.Integer, nullable=False),
    sa.Column("held_by", sa.String(200), nullable=False),
    sa.Column("note", sa.String(200)),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("ended_at", sa.DateTime),
    sa.Column("booking_id", sa.Uuid),
)

waitlist_entries = sa.Table(
    "waitlist_entries",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("session_id", sa.Uuid, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("phone", sa.String(40)),
    sa.Column("company", sa.String(200)),
    sa.Column("seats", sa.Integer, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.String(200)),
    sa.Column("ended_at", sa.DateTime),
    sa.Column("booking_id", sa.Uuid),
)

# Named consumers of the change feed (core/outbox.py): how far each has handled each shard,
# and the event after `position` whose handler raised (`failing_seq`, `attempts`).
event_cursors = sa.Table(
    "event_cursors",
    metadata,
    sa.Column("consumer", sa.String(100), primary_key=True),
    sa.Column("shard", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("position", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("failing_seq", sa.BigInteger),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
)

# Events a consumer skipped after its handler raised on every attempt (dead letters).
event_skips = sa.Table(
    "event_skips",
    metadata,
    sa.Column("consumer", sa.String(100), primary_key=True),
    sa.Column("version", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("shard", sa.Integer, nullable=False),
    sa.Column("shard_seq", sa.BigInteger, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("skipped_at", sa.DateTime, nullable=False),
)

# The e-mails (core/mail): one row per event and recipient, rendered once, sent after commit.
messages_seq = sa.Sequence("messages_seq")
messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("event_key", sa.String(120), nullable=False),
    sa.Column("recipient", sa.String(254), nullable=False),
    sa.Column("name", sa.String(200)),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("text_body", sa.Text, nullable=False),
    sa.Column("html_body", sa.Text, nullable=False),
    sa.Column("ics", sa.Text),
    sa.Column("booking_id", sa.Uuid),
    sa.Column("reference", sa.String(12)),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("message_id", sa.String(200), nullable=False),
    sa.Column("next_attempt_at", sa.DateTime, nullable=False),
    sa.Column("claimed_until", sa.DateTime),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("sent_at", sa.DateTime),
    sa.UniqueConstraint("event_key", "recipient", name="uq_messages_event_recipient"),
)

# What the e-mails say about each site.
sites = sa.Table(
    "sites",
    metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("directions", sa.Text, nullable=False),
)

# People, attendance and certificates (migration 0006). A person is recognised by the keys
# in person_keys ("e:<e-mail>", else "n:<name>|<company>", lower case); a merge moves keys.
people = sa.Table(
    "people",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(254)),
    sa.Column("company", sa.String(200)),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

person_keys = sa.Table(
    "person_keys",
    metadata,
    sa.Column("match_key", sa.String(460), primary_key=True),
    sa.Column("person_id", sa.Uuid, nullable=False),
)

attendance = sa.Table(
    "attendance",
    metadata,
    sa.Column("booking_id", sa.Uuid, primary_key=True),
    sa.Column("seat_no", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("session_id", sa.Uuid, nullable=False),
    sa.Column("person_id", sa.Uuid, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(254)),
    sa.Column("attended", sa.Boolean, nullable=False),
    sa.Column("passed", sa.Boolean),  # None: absent, or the result not given yet
    sa.Column("marked_at", sa.DateTime, nullable=False),
    sa.Column("marked_by", sa.String(200)),
)

certificates = sa.Table(
    "certificates",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.String(40), nullable=False, unique=True),
    sa.Column("person_id", sa.Uuid, nullable=False),
    sa.Column("course_type", sa.String(100), nullable=False),
    sa.Column("issued_on", sa.Date, nullable=False),
    sa.Column("expires_on", sa.Date, nullable=False),
    sa.Column("session_id", sa.Uuid, nullable=False),
    sa.Column("booking_id", sa.Uuid, nullable=False),
    sa.Column("seat_no", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# One row per reminder found due: the key (certificate, threshold) makes it happen once.
requalification_reminders = sa.Table(
    "requalification_reminders",
    metadata,
    sa.Column("certificate_id", sa.Uuid, primary_key=True),
    sa.Column("threshold_days", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("person_id", sa.Uuid, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)
