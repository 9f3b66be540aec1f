"""One consumer of the outbox in its own process, for the tests of core.outbox.

    python -m tests.tools.consume DATABASE_URL CONSUMER WORKER_NAME

Each event it handles adds a row (version, session, worker) to the test's `handled` table,
in the batch's transaction. Prints READY once the consumer's cursors exist, then handles
events until it is sent SIGTERM (it finishes the batch in hand) or killed.
"""

from __future__ import annotations

import signal
import sys
import threading
import time

from core.db import get_engine
from core.outbox import consume, register
from tests.outbox_table import record_handled

BATCH = 5
HANDLE_SECONDS = 0.002  # a real handler takes a moment (the mail sender renders a message)
IDLE_POLL_SECONDS = 0.02


def main(argv: list[str]) -> int:
    url, consumer, worker = argv
    engine = get_engine(url)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def handle(conn, change) -> None:
        record_handled(conn, change, worker)
        time.sleep(HANDLE_SECONDS)

    register(engine, consumer)
    print("READY", flush=True)
    while not stop.is_set():
        if consume(engine, consumer, handle, limit=BATCH) == 0:
            stop.wait(IDLE_POLL_SECONDS)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
