"""One waiting entry per contact and session.

A unique partial index: a second active ('waiting') entry for the same e-mail on one
session is impossible, whatever the code above it does. PostgreSQL only: DuckDB has no
partial indexes (2.0.1: "Creating partial indexes is not supported"); there the core's
check under one writer at a time is what keeps it to one.

Revision ID: 0004_one_waiting_entry
Revises: 0003_event_consumers
"""

from alembic import op

revision = "0004_one_waiting_entry"
down_revision = "0003_event_consumers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Entries made twice before this index existed: keep the oldest waiting, end the others.
    op.execute("""
        UPDATE waitlist_entries w SET status = 'withdrawn', ended_at = w.created_at
         WHERE w.status = 'waiting' AND EXISTS (
               SELECT 1 FROM waitlist_entries o
                WHERE o.session_id = w.session_id AND o.email = w.email AND o.status = 'waiting'
                  AND (o.created_at, o.id) < (w.created_at, w.id))
    """)
    op.execute("CREATE UNIQUE INDEX uq_waitlist_entries_waiting_contact "
               "ON waitlist_entries (session_id, email) WHERE status = 'waiting'")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX uq_waitlist_entries_waiting_contact")
