"""Fixtures of the screen tests.

AppTest tests run the pages in this process against a DuckDB file made for them
(DATABASE_URL points the app at it). Browser tests start `streamlit run` on a free port
against a fresh demo database (`python -m core migrate` + `seed-demo`), wait for
/_stcore/health, drive the Debian Chromium through Playwright, and kill the server's
whole process group at the end. Without Chromium they skip, except in CI (CI=true),
where they fail.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from core import config
from core.availability import find_sessions
from core.db import forget_engine, get_engine, migrate

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
PHONE_AGENT = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
               "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
DEMO_SEED = 11
STARTUP_SECONDS = 60


def duckdb_url(path: Path) -> str:
    return f"duckdb:///{path}"


def _make_database(path: Path, *, demo: bool) -> str:
    """A migrated DuckDB file (with demo data when asked), made in this process."""
    url = duckdb_url(path)
    engine = get_engine(url)
    migrate(engine)
    if demo:
        from core.demo import seed_demo

        seed_demo(engine, seed=DEMO_SEED)
    return url


# --- AppTest -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def empty_db_url(tmp_path_factory) -> str:
    return _make_database(tmp_path_factory.mktemp("empty") / "app.duckdb", demo=False)


@pytest.fixture(scope="module")
def demo_db_url(tmp_path_factory) -> str:
    """Demo data that the tests of a module only read."""
    return _make_database(tmp_path_factory.mktemp("demo") / "app.duckdb", demo=True)


@pytest.fixture
def writable_demo_db_url(tmp_path) -> str:
    """Demo data of this test alone (for tests that book, cancel or move)."""
    return _make_database(tmp_path / "app.duckdb", demo=True)


@pytest.fixture
def use_database(monkeypatch):
    """use_database(url): point the app (and the core's settings) at that database."""

    def use(url: str) -> str:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("LIVE_POLL_SECONDS", "2")
        config.get_settings.cache_clear()
        return url

    return use


# --- the real server and the real browser ---------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_core(*args: str, env: dict) -> None:
    done = subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"python -m core {' '.join(args)} failed: {done.stderr or done.stdout}"


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


@dataclass(frozen=True)
class RunningApp:
    url: str
    database_url: str
    sessions: tuple  # the demo sessions as seeded, read before the server took the file
    today: dt.date


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, browser):
    """`streamlit run Home.py` on a free port against a fresh demo database.

    It asks for the browser first, so that without Chromium the tests skip (or fail in CI)
    before a server is started for nothing.
    """
    folder = tmp_path_factory.mktemp("server")
    db_url = duckdb_url(folder / "app.duckdb")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(DATABASE_URL=db_url, PYTHONUNBUFFERED="1")  # live poll: the default 2 s
    _run_core("migrate", env=env)
    _run_core("seed-demo", "--seed", str(DEMO_SEED), env=env)

    # Read what was seeded, then let go of the file: the server process owns it (DuckDB).
    engine = get_engine(db_url)
    today = config.today()
    sessions = tuple(find_sessions(engine, today - dt.timedelta(days=60), today + dt.timedelta(days=120),
                                   include_cancelled=True))
    forget_engine(engine)

    with started_app(folder, env) as url:
        yield RunningApp(url=url, database_url=db_url, sessions=sessions, today=today)


@contextlib.contextmanager
def started_app(folder: Path, env: dict):
    """`streamlit run Home.py` on a free port (log in `folder`); yields its URL once it
    answers /_stcore/health, and stops its whole process group afterwards."""
    port = _free_port()
    log = open(folder / "streamlit.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(url):
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}: {(folder / 'streamlit.log').read_text()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer /_stcore/health within {STARTUP_SECONDS} s")
            time.sleep(0.1)  # polling a condition, not waiting a fixed time
        yield url
    finally:
        _stop(process)
        log.close()


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the whole process group, SIGKILL if it lingers; leaves nothing behind."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    try:  # children that outlived the leader
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (never a downloaded browser)."""
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        reason = f"playwright is not installed: {exc}"
    if reason is None and not Path(CHROMIUM).is_file():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)"
    if reason:
        if IN_CI:
            pytest.fail(reason + " (CI must run the browser tests)")
        pytest.skip(reason)
    from playwright.sync_api import expect

    # Conditions get 15 s by default (a loaded CI machine); live-update checks pass their own 5 s.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """new_page(phone=False, viewport=None) -> a page in its own browser context (its own
    Streamlit session); a desktop window of DESKTOP size unless `viewport` says another."""
    contexts = []

    def make(*, phone: bool = False, viewport: dict | None = None):
        if phone:
            context = browser.new_context(viewport=viewport or PHONE, user_agent=PHONE_AGENT, is_mobile=True,
                                          has_touch=True, device_scale_factor=2)
        else:
            context = browser.new_context(viewport=viewport or DESKTOP)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
