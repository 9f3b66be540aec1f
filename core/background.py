"""Work an app process repeats in the background, per engine: one daemon thread per job.

The hold sweeper (every few seconds) and the requalification due-finder (every few
minutes) run this way in every app process, started beside each other by the server and
the pages' cached engine. A job that raises is logged and tried again next round; the
thread stops with `stop`, when the engine is forgotten, and at interpreter exit (a thread
cut off in the middle of a database call at exit can abort the process).
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections.abc import Callable

from sqlalchemy.engine import Engine

from core import db
from core.errors import CoreError

log = logging.getLogger(__name__)

_jobs: dict[tuple[int, str], tuple[weakref.ref, threading.Thread, threading.Event]] = {}
_lock = threading.Lock()


def start(engine: Engine, name: str, job: Callable[[Engine], object], every: float, *, at_once: bool = False,
          what: str | None = None, logger: logging.Logger = log) -> None:
    """Run `job(engine)` every `every` seconds (first at once with `at_once`) in a daemon
    thread named `name`, unless that job already runs for this engine. A failure is logged
    to `logger` as "<what> failed"."""
    what = what or name
    with _lock:
        running = _jobs.get((id(engine), name))
        if running and running[0]() is engine and running[1].is_alive():
            return
        ref, stop = weakref.ref(engine), threading.Event()

        def loop() -> None:
            if not at_once and stop.wait(every):
                return
            while True:
                current = ref()
                if current is None:
                    return
                try:
                    job(current)
                except CoreError as exc:  # database away: try again next round
                    logger.info("%s: %s", what, exc)
                except Exception as exc:  # noqa: BLE001  (never let the thread die)
                    if stop.is_set() or "Interrupt" in type(getattr(exc, "orig", exc)).__name__:
                        return  # stopping, or the process is exiting and the database cut us off
                    logger.exception("%s failed", what)
                del current
                if stop.wait(every):
                    return

        thread = threading.Thread(target=loop, name=name, daemon=True)
        _jobs[(id(engine), name)] = (ref, thread, stop)
        thread.start()


def thread(engine: Engine, name: str) -> threading.Thread | None:
    """The thread of the job `name` for `engine`, if one was started (tests, status)."""
    with _lock:
        found = _jobs.get((id(engine), name))
    return found[1] if found and found[0]() is engine else None


def stop(engine: Engine | None = None, name: str | None = None, timeout: float = 5.0) -> None:
    """Stop the jobs of `engine` (None: every engine) named `name` (None: all) and wait."""
    with _lock:
        chosen = [key for key, (ref, _, _) in _jobs.items()
                  if (engine is None or ref() is engine) and (name is None or key[1] == name)]
        found = [_jobs.pop(key) for key in chosen]
    for _, _, flag in found:
        flag.set()
    for _, thread, _ in found:
        thread.join(timeout)


atexit.register(stop)
db.on_forget(stop)
