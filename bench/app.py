"""The app under measurement, and the browser that opens it.

`start_app` runs `streamlit run server.py` (the production entry point, with the /push
route) on a free port against a database, in its own process group, and returns once
/healthz answers (with the change listener up on PostgreSQL). `browser()` is Debian's
Chromium driven by Python Playwright (never a downloaded browser).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench import procs
from bench.machine import CHROMIUM

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 900}
CALENDAR_IFRAME = "iframe[title='streamlit_calendar.calendar']"
PUSH_ROUTE = r"/push$"
STARTUP_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class App:
    url: str
    process: object
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def health(self) -> dict:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=5) as reply:
                return json.loads(reply.read())
        except urllib.error.HTTPError as exc:
            return json.loads(exc.read() or b"{}")

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""


def start_app(folder: Path, database_url: str, *, post_script_gc: bool = False, env: dict | None = None,
              port: int | None = None) -> App:
    folder.mkdir(parents=True, exist_ok=True)
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "FEED_TOKEN")}
    environment.update(DATABASE_URL=database_url, PYTHONUNBUFFERED="1", **(env or {}))
    port = port or free_port()
    log_path = folder / f"app-{port}-{'gc' if post_script_gc else 'nogc'}.log"
    with open(log_path, "w") as log:
        process = procs.spawn(
            [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--runner.postScriptGC", "true" if post_script_gc else "false"],
            cwd=ROOT, env=environment, stdout=log, stderr=log,
        )
    app = App(f"http://127.0.0.1:{port}", process, log_path)
    postgres = database_url.startswith("postgres")
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server.py exited with {process.returncode}: {app.log_tail()}")
        with contextlib.suppress(OSError, ValueError):
            health = app.health()
            if health.get("status") == "ok" and (not postgres or health.get("listener") == "listening"):
                return app
        if time.monotonic() > deadline:
            procs.stop(process)
            raise RuntimeError(f"server.py did not become healthy within {STARTUP_SECONDS} s: {app.log_tail()}")
        time.sleep(0.2)


def stop_app(app: App) -> None:
    procs.stop(app.process)


@contextlib.contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        raise RuntimeError(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def new_context(chromium, *, block_push: bool = False, timeout_ms: int = 60_000):
    """A browser context; with block_push its pages cannot open the /push WebSocket (as
    behind a proxy that drops it), so their live fragment falls back to polling."""
    import re

    context = chromium.new_context(viewport=VIEWPORT)
    context.set_default_timeout(timeout_ms)
    if block_push:
        context.route_web_socket(re.compile(PUSH_ROUTE), lambda ws: ws.close())
    return context


class PushGate:
    """Routes a context's /push WebSockets: passed through to the app while open; while
    blocked, open links are closed and new ones refused (a proxy that drops WebSockets),
    so the pages fall back to polling every LIVE_POLL_SECONDS, and recover when reopened."""

    def __init__(self, context) -> None:
        import re

        self.blocked = False
        self.links: list = []
        context.route_web_socket(re.compile(PUSH_ROUTE), self._route)

    def _route(self, ws) -> None:
        if self.blocked:
            ws.close()
            return
        server = ws.connect_to_server()
        self.links.append((ws, server))

    def block(self) -> None:
        self.blocked = True
        links, self.links = self.links, []
        for ws, server in links:
            for side in (ws, server):
                with contextlib.suppress(Exception):
                    side.close()

    def open(self) -> None:
        self.blocked = False


class FrameCounter:
    """Counts what a page sends to the app over Streamlit's WebSocket: each message is a
    rerun request (a poll of the live fragment, a widget or component change)."""

    def __init__(self) -> None:
        self.sent = 0
        self.received = 0
        self.connections = 0

    def attach(self, page) -> None:
        def on_socket(ws) -> None:
            if "/_stcore/stream" not in ws.url:
                return
            self.connections += 1
            ws.on("framesent", lambda _payload: self._sent())
            ws.on("framereceived", lambda _payload: self._received())

        page.on("websocket", on_socket)

    def _sent(self) -> None:
        self.sent += 1

    def _received(self) -> None:
        self.received += 1


def wait_live(page, *, push: bool | None, timeout_ms: int = 60_000) -> None:
    """The page rendered its live fragment; with push True/False, the link is live/reconnecting."""
    page.get_by_text("live, updated").first.wait_for(state="visible", timeout=timeout_ms)
    if push is True:
        page.locator(".push-link[data-state='live']").wait_for(state="attached", timeout=timeout_ms)
    elif push is False:
        page.locator(".push-link[data-state='reconnecting']").wait_for(state="attached", timeout=timeout_ms)


def wait_calendar(page, timeout_ms: int = 60_000) -> None:
    frame = page.frame_locator(CALENDAR_IFRAME)
    frame.locator(".fc-toolbar-title").wait_for(state="visible", timeout=timeout_ms)


def pump(page, seconds: float) -> None:
    """Let time pass while Playwright delivers events (frames) to our handlers."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        page.wait_for_timeout(min(1000, left * 1000))
