"""People, attendance, certificates and requalification reminders.

- course_types.certificate_months: how long the course's certificate lasts (none: the
  course gives no certificate).
- people: one record per person; person_keys maps how an attendee is recognised (their
  e-mail, else name and company) to the person, so a merge moves the keys and every later
  booking of either record finds the one person.
- attendance: one row per seat of a booking marked on the register (attended / absent,
  passed / not), with the name given at the door for a seat booked without one.
- certificates: one per passed seat of a course that gives one.
- requalification_reminders: the primary key (certificate, threshold) is what makes a
  reminder happen once, whichever process finds it due first.

Revision ID: 0006_people
Revises: 0005_mail
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_people"
down_revision = "0005_mail"
branch_labels = None
depends_on = None

VALIDITY = {"Emergency First Aid at Work": 36, "First Aid at Work": 36, "Paediatric First Aid": 36, "CPR and AED": 12}


def _fk(postgres: bool, column: str, target: str, **kw) -> list:
    """A foreign key on PostgreSQL only (see core/schema.py: DuckDB refuses updates of a
    table that one references)."""
    return [sa.ForeignKeyConstraint([column], [target], **kw)] if postgres else []


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column("course_types", sa.Column("certificate_months", sa.Integer))
    for name, months in VALIDITY.items():
        op.execute(sa.text("UPDATE course_types SET certificate_months = :m WHERE name = :n").bindparams(m=months, n=name))
    op.create_table(
        "people",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("company", sa.String(200)),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "person_keys",
        sa.Column("match_key", sa.String(460), primary_key=True),
        sa.Column("person_id", sa.Uuid, nullable=False, index=True),
        # deferred: a new person's key is written first (it decides which process makes them)
        *_fk(postgres, "person_id", "people.id", deferrable=True, initially="DEFERRED"),
    )
    op.create_table(
        "attendance",
        sa.Column("booking_id", sa.Uuid, primary_key=True),
        sa.Column("seat_no", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("session_id", sa.Uuid, nullable=False, index=True),
        sa.Column("person_id", sa.Uuid, nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("attended", sa.Boolean, nullable=False),
        sa.Column("passed", sa.Boolean),
        sa.Column("marked_at", sa.DateTime, nullable=False),
        sa.Column("marked_by", sa.String(200)),
        *_fk(postgres, "booking_id", "bookings.id"),
        *_fk(postgres, "person_id", "people.id"),
    )
    op.create_table(
        "certificates",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("number", sa.String(40), nullable=False, unique=True),
        sa.Column("person_id", sa.Uuid, nullable=False, index=True),
        sa.Column("course_type", sa.String(100), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("expires_on", sa.Date, nullable=False, index=True),
        sa.Column("session_id", sa.Uuid, nullable=False),
        sa.Column("booking_id", sa.Uuid, nullable=False),
        sa.Column("seat_no", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("booking_id", "seat_no", name="uq_certificates_seat"),
        sa.CheckConstraint("expires_on > issued_on", name="ck_certificates_expires_after_issue"),
        *_fk(postgres, "person_id", "people.id"),
        *_fk(postgres, "session_id", "course_sessions.id"),
        *_fk(postgres, "booking_id", "bookings.id"),
    )
    op.create_table(
        "requalification_reminders",
        sa.Column("certificate_id", sa.Uuid, primary_key=True),
        sa.Column("threshold_days", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("person_id", sa.Uuid, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        *_fk(postgres, "certificate_id", "certificates.id"),
        *_fk(postgres, "person_id", "people.id"),
    )


def downgrade() -> None:
    for table in ("requalification_reminders", "certificates", "attendance", "person_keys", "people"):
        op.drop_table(table)
    op.drop_column("course_types", "certificate_months")
