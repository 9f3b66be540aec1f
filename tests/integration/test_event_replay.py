"""The change feed is enough to rebuild every session's places.

A seeded random run of a few thousand operations on several sessions (book, cancel,
move, hold, release, book from a hold or after it ended, join and leave waiting lists,
capacity up and down, cancel a session, the clock moving past hold expiries, expired
holds reaped by writes and by `expire_due_holds`), then the feed is read from the start
and each session's booked places, held places, capacity, status and waiting entries are
rebuilt from the events alone: they equal the database exactly.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
import sqlalchemy as sa

import core.clock
from core import booking, changes, errors, holds, sessions, waitlist
from core.clock import ManualClock
from core.schema import course_sessions as cs
from core.schema import holds as hd
from core.schema import waitlist_entries as wl
from tests.actors import ADMIN, STAFF
from tests.conftest import assert_invariants

START = dt.datetime(2030, 6, 3, 8, 0)      # naive UTC
DAY = START.date() + dt.timedelta(days=30)  # the run's clock moves a few hours at most
EMAILS = tuple(f"person{n}@example.com" for n in range(6))
SITES = ("Location A", "Location B")


def read_whole_feed(engine) -> list:
    """Every event from the start, passing the cursor on until a call returns none; in
    version order (a call orders by each shard's sequence, so pages interleave shards)."""
    events, cursor = [], None
    while True:
        got = changes.changes_since(engine, cursor)
        if not got.changes:
            return sorted(events, key=lambda c: c.version)
        events.extend(got.changes)
        cursor = got.cursor


class Replay:
    """Sessions' places from events alone. Checks as it goes that each event makes sense
    where it falls (a hold ends once, an entry leaves the list once, a cancelled session's
    event names what it ended)."""

    def __init__(self):
        self.sessions: dict = {}   # session id -> dict(booked, held, capacity, status, waiting)
        self.holds: dict = {}      # hold id -> (session id, seats) while it holds places

    def apply(self, c) -> None:
        d, sid = c.details, c.session_id
        s = self.sessions.get(sid)
        match c.action:
            case "session.created":
                self.sessions[sid] = dict(booked=0, held=0, capacity=d["max_capacity"], status="scheduled",
                                          waiting=set())
            case "session.capacity":
                assert s["capacity"] == d["before"], c
                s["capacity"] = d["after"]
            case "session.cancelled":
                assert s["booked"] == d["places"], c
                released = {h["hold_id"] for h in d["holds_released"]}
                assert released == {h for h, (hs, _) in self.holds.items() if hs == sid}, c
                assert sum(h["seats"] for h in d["holds_released"]) == s["held"], c
                assert {w["entry_id"] for w in d["waiting_ended"]} == s["waiting"], c
                for hold_id in released:
                    del self.holds[hold_id]
                s.update(booked=0, held=0, status="cancelled", waiting=set())
            case "session.updated" | "session.completed":
                pass
            case "booking.created":
                s["booked"] += d["seats"]
            case "booking.cancelled":
                if d["was"] == "confirmed":
                    s["booked"] -= d["seats"]
            case "booking.moved":
                self.sessions[c.other_session_id]["booked"] += d["seats"]
                if d["was"] == "confirmed":
                    s["booked"] -= d["seats"]
            case "hold.placed":
                assert d["hold_id"] not in self.holds, c
                self.holds[d["hold_id"]] = (sid, d["seats"])
                s["held"] += d["seats"]
            case "hold.released" | "hold.expired" | "hold.converted":
                assert self.holds.pop(d["hold_id"], None) == (sid, d["seats"]), c
                s["held"] -= d["seats"]
            case "waitlist.joined":
                assert d["entry_id"] not in s["waiting"], c
                s["waiting"].add(d["entry_id"])
            case "waitlist.withdrawn":
                s["waiting"].remove(d["entry_id"])
            case "waitlist.promoted":
                s["waiting"].remove(d["entry_id"])
                s["booked"] += d["seats"]
            case _:
                raise AssertionError(f"an event the replay does not know: {c.action} {c.details}")

    def state(self) -> dict:
        return {sid: (s["booked"], s["held"], s["capacity"], s["status"], frozenset(s["waiting"]))
                for sid, s in self.sessions.items()}


def database_state(engine) -> dict:
    with engine.connect() as conn:
        waiting: dict = {}
        for r in conn.execute(sa.select(wl.c.session_id, wl.c.id).where(wl.c.status == "waiting")):
            waiting.setdefault(r.session_id, set()).add(str(r.id))
        return {r.id: (r.current_bookings, r.held_places, r.max_capacity, r.status, frozenset(waiting.get(r.id, ())))
                for r in conn.execute(sa.select(cs))}


class RandomRun:
    """Operations chosen by a seeded random.Random on whatever exists so far (ids in the
    order they were made, never in id order: ids differ from run to run)."""

    def __init__(self, engine, rng: random.Random, clock: ManualClock):
        self.engine, self.rng, self.clock = engine, rng, clock
        self.sessions: list = []
        self.bookings: list = []
        self.holds: list = []
        self.entries: list = []
        self.known_promotions: set = set()
        self.outcomes: Counter = Counter()
        self.n = 0

    def new_session(self):
        made = sessions.create_session(self.engine, course_type="CPR and AED", session_date=DAY,
                                       start_time=f"{9 + len(self.sessions) % 8:02d}:00",
                                       end_time=f"{9 + len(self.sessions) % 8:02d}:45",
                                       location=self.rng.choice(SITES), max_capacity=self.rng.randint(2, 8),
                                       actor=ADMIN)
        self.sessions.append(made.id)

    def person(self) -> dict:
        self.n += 1
        return dict(contact_name=f"Person {self.n}", contact_email=self.rng.choice(EMAILS))

    def one_of(self, things: list):
        return self.rng.choice(things) if things else None

    # each returns what it made, or None
    def op_book(self):
        made = booking.book(self.engine, self.one_of(self.sessions), seats=self.rng.choice((1, 1, 2, 3)),
                            **self.person(), actor=STAFF)
        self.bookings.append(made.id)

    def op_cancel(self):
        if self.bookings:
            booking.cancel(self.engine, self.one_of(self.bookings), actor=STAFF)

    def op_move(self):
        if self.bookings:
            booking.move(self.engine, self.one_of(self.bookings), self.one_of(self.sessions), actor=STAFF)

    def op_hold(self):
        made = holds.place_hold(self.engine, self.one_of(self.sessions), self.rng.choice((1, 1, 2, 3)),
                                minutes=self.rng.choice((1, 2, 5, 10)), actor=STAFF)
        self.holds.append(made.id)

    def op_release(self):
        if self.holds:
            holds.release_hold(self.engine, self.one_of(self.holds), actor=STAFF)

    def op_book_from_hold(self):
        if not self.holds:
            return
        hold_id, seats = self.one_of(self.holds), self.rng.choice((None, None, 1))
        if self.rng.random() < 0.5:
            made = holds.book_from_hold(self.engine, hold_id, seats=seats, **self.person(), actor=STAFF)
        else:
            made = holds.book_held(self.engine, hold_id, seats=seats, **self.person(), actor=STAFF).booking
        self.bookings.append(made.id)

    def op_join(self):
        who = self.person()
        made = waitlist.join_waitlist(self.engine, self.one_of(self.sessions), name=who["contact_name"],
                                      email=who["contact_email"], seats=self.rng.choice((1, 1, 2)), actor=STAFF)
        self.entries.append(made.id)

    def op_withdraw(self):
        if self.entries:
            waitlist.withdraw(self.engine, self.one_of(self.entries), actor=STAFF)

    def op_capacity(self):
        sessions.set_capacity(self.engine, self.one_of(self.sessions), self.rng.randint(1, 10), actor=ADMIN)

    def op_cancel_session(self):
        sessions.cancel_session(self.engine, self.one_of(self.sessions), actor=ADMIN)
        self.new_session()  # keep the run busy on scheduled sessions

    def op_time_passes(self):
        self.clock.advance(minutes=self.rng.choice((0.5, 1, 2, 3, 6)))

    def op_expire_due_holds(self):
        holds.expire_due_holds(self.engine)

    OPS = {"book": 14, "cancel": 7, "move": 6, "hold": 10, "release": 4, "book_from_hold": 5, "join": 10,
           "withdraw": 3, "capacity": 6, "cancel_session": 1, "time_passes": 7, "expire_due_holds": 2}

    def run(self, steps: int, sessions_at_once: int = 5) -> None:
        for _ in range(sessions_at_once):
            self.new_session()
        names, weights = list(self.OPS), list(self.OPS.values())
        for _ in range(steps):
            self.clock.advance(milliseconds=1)  # every operation at its own instant
            name = self.rng.choices(names, weights)[0]
            try:
                getattr(self, f"op_{name}")()
                self.outcomes[name, "done"] += 1
            except errors.BookingError as exc:
                self.outcomes[name, type(exc).__name__] += 1
            self._learn_promotions()

    def _learn_promotions(self) -> None:
        """Bookings made by promotion join the ones the run may cancel or move."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(wl.c.id, wl.c.booking_id).where(wl.c.status == "promoted")
                                .order_by(wl.c.created_at)).all()
        for entry_id, booking_id in rows:
            if entry_id not in self.known_promotions:
                self.known_promotions.add(entry_id)
                self.bookings.append(booking_id)


@pytest.mark.parametrize("seed", [20300603])
def test_replaying_the_feed_from_the_start_rebuilds_every_sessions_places(engine, seed):
    clock = ManualClock(START)
    with core.clock.using(clock):
        run = RandomRun(engine, random.Random(seed), clock)
        run.run(2500)
        assert_invariants(engine)
    done = {name for (name, outcome) in run.outcomes if outcome == "done"}
    assert done == set(RandomRun.OPS), f"every kind of operation happened: {run.outcomes}"
    events = read_whole_feed(engine)
    actions = Counter(c.action for c in events)
    for action in ("hold.expired", "hold.released", "hold.converted", "waitlist.promoted", "waitlist.withdrawn",
                   "booking.moved", "session.cancelled", "session.capacity"):
        assert actions[action] > 0, f"the run never produced {action}: {actions}"
    replay = Replay()
    for c in events:
        replay.apply(c)
    assert replay.state() == database_state(engine)
    with engine.connect() as conn:  # holds still holding places, by the events and by the table
        active = {str(i) for i in conn.execute(sa.select(hd.c.id).where(hd.c.status == "active")).scalars()}
    assert set(replay.holds) == active


def test_a_refused_write_leaves_no_event_behind(engine):
    """A booking that does not fit reaps an expired hold on the way (one `hold.expired`
    buffered), then is refused: everything rolls back, and no later write may publish
    that event, since the hold is still there."""
    with core.clock.using(ManualClock(START)) as clock:
        session = sessions.create_session(engine, course_type="CPR and AED", session_date=DAY, start_time="09:30",
                                          end_time="12:30", location="Location A", max_capacity=2, actor=ADMIN)
        kept = holds.place_hold(engine, session.id, 1, minutes=5, actor=STAFF)
        clock.advance(minutes=6)
        with pytest.raises(errors.SessionFull):
            booking.book(engine, session.id, seats=3, contact_name="Ann", contact_email="ann@example.com",
                         actor=STAFF)
        for _ in range(engine.pool.checkedin() + 1):  # a write on every pooled connection (the pool is FIFO)
            sessions.set_capacity(engine, session.id, 2, actor=ADMIN)
        assert holds.get_hold(engine, kept.id).status == "active"
        assert "hold.expired" not in [c.action for c in read_whole_feed(engine)]


pytestmark = pytest.mark.timeout(600)
