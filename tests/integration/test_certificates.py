"""Attendance, certificates, people and requalification reminders, on DuckDB and PostgreSQL.

Every date here comes from a clock the test sets (never today's date)."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
import sqlalchemy as sa

import core.clock
from core import attendance, background, certificates, changes, errors, people, requalification
from core.booking import book
from core.clock import ManualClock
from core.config import get_settings
from core.db import forget_engine, get_engine
from core.models import Attendee
from core.sessions import create_session
from tests.actors import ADMIN, STAFF
from tests.conftest import assert_invariants


class SiteClock:
    """The core's one clock, set in wall-clock time at the sites."""

    def __init__(self, monkeypatch, local: dt.datetime):
        self._clock = ManualClock(self._utc(local))
        monkeypatch.setattr(core.clock, "_override", self._clock)

    @staticmethod
    def _utc(local: dt.datetime) -> dt.datetime:
        zone = get_settings().timezone
        return local.replace(tzinfo=zone).astimezone(dt.timezone.utc).replace(tzinfo=None)

    def set(self, local: dt.datetime) -> None:
        self._clock.set(self._utc(local))

    def set_utc(self, utc: dt.datetime) -> None:
        self._clock.set(utc)


def _session(engine, day: dt.date, course="First Aid at Work", location="Location A", capacity=12):
    return create_session(engine, course_type=course, session_date=day, start_time="09:00", end_time="16:30",
                          location=location, max_capacity=capacity, actor=ADMIN)


def _book(engine, session, *people_, company="ACME Ltd", contact=("Pat Office", "office@acme.example"), seats=None):
    return book(engine, session.id, contact_name=contact[0], contact_email=contact[1], company=company,
                seats=seats or len(people_), attendees=[Attendee(n, m) for n, m in people_], actor=STAFF)


def _events(engine, action: str) -> list:
    return [c for c in changes.changes_since(engine).changes if c.action == action]


def _certified(engine, clock, day: dt.date, name="Ana Jones", email="ana@acme.example", course="First Aid at Work"):
    """A session on `day` (clock moved there), `name` booked and marked passed: their certificate."""
    clock.set(dt.datetime.combine(day - dt.timedelta(days=20), dt.time(9)))
    session = _session(engine, day, course=course)
    made = _book(engine, session, (name, email))
    clock.set(dt.datetime.combine(day, dt.time(17)))
    attendance.mark(engine, made.id, 1, "attended_passed", actor=STAFF)
    [cert] = [c for c in certificates.list_certificates(engine) if c.booking_id == made.id]
    return cert


@pytest.mark.parametrize("issued, months, expires", [
    (dt.date(2028, 2, 29), 36, dt.date(2031, 2, 28)),
    (dt.date(2028, 2, 29), 12, dt.date(2029, 2, 28)),
    (dt.date(2028, 2, 29), 48, dt.date(2032, 2, 29)),
    (dt.date(2027, 8, 31), 6, dt.date(2028, 2, 29)),
    (dt.date(2027, 1, 15), 36, dt.date(2030, 1, 15)),
])
def test_a_certificate_expires_on_a_date_that_exists(issued, months, expires):
    assert certificates.expiry_date(issued, months) == expires


def test_course_types_say_how_long_their_certificate_lasts_and_admins_change_it(engine):
    assert certificates.validity_months(engine) == {
        "Emergency First Aid at Work": 36, "First Aid at Work": 36, "Paediatric First Aid": 36, "CPR and AED": 12}
    with pytest.raises(errors.NotPermitted):
        certificates.set_validity(engine, "CPR and AED", 24, actor=STAFF)
    with pytest.raises(errors.InvalidInput, match="Certificate validity") as refused:
        certificates.set_validity(engine, "CPR and AED", 500, actor=ADMIN)
    assert refused.value.field == "certificate_months"
    assert certificates.set_validity(engine, "CPR and AED", 24, actor=ADMIN) == 24
    assert certificates.set_validity(engine, "Paediatric First Aid", None, actor=ADMIN) is None
    assert certificates.validity_months(engine)["CPR and AED"] == 24
    [saved] = _events(engine, "course_type.certificate_validity")[:1]
    assert saved.details == {"name": "CPR and AED", "before": 12, "after": 24}


def test_a_register_marked_on_29_february_issues_certificates_to_28_february_and_completes_the_session(engine, monkeypatch):
    clock = SiteClock(monkeypatch, dt.datetime(2028, 2, 1, 9))
    session = _session(engine, dt.date(2028, 2, 29))
    made = _book(engine, session, ("Ana Jones", "ana@acme.example"), ("Ben Lee", None), seats=3)
    with pytest.raises(errors.InvalidInput, match="has not happened yet") as early:
        attendance.mark(engine, made.id, 1, "attended_passed", actor=STAFF)
    assert early.value.field == "session_id"
    clock.set(dt.datetime(2028, 2, 29, 16, 45))
    register = attendance.mark(engine, made.id, 1, "attended_passed", actor=STAFF)
    assert (register.marked, len(register.seats), register.complete) == (1, 3, False)
    attendance.mark(engine, made.id, 2, "attended_not_passed", actor=STAFF)
    with pytest.raises(errors.InvalidInput, match="booked without a name") as unnamed:
        attendance.mark(engine, made.id, 3, "absent", actor=STAFF)
    assert unnamed.value.field == "name"
    register = attendance.mark(engine, made.id, 3, "absent", name="Cy Okafor", actor=STAFF)
    assert register.complete and register.session.status == "completed"
    assert [attendance.outcome_text(s) for s in register.seats] == ["Attended, passed", "Attended, not passed", "Absent"]
    [cert] = certificates.list_certificates(engine, company="acme ltd")
    assert (cert.name, cert.email, cert.company, cert.course_type) == ("Ana Jones", "ana@acme.example", "ACME Ltd",
                                                                        "First Aid at Work")
    assert (cert.issued_on, cert.expires_on) == (dt.date(2028, 2, 29), dt.date(2031, 2, 28))
    assert cert.number.startswith("FAW-2028-") and register.seats[0].certificate == cert.number
    assert [c.action for c in _events(engine, "session.completed")] == ["session.completed"]
    assert len(_events(engine, "attendance.marked")) == 3
    assert {p.name for p in people.find_people(engine)} == {"Ana Jones", "Ben Lee", "Cy Okafor"}


def test_correcting_a_pass_takes_the_certificate_back(engine, monkeypatch):
    clock = SiteClock(monkeypatch, dt.datetime(2027, 5, 1, 9))
    cert = _certified(engine, clock, dt.date(2027, 5, 20))
    attendance.mark(engine, cert.booking_id, 1, "attended_not_passed", actor=STAFF)
    assert certificates.list_certificates(engine) == []
    assert [c.details["number"] for c in _events(engine, "certificate.withdrawn")] == [cert.number]
    attendance.mark(engine, cert.booking_id, 1, "attended_passed", actor=STAFF)
    assert len(certificates.list_certificates(engine)) == 1


def test_a_course_without_a_certificate_issues_none(engine, monkeypatch):
    clock = SiteClock(monkeypatch, dt.datetime(2027, 5, 1, 9))
    certificates.set_validity(engine, "CPR and AED", None, actor=ADMIN)
    session = _session(engine, dt.date(2027, 5, 20), course="CPR and AED")
    made = _book(engine, session, ("Ana Jones", "ana@acme.example"))
    clock.set(dt.datetime(2027, 5, 20, 17))
    assert attendance.mark(engine, made.id, 1, "attended_passed", actor=STAFF).complete
    assert certificates.list_certificates(engine) == []


def test_one_person_per_email_and_per_name_and_company_without_one(engine, monkeypatch):
    clock = SiteClock(monkeypatch, dt.datetime(2027, 5, 1, 9))
    first = _certified(engine, clock, dt.date(2027, 5, 20), name="Ana Jones", email="ANA@acme.example")
    again = _certified(engine, clock, dt.date(2027, 6, 21), name="Ana M. Jones", email="ana@acme.example",
                       course="CPR and AED")
    assert first.person_id == again.person_id
    clock.set(dt.datetime(2027, 6, 1, 9))
    s1, s2 = _session(engine, dt.date(2027, 6, 22)), _session(engine, dt.date(2027, 6, 23), course="CPR and AED")
    b1, b2 = _book(engine, s1, ("Ben  Lee", None)), _book(engine, s2, ("ben lee", None))
    clock.set(dt.datetime(2027, 6, 23, 17))
    attendance.mark(engine, b1.id, 1, "absent", actor=STAFF)
    attendance.mark(engine, b2.id, 1, "absent", actor=STAFF)
    assert sorted(p.name for p in people.find_people(engine)) == ["Ana Jones", "Ben Lee"]


def test_merging_two_records_of_one_person_keeps_every_certificate_and_their_history(engine, monkeypatch):
    clock = SiteClock(monkeypatch, dt.datetime(2027, 5, 1, 9))
    work = _certified(engine, clock, dt.date(2027, 5, 20), name="Ana Jones", email="ana@acme.example")
    home = _certified(engine, clock, dt.date(2027, 6, 21), name="Ana Jones", email="ana.jones@mail.example",
                      course="Paediatric First Aid")
    assert work.person_id != home.person_id
    with pytest.raises(errors.InvalidInput, match="two different"):
        people.merge_people(engine, work.person_id, work.person_id, actor=STAFF)
    kept = people.merge_people(engine, work.person_id, home.person_id, actor=STAFF)
    assert kept.id == work.person_id and [p.id for p in people.find_people(engine, "ana")] == [kept.id]
    held = people.history(engine, kept.id)
    assert {c.number for c in held.certificates} == {work.number, home.number}
    assert len(held.bookings) == 2 and len(held.attendance) == 2
    with pytest.raises(errors.InvalidInput, match="merged into another"):
        people.get_person(engine, home.person_id)
    # a later booking under either e-mail is the same person's
    clock.set(dt.datetime(2027, 7, 1, 9))
    later = _session(engine, dt.date(2027, 7, 20), course="Paediatric First Aid")
    _book(engine, later, ("Ana Jones", "ana.jones@mail.example"))
    assert len(people.history(engine, kept.id).bookings) == 3
    [merged] = _events(engine, "person.merged")
    assert merged.details["merged"] == str(home.person_id) and merged.actor == STAFF.name


def test_due_to_requalify_lists_certificates_expiring_within_90_days_with_sessions_that_have_places(engine, monkeypatch):
    clock = SiteClock(monkeypatch, dt.datetime(2027, 1, 1, 9))
    cpr = _certified(engine, clock, dt.date(2027, 1, 20), course="CPR and AED")      # expires 2028-01-20
    clock.set(dt.datetime(2027, 11, 1, 9))
    full = _session(engine, dt.date(2027, 12, 6), course="CPR and AED", capacity=1)
    _book(engine, full, ("Someone Else", "else@other.example"))
    open_b = _session(engine, dt.date(2027, 12, 8), course="CPR and AED", location="Location B")
    _session(engine, dt.date(2027, 12, 9), course="First Aid at Work")
    clock.set(dt.datetime(2027, 10, 22, 9))  # 90 days before 20 Jan 2028
    [due] = requalification.due_to_requalify(engine, 90)
    assert (due.certificate.id, due.days_left, due.site, due.booked_on) == (cpr.id, 90, "Location A", None)
    assert [s.id for s in due.next_sessions] == [open_b.id]
    assert requalification.due_to_requalify(engine, 89) == []
    assert requalification.due_to_requalify(engine, 90, company="Other Ltd") == []
    booked = requalification.book_requalification(engine, cpr.id, open_b.id, actor=STAFF)
    assert [a.name for a in booked.attendees] == ["Ana Jones"] and booked.contact_email == "office@acme.example"
    [due] = requalification.due_to_requalify(engine, 90)
    assert due.booked_on.startswith("Wed 8 Dec 2027, Location B")
    assert_invariants(engine)


def test_reminders_come_at_exactly_90_and_30_days_once_each_with_the_next_sessions(engine, monkeypatch):
    clock = SiteClock(monkeypatch, dt.datetime(2027, 1, 1, 9))
    cert = _certified(engine, clock, dt.date(2027, 1, 20), course="CPR and AED")     # expires 2028-01-20
    clock.set(dt.datetime(2027, 10, 1, 9))
    offer = _session(engine, dt.date(2028, 1, 10), course="CPR and AED", location="Location B")
    clock.set(dt.datetime(2027, 10, 20, 23, 59))          # 91 days before: not yet
    assert requalification.find_due_reminders(engine) == []
    clock.set(dt.datetime(2027, 10, 22, 0, 0))            # exactly 90 days before
    [first] = requalification.find_due_reminders(engine)
    assert (first.certificate_id, first.threshold_days) == (cert.id, 90)
    assert requalification.find_due_reminders(engine) == []
    clock.set(dt.datetime(2027, 12, 20, 23, 0))           # 31 days before
    assert requalification.find_due_reminders(engine) == []
    clock.set(dt.datetime(2027, 12, 21, 8, 0))            # 30 days before
    [second] = requalification.find_due_reminders(engine)
    assert second.threshold_days == 30
    assert requalification.find_due_reminders(engine) == []
    due = _events(engine, "requalification.due")
    assert [e.details["threshold_days"] for e in due] == [90, 30]
    details = due[0].details
    assert {k: details[k] for k in ("name", "email", "contact_email", "course", "expires_on", "certificate_id")} == {
        "name": "Ana Jones", "email": "ana@acme.example", "contact_email": "office@acme.example",
        "course": "CPR and AED", "expires_on": "2028-01-20", "certificate_id": str(cert.id)}
    assert [s["session_id"] for s in details["next_sessions"]] == [str(offer.id)]
    assert details["next_sessions"][0]["location"] == "Location B"


def test_a_reminder_day_starts_at_local_midnight_in_summer_time(engine, monkeypatch):
    """90 days before is Fri 29 Oct 2027, in summer time: its first half hour is still the
    28th in UTC, and the reminder is due then (the sites' date, not UTC's)."""
    clock = SiteClock(monkeypatch, dt.datetime(2027, 1, 1, 9))
    _certified(engine, clock, dt.date(2027, 1, 27), course="CPR and AED")   # expires 27 Jan 2028
    clock.set_utc(dt.datetime(2027, 10, 28, 22, 59))   # 23:59 BST on the 28th: 91 days
    assert requalification.find_due_reminders(engine) == []
    clock.set_utc(dt.datetime(2027, 10, 28, 23, 30))   # 00:30 BST on the 29th
    assert [r.threshold_days for r in requalification.find_due_reminders(engine)] == [90]


def test_no_reminder_once_the_person_is_booked_on_a_later_session_of_the_course(engine, monkeypatch):
    clock = SiteClock(monkeypatch, dt.datetime(2027, 1, 1, 9))
    cert = _certified(engine, clock, dt.date(2027, 1, 20), course="CPR and AED")
    clock.set(dt.datetime(2027, 10, 1, 9))
    later = _session(engine, dt.date(2028, 1, 12), course="CPR and AED")
    other_course = _session(engine, dt.date(2028, 1, 13), course="First Aid at Work")
    _book(engine, other_course, ("Ana Jones", "ana@acme.example"))
    requalification.book_requalification(engine, cert.id, later.id, actor=STAFF)
    clock.set(dt.datetime(2027, 10, 22, 9))
    assert requalification.find_due_reminders(engine) == []
    clock.set(dt.datetime(2027, 12, 21, 9))
    assert requalification.find_due_reminders(engine) == []
    assert _events(engine, "requalification.due") == []


def test_only_the_newest_certificate_of_a_course_is_reminded(engine, monkeypatch):
    clock = SiteClock(monkeypatch, dt.datetime(2027, 1, 1, 9))
    _certified(engine, clock, dt.date(2027, 1, 20), course="CPR and AED")
    _certified(engine, clock, dt.date(2027, 9, 20), course="CPR and AED")
    clock.set(dt.datetime(2027, 12, 21, 9))
    assert requalification.find_due_reminders(engine) == []


def test_reminders_are_recorded_once_when_two_app_processes_race_the_due_finder(make_database, monkeypatch):
    """Two engines (as two app processes have) on one PostgreSQL database, 8 threads each,
    all released at once on 40 due certificates: exactly one reminder and one event each."""
    engine = make_database("postgresql")
    clock = SiteClock(monkeypatch, dt.datetime(2027, 1, 1, 9))
    clock.set(dt.datetime(2026, 12, 1, 9))
    session = _session(engine, dt.date(2027, 1, 20), course="CPR and AED", capacity=12)
    session2 = _session(engine, dt.date(2027, 1, 21), course="CPR and AED", capacity=12)
    made = [_book(engine, s, *[(f"Person {s.session_date.day}-{i}", f"p{s.session_date.day}-{i}@acme.example")
                               for i in range(12)]) for s in (session, session2)]
    clock.set(dt.datetime(2027, 1, 21, 17))
    for b in made:
        for seat in range(1, 13):
            attendance.mark(engine, b.id, seat, "attended_passed", actor=STAFF)
    second = sa.create_engine(engine.url)
    try:
        clock.set(dt.datetime(2027, 12, 21, 9))   # within 30 days of every expiry
        gate = threading.Barrier(16)
        found: list[int] = []

        def run(target):
            gate.wait()
            found.append(len(requalification.find_due_reminders(target)))

        threads = [threading.Thread(target=run, args=(engine if i % 2 else second,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sum(found) == 24 and len(found) == 16
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT COUNT(*) FROM requalification_reminders")).scalar_one() == 24
        due = _events(engine, "requalification.due")
        assert len(due) == 24 and len({e.details["certificate_id"] for e in due}) == 24
    finally:
        second.dispose()


def test_the_app_process_runs_the_due_finder_in_the_background_beside_the_hold_sweeper(make_database, monkeypatch):
    engine = make_database("duckdb")
    clock = SiteClock(monkeypatch, dt.datetime(2027, 1, 1, 9))
    _certified(engine, clock, dt.date(2027, 1, 20), course="CPR and AED")
    clock.set(dt.datetime(2027, 12, 21, 9))
    requalification.start_reminder_finder(engine, every=0.05)
    finder = background.thread(engine, requalification.FINDER)
    try:
        deadline = dt.datetime.now() + dt.timedelta(seconds=20)
        while not _events(engine, "requalification.due") and dt.datetime.now() < deadline:
            threading.Event().wait(0.05)
        assert [e.details["threshold_days"] for e in _events(engine, "requalification.due")] == [30]
    finally:
        requalification.stop_reminder_finder(engine)
    assert finder.name == "requalification-reminders" and not finder.is_alive()


def test_the_command_line_records_the_reminders_due_today(make_database, monkeypatch, capsys):
    from core.__main__ import main

    engine = make_database("duckdb")
    clock = SiteClock(monkeypatch, dt.datetime(2027, 1, 1, 9))
    _certified(engine, clock, dt.date(2027, 1, 20), course="CPR and AED")
    clock.set(dt.datetime(2027, 12, 21, 9))
    url = engine.url.render_as_string(hide_password=False).replace("duckdb+cached", "duckdb")
    assert main(["--database-url", url, "remind-requalification"]) == 0
    assert main(["--database-url", url, "remind-requalification"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "1 requalification reminder due today recorded.", "0 requalification reminders due today recorded."]


def test_the_register_export_shows_each_seat_as_marked(engine, monkeypatch):
    import io

    import openpyxl

    from core.exports import load_registers, register_html, register_xlsx

    clock = SiteClock(monkeypatch, dt.datetime(2027, 5, 1, 9))
    session = _session(engine, dt.date(2027, 5, 20))
    made = _book(engine, session, ("Ana Jones", "ana@acme.example"), ("Ben Lee", None), seats=4)
    clock.set(dt.datetime(2027, 5, 20, 17))
    attendance.mark(engine, made.id, 1, "attended_passed", actor=STAFF)
    attendance.mark(engine, made.id, 2, "absent", actor=STAFF)
    attendance.mark(engine, made.id, 3, "attended_not_passed", name="Cy <b>Okafor</b>", actor=STAFF)
    registers = load_registers(engine, session_id=session.id)
    ws = openpyxl.load_workbook(io.BytesIO(register_xlsx(registers))).worksheets[0]
    header_row = next(r[0].row for r in ws.iter_rows() if r[0].value == "No.")
    header = [c.value for c in ws[header_row]]
    assert header[-2:] == ["Attendance", "Signature"]
    rows = [(r[1].value, r[header.index("Attendance")].value or "") for r in ws.iter_rows(min_row=header_row + 1)]
    unnamed = "Name to be given (booked by Pat Office)"
    assert rows == [("Ana Jones", "Attended, passed"), ("Ben Lee", "Absent"),
                    (unnamed, "Attended, not passed (Cy <b>Okafor</b>)"), (unnamed, "")]
    page = register_html(registers)
    assert "Attended, not passed (Cy &lt;b&gt;Okafor&lt;/b&gt;)" in page


def test_certificates_export_for_one_company_read_back_by_openpyxl_and_csv(engine, monkeypatch):
    import csv
    import io

    import openpyxl

    from core.certificates_export import HEADERS, export_certificates

    clock = SiteClock(monkeypatch, dt.datetime(2027, 1, 1, 9))
    session = _session(engine, dt.date(2027, 1, 20), course="CPR and AED")
    acme = _book(engine, session, ("Ana Jones", "ana@acme.example"), ("=HYPERLINK(\"x\")", None))
    other = _book(engine, session, ("Bo Chan", "bo@other.example"), company="Other Ltd",
                  contact=("Oz Other", "oz@other.example"))
    clock.set(dt.datetime(2027, 1, 20, 17))
    for b, seat in ((acme, 1), (acme, 2), (other, 1)):
        attendance.mark(engine, b.id, seat, "attended_passed", actor=STAFF)
    clock.set(dt.datetime(2027, 11, 1, 9))   # 80 days before they expire

    made = export_certificates(engine, "xlsx", company="acme ltd")
    assert made.filename == "certificates_acme_ltd_20271101.xlsx" and made.rows == 2
    ws = openpyxl.load_workbook(io.BytesIO(made.content)).worksheets[0]
    table = [[c.value for c in row] for row in ws.iter_rows()]
    assert table[0] == list(HEADERS)
    by_name = {r[0]: r for r in table[1:]}
    assert set(by_name) == {"Ana Jones", "=HYPERLINK(\"x\")"}
    ana = by_name["Ana Jones"]
    assert ana[1:5] == ["ana@acme.example", "ACME Ltd", "CPR and AED", ana[4]] and ana[4].startswith("CPR-2027-")
    assert (ana[5].date(), ana[6].date(), ana[7], ana[8]) == (dt.date(2027, 1, 20), dt.date(2028, 1, 20), 80,
                                                             "expires within 90 days")
    [formula_like] = [c for c in ws["A"] if c.value == "=HYPERLINK(\"x\")"]
    assert formula_like.data_type == "s"   # text, not a formula

    everyone = export_certificates(engine, "csv")
    read = list(csv.reader(io.StringIO(everyone.content.decode("utf-8-sig"))))
    assert read[0] == list(HEADERS) and len(read) == 4
    assert "'=HYPERLINK(\"x\")" in [r[0] for r in read]
    assert {r[2] for r in read[1:]} == {"ACME Ltd", "Other Ltd"}
    with pytest.raises(errors.InvalidInput) as refused:
        export_certificates(engine, "pdf")
    assert refused.value.field == "format"


def test_demand_by_month_counts_certificates_expiring_beside_the_places_scheduled(engine, monkeypatch):
    from ui.requal_charts import demand_frame, requalification_demand
    from core.catalog import list_course_types

    clock = SiteClock(monkeypatch, dt.datetime(2027, 1, 1, 9))
    _certified(engine, clock, dt.date(2027, 1, 20), name="Ana Jones", email="ana@acme.example", course="CPR and AED")
    _certified(engine, clock, dt.date(2027, 1, 21), name="Bo Chan", email="bo@acme.example", course="CPR and AED")
    clock.set(dt.datetime(2027, 11, 15, 9))
    _session(engine, dt.date(2028, 1, 10), course="CPR and AED", capacity=1)
    _session(engine, dt.date(2028, 3, 1), course="CPR and AED", capacity=6)
    rows = requalification.demand_by_month(engine, 12)
    assert rows[0].month == dt.date(2027, 11, 1) and len(rows) == 12 * len({r.course_type for r in rows})
    cpr = {r.month: (r.expiring, r.places) for r in rows if r.course_type == "CPR and AED"}
    assert cpr[dt.date(2028, 1, 1)] == (2, 1) and cpr[dt.date(2028, 3, 1)] == (0, 6)
    assert sum(e for e, _ in cpr.values()) == 2
    chart = requalification_demand(demand_frame(rows), list_course_types(engine))
    assert "CPR and AED in January 2028, short by 1" in chart.read_me
    bars = [t for t in chart.figure.data if t.type == "bar"]
    assert sum(bars[0].y) == 2


def test_demo_data_has_certificates_due_to_requalify_with_sessions_to_book(make_database):
    from core.demo import seed_demo

    engine = make_database("duckdb")
    seed_demo(engine, seed=3)
    due = requalification.due_to_requalify(engine, 90)
    assert len(due) >= 10 and all(0 <= d.days_left <= 90 for d in due)
    assert any(d.next_sessions for d in due)
    assert {d.certificate.course_type for d in due} <= set(certificates.validity_months(engine))
    assert len(requalification.find_due_reminders(engine)) == len(due)


def test_two_app_processes_finding_reminders_at_once_record_each_once(make_database, monkeypatch):
    """Two real `python -m core remind-requalification` processes on one PostgreSQL database,
    started together on 12 due certificates: 12 reminders between them, each once."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    engine = make_database("postgresql")
    clock = SiteClock(monkeypatch, dt.datetime(2026, 12, 1, 9))
    session = _session(engine, dt.date(2027, 1, 20), course="CPR and AED")
    made = _book(engine, session, *[(f"Person {i}", f"p{i}@acme.example") for i in range(12)])
    clock.set(dt.datetime(2027, 1, 20, 17))
    for seat in range(1, 13):
        attendance.mark(engine, made.id, seat, "attended_passed", actor=STAFF)
    env = {**os.environ, "APP_NOW": "2027-12-21T09:00", "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    url = engine.url.render_as_string(hide_password=False)
    root = Path(__file__).resolve().parents[2]
    runs = [subprocess.Popen([sys.executable, "-m", "core", "--database-url", url, "remind-requalification"],
                             cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    counts = [int(out.split()[0]) for out, _ in outputs]
    assert sum(counts) == 12, outputs
    due = _events(engine, "requalification.due")
    assert len(due) == 12 and len({e.details["certificate_id"] for e in due}) == 12
