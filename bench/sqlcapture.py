"""What one call sends to PostgreSQL, captured from SQLAlchemy (and from the core's
one-statement writes, which go past it), and the same statements as a pgbench script.

`capture(engine, call)` records every statement of `call()` with its parameters, which
transaction it ran in (or autocommit), and what RETURNING statements returned.
`pgbench_script(...)` writes those statements back out for pgbench, so that pgbench runs
exactly what the core sends today, whatever the core's current shape:

- the benchmark session's id becomes the session expression of the script (variable :k);
- every other UUID becomes a value derived from the per-transaction random :r;
- booking references become a sequence value (nextval first, currval after);
- e-mail addresses become unique per transaction (also inside a text, e.g. JSON);
- a value a RETURNING statement returned (made distinctive by the caller) becomes the
  pgbench variable that `\\gset` stored it in;
- everything else is rendered as a literal, dates and times via make_date/make_time so
  that no ':' can be mistaken for a pgbench variable.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import threading
import time
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
REFERENCE = re.compile(r"^BK-[A-Z0-9]{4,9}$")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass
class Sent:
    sql: str
    params: dict
    autocommit: bool
    tx: int
    returned: dict = field(default_factory=dict)  # column -> value of the single row returned
    raw: object = None  # the parameters as the driver got them
    ms: float | None = None  # how long the driver took to execute it


@dataclass
class Capture:
    sent: list[Sent]
    checkouts: int = 0  # connections taken from the pool (each pinged first when pool_pre_ping is on)
    pre_ping: bool = False

    def statements(self) -> int:
        return len(self.sent)

    def transactions(self) -> int:
        return len({s.tx for s in self.sent if not s.autocommit}) + sum(1 for s in self.sent if s.autocommit)

    def round_trips(self) -> int:
        """Statements + BEGIN and COMMIT of each transaction (psycopg sends BEGIN itself)
        + SQLAlchemy's pre-ping of each pool checkout (when the engine pings)."""
        pings = self.checkouts if self.pre_ping else 0
        return len(self.sent) + 2 * len({s.tx for s in self.sent if not s.autocommit}) + pings

    def holding(self, pattern: str) -> int | None:
        """Round trips from the first statement matching `pattern` to its commit (inclusive)."""
        for i, s in enumerate(self.sent):
            if re.search(pattern, s.sql, re.I | re.S):
                if s.autocommit:
                    return 1
                rest = [t for t in self.sent[i:] if t.tx == s.tx and not t.autocommit]
                return len(rest) + 1  # + COMMIT
        return None

    def listing(self) -> list[str]:
        out = []
        for s in self.sent:
            text = " ".join(s.sql.split())
            took = f" ({s.ms:.1f} ms)" if s.ms is not None else ""
            out.append(("[autocommit] " if s.autocommit else f"[tx {s.tx}] ") + text[:200] + took)
        return out


def capture(engine: sa.Engine, call) -> Capture:
    """What `call()` sends from this thread. The core's announcer thread (one NOTIFY for a
    burst of commits, at most one per 20 ms) is not part of one call, and left out."""
    sent: list[Sent] = []
    state = {"tx": 0, "checkouts": 0}
    me = threading.get_ident()

    def on_begin(conn):
        if threading.get_ident() == me:
            state["tx"] += 1

    def on_checkout(*_args):
        if threading.get_ident() == me:
            state["checkouts"] += 1

    def before(conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() != me:
            return
        # psycopg's own flag: asking SQLAlchemy for the isolation level would query the server
        autocommit = bool(getattr(conn.connection.dbapi_connection, "autocommit", False)) \
            if conn.dialect.name == "postgresql" else False
        rows = parameters if executemany else [parameters]
        for p in rows:
            named = dict(p) if isinstance(p, dict) else {}
            sent.append(Sent(statement, named, autocommit, state["tx"], raw=p))
        state["t0"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() != me:
            return
        if sent and "t0" in state:
            sent[-1].ms = (time.perf_counter() - state.pop("t0")) * 1000
        if conn.dialect.name == "postgresql" and re.search(r"\bRETURNING\b", statement, re.I) and cursor.description:
            rows = cursor.fetchall()
            cursor.scroll(0, mode="absolute")  # psycopg client-side cursor: give the rows back
            if len(rows) == 1:
                sent[-1].returned = dict(zip([d.name for d in cursor.description], rows[0]))

    # The core sends its one-statement writes on the pooled driver connection, past
    # SQLAlchemy's statement events: those are recorded here, with what they returned.
    from core import db as core_db

    direct = core_db.statement_alone

    def recorded(eng, sql, params):
        if threading.get_ident() != me or eng is not engine:
            return direct(eng, sql, params)
        sent.append(Sent(sql, dict(params), True, state["tx"], raw=params))
        t0 = time.perf_counter()
        value = direct(eng, sql, params)
        sent[-1].ms = (time.perf_counter() - t0) * 1000
        return value

    sa.event.listen(engine, "begin", on_begin)
    sa.event.listen(engine, "checkout", on_checkout)
    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    core_db.statement_alone = recorded
    try:
        call()
    finally:
        core_db.statement_alone = direct
        sa.event.remove(engine, "begin", on_begin)
        sa.event.remove(engine, "checkout", on_checkout)
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)
    return Capture(sent, state["checkouts"], bool(getattr(engine.pool, "_pre_ping", False)))


def _string(text: str) -> str:
    quoted = "'" + text.replace("'", "''") + "'"
    if re.search(r":[A-Za-z_]", text):  # never let pgbench see a variable inside a literal
        quoted = "(" + " || chr(58) || ".join("'" + part.replace("'", "''") + "'" for part in text.split(":")) + ")"
    return quoted


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, decimal.Decimal)):
        return repr(value) if not isinstance(value, decimal.Decimal) else str(value)
    if isinstance(value, dt.datetime):
        return (f"make_timestamp({value.year}, {value.month}, {value.day}, {value.hour}, {value.minute}, "
                f"{value.second + value.microsecond / 1e6})")
    if isinstance(value, dt.date):
        return f"make_date({value.year}, {value.month}, {value.day})"
    if isinstance(value, dt.time):
        return f"make_time({value.hour}, {value.minute}, {value.second + value.microsecond / 1e6})"
    if isinstance(value, uuid.UUID):
        return f"'{value}'"
    if isinstance(value, (list, tuple)):
        return "ARRAY[" + ", ".join(_literal(v) for v in value) + "]"
    return _string(str(value))


def pgbench_script(captures: dict[int, Capture], *, session_ids: dict[int, uuid.UUID], session_expr: str,
                   header: str) -> tuple[str, list[str]]:
    """The captured statements as a pgbench script; returns (script, notes).

    `captures[k]` is one call on session `session_ids[k]` (k = 0, 1, ... contiguous; the
    script's :k picks one). A parameter that differs from session to session in a way
    no rule below covers (a shard number, say) becomes a lookup by :k in an array of the
    captured values, so pgbench sends each session what the core sent for it.
    """
    notes: list[str] = []
    keys = sorted(captures)
    base = captures[keys[0]]
    if keys != list(range(keys[0], keys[0] + len(keys))):
        raise ValueError("captures must be for contiguous k")
    same_shape = all(
        len(captures[k].sent) == len(base.sent)
        and all(" ".join(a.sql.split()) == " ".join(b.sql.split()) for a, b in zip(captures[k].sent, base.sent))
        for k in keys)
    if not same_shape:
        notes.append("the statements differ from session to session: the script follows session k=%d" % keys[0])
        captures = {keys[0]: base}
        keys = keys[:1]
    uuids: dict[uuid.UUID, str] = {}
    refs_seen: set[str] = set()
    returned: dict[int, str] = {}  # distinctive value a RETURNING gave -> pgbench variable
    lines = [header.rstrip(), r"\set r random(1, 9000000000000000000)"]
    open_tx = None

    def one(value) -> str:
        if isinstance(value, uuid.UUID):
            if value not in uuids:
                uuids[value] = f"md5(:r::text || 'u{len(uuids)}')::uuid"
            return uuids[value]
        if isinstance(value, str) and REFERENCE.match(value):
            first = value not in refs_seen
            refs_seen.add(value)
            return f"('BK-' || lpad({'nextval' if first else 'currval'}('bench_ref')::text, 9, '0'))"
        if isinstance(value, str) and "@" in value and " " not in value:
            return "('b' || :r || '@example.com')"
        if isinstance(value, str) and EMAIL.search(value):  # e.g. attendees as JSON text
            text = _literal(value)
            for address in sorted(set(EMAIL.findall(value))):
                text = f"replace({text}, {_string(address)}, ('b' || :r || '@example.com'))"
            return text
        if isinstance(value, (list, tuple)):
            return "ARRAY[" + ", ".join(one(v) for v in value) + "]"
        return _literal(value)

    def render(i: int, name: str) -> str:
        values = [captures[k].sent[i].params.get(name) for k in keys]
        v0 = values[0]
        if isinstance(v0, uuid.UUID) and all(v == session_ids[k] for v, k in zip(values, keys)):
            return session_expr
        if isinstance(v0, int) and not isinstance(v0, bool):
            if v0 >= 1000 and v0 in returned:
                return f":{returned[v0]}"
            if len(set(values)) > 1 and all(isinstance(v, int) for v in values):
                if name not in varying:
                    varying.append(name)
                return f"(ARRAY[{', '.join(str(v) for v in values)}])[:k - {keys[0]} + 1]"
        return one(v0)

    varying: list[str] = []
    for i, s in enumerate(base.sent):
        if s.autocommit and open_tx is not None:
            lines.append("END;")
            open_tx = None
        if not s.autocommit and s.tx != open_tx:
            if open_tx is not None:
                lines.append("END;")
            lines.append("BEGIN;")
            open_tx = s.tx
        sql = PLACEHOLDER.sub(lambda m: render(i, m.group(1)), " ".join(s.sql.split()))
        sql = sql.replace("%%", "%")
        if s.returned:
            prefix = f"ret{i}_"
            for column, value in s.returned.items():
                if isinstance(value, int) and not isinstance(value, bool) and value >= 1000:
                    returned.setdefault(value, prefix + column)
            lines.append(sql + rf" \gset {prefix}")
        else:
            lines.append(sql + ";")
    if open_tx is not None:
        lines.append("END;")
    if varying:
        notes.append("parameters that depend on the session, sent per session by lookup: " + ", ".join(varying))
    return "\n".join(lines) + "\n", notes
