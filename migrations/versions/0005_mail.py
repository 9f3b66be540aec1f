"""Booking e-mails: the messages the sender keeps and sends; what the e-mails say about
the sites (address, directions) and each course (joining instructions, reminder days);
and a booking's choice of who is e-mailed.

Revision ID: 0005_mail
Revises: 0004_one_waiting_entry
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_mail"
down_revision = "0004_one_waiting_entry"
branch_labels = None
depends_on = None

SITES = ("Location A", "Location B")


def upgrade() -> None:
    # One message per event and recipient (the unique key), whatever the number of
    # senders; `seq` is the order messages are sent in, kept per recipient.
    op.execute("CREATE SEQUENCE messages_seq")
    op.create_table(
        "messages",
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
        sa.Column("status", sa.String(10), nullable=False, server_default="queued"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime, nullable=False),
        sa.Column("claimed_until", sa.DateTime),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("sent_at", sa.DateTime),
        sa.UniqueConstraint("event_key", "recipient", name="uq_messages_event_recipient"),
        sa.CheckConstraint("status IN ('queued', 'sent', 'failed', 'kept')", name="status_known"),
    )
    op.create_index("ix_messages_status_seq", "messages", ["status", "seq"])
    op.create_index("ix_messages_recipient_seq", "messages", ["recipient", "seq"])
    op.create_index("ix_messages_reference", "messages", ["reference"])
    op.create_index("ix_messages_booking_id", "messages", ["booking_id"])
    # What the e-mails say about a site; editable by admins.
    sites = op.create_table(
        "sites",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("address", sa.Text, nullable=False, server_default=""),
        sa.Column("directions", sa.Text, nullable=False, server_default=""),
    )
    op.bulk_insert(sites, [{"name": n, "address": "", "directions": ""} for n in SITES])
    # DuckDB adds a column with a default but no NOT NULL: the core reads NULL as the default.
    op.add_column("course_types", sa.Column("joining_instructions", sa.Text, server_default=""))
    op.add_column("course_types", sa.Column("reminder_days", sa.Integer, server_default="3"))
    # Who a booking's e-mails go to: the contact, the contact and each attendee with an
    # e-mail, or nobody (phone-only customers).
    op.add_column("bookings", sa.Column("emails", sa.String(10), server_default="contact"))


def downgrade() -> None:
    op.drop_column("bookings", "emails")
    op.drop_column("course_types", "reminder_days")
    op.drop_column("course_types", "joining_instructions")
    op.drop_table("sites")
    op.drop_table("messages")
    op.execute("DROP SEQUENCE messages_seq")
