"""A burst of bookings from several threads, printing each booking the core confirmed.

    python -m tests.tools.burst DATABASE_URL SESSION_ID [SESSION_ID ...]

Used by the fault tests, which kill this process (or the database) in the middle: every
reference printed was returned to a caller as booked, so it must be in the ledger after.
Runs until killed, or until every session is full.
"""

from __future__ import annotations

import itertools
import sys
import threading

from core import booking, errors
from core.db import get_engine
from tests.actors import STAFF

_counter = itertools.count()
_print_lock = threading.Lock()


def _worker(engine, session_ids: list[str], stop: threading.Event, full: set) -> None:
    while not stop.is_set() and len(full) < len(session_ids):
        n = next(_counter)
        sid = session_ids[n % len(session_ids)]
        try:
            made = booking.book(engine, sid, contact_name=f"Burst {n}", contact_email=f"burst{n}@example.com",
                                idempotency_key=f"burst-{n}", actor=STAFF)
        except errors.SessionFull:
            full.add(sid)
            continue
        except errors.CoreError as exc:  # busy, database gone: report and go on
            with _print_lock:
                print(f"ERR {type(exc).__name__}", flush=True)
            continue
        with _print_lock:
            print(f"OK {made.reference} {made.idempotency_key}", flush=True)


def main(argv: list[str]) -> int:
    url, session_ids = argv[0], argv[1:]
    engine = get_engine(url)
    stop, full = threading.Event(), set()
    threads = [threading.Thread(target=_worker, args=(engine, session_ids, stop, full)) for _ in range(6)]
    for t in threads:
        t.start()
    print("READY", flush=True)
    for t in threads:
        t.join()
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
