"""Processes the benchmarks start, and what /proc says about them.

Every child is started in its own process group and registered here; `stop_all()` (run
at exit, on SIGTERM/SIGINT and after each benchmark) ends each group by its id:
SIGTERM, then SIGKILL if it lingers. Nothing is ever killed by name.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")
_lock = threading.Lock()
_children: list[subprocess.Popen] = []


def spawn(args: list[str], **kwargs) -> subprocess.Popen:
    """Popen in a new session (its own process group), registered for cleanup."""
    process = subprocess.Popen(args, start_new_session=True, **kwargs)
    with _lock:
        _children.append(process)
    return process


def stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM to the child's process group, SIGKILL if it lingers; then forget it."""
    try:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=timeout)
        try:  # anything of the group that outlived the leader
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    finally:
        with _lock:
            if process in _children:
                _children.remove(process)


def stop_all() -> None:
    with _lock:
        children = list(_children)
    for process in reversed(children):
        stop(process)


def run(args: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """Run a child to completion (own process group, killed on timeout)."""
    process = spawn(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(process)
        raise
    stop(process)
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        raw = f.read()
    fields = raw[raw.rindex(")") + 2:].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of the full line
    return (utime + stime) / _CLK_TCK


def memory_kb(pid: int) -> dict:
    """VmRSS (now) and VmHWM (peak RSS so far) of a process, in kB."""
    found = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    return found


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


class CpuMeter:
    """CPU time a process used over a wall-clock window, as a share of one core."""

    def __init__(self, pid: int):
        self.pid = pid
        self.cpu0 = cpu_seconds(pid)
        self.wall0 = time.monotonic()

    def read(self) -> dict:
        cpu, wall = cpu_seconds(self.pid) - self.cpu0, time.monotonic() - self.wall0
        return {"cpu_s": cpu, "wall_s": wall, "core_share": cpu / wall if wall else None}


def _all_stats():
    """(pid, name, fields after the name) of every process in /proc/<pid>/stat, now."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                raw = f.read()
        except OSError:  # ended meanwhile
            continue
        yield int(entry), raw[raw.index("(") + 1:raw.rindex(")")], raw[raw.rindex(")") + 2:].split()


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, grandchildren, ...), from /proc."""
    parents: dict[int, list[int]] = {}
    for child, _name, fields in _all_stats():
        parents.setdefault(int(fields[1]), []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def tree_rss_mb(pid: int) -> float:
    """Resident memory of everything below `pid` (e.g. the browser this process drives), MB.
    (Shared pages are counted once per process: an upper bound.)"""
    total = 0
    for child in descendants(pid):
        try:
            total += memory_kb(child).get("VmRSS", 0)
        except OSError:
            continue
    return total / 1024


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])
    return (total - idle) / _CLK_TCK, total / _CLK_TCK


class MachineMeter:
    """How busy all cores were over a window (1.0 = every core busy all the time)."""

    def __init__(self) -> None:
        self.busy0, self.total0 = machine_cpu()

    def read(self) -> float | None:
        busy, total = machine_cpu()
        return (busy - self.busy0) / (total - self.total0) if total > self.total0 else None


def _server_processes() -> list[tuple[float, float]]:
    """(own CPU, CPU of reaped children) of every local PostgreSQL server process."""
    return [((int(fields[11]) + int(fields[12])) / _CLK_TCK, (int(fields[13]) + int(fields[14])) / _CLK_TCK)
            for _pid, name, fields in _all_stats() if name == "postgres"]


class ServerMeter:
    """CPU time the local PostgreSQL server used over a window (every backend and helper).

    Backends that end within the window count too: the postmaster reaps them, and their
    CPU moves to its children's times. None when no server process can be read here
    (a remote server)."""

    def __init__(self) -> None:
        first = _server_processes()
        self.count0 = len(first)
        self.cpu0 = sum(own + reaped for own, reaped in first) if first else None

    def read(self, settle_seconds: float = 0.0) -> float | None:
        """CPU seconds since the start. settle_seconds: first wait (at most that long) for
        backends started in the window to end and be reaped (after a pgbench run)."""
        if self.cpu0 is None:
            return None
        deadline = time.monotonic() + settle_seconds
        now = _server_processes()
        while len(now) > self.count0 and time.monotonic() < deadline:
            time.sleep(0.02)
            now = _server_processes()
        return sum(own + reaped for own, reaped in now) - self.cpu0
