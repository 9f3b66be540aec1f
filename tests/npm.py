"""Packages from npm for the tests that run clients nobody here wrote (ical.js under node,
FullCalendar's browser bundle), installed into a temporary folder by the test itself.

Without node or npm, or when the package cannot be fetched, the test is skipped with the
reason; in CI (CI=true) it fails instead, like the browser and PostgreSQL tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
NPM_SECONDS = 180


def _give_up(reason: str):
    if IN_CI:
        pytest.fail(reason + " (CI must run the tests of other clients)")
    pytest.skip(reason)


def node() -> str:
    found = shutil.which("node")
    if not found:
        _give_up("node is not installed (apt-get install nodejs npm)")
    return found


def _npm(folder: Path, *args: str) -> None:
    npm = shutil.which("npm") or _give_up("npm is not installed (apt-get install npm)")
    try:
        done = subprocess.run([npm, *args, "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder,
                              capture_output=True, text=True, timeout=NPM_SECONDS)
    except subprocess.TimeoutExpired:
        _give_up(f"npm {' '.join(args)} took more than {NPM_SECONDS} s")
    if done.returncode != 0:
        _give_up(f"npm {' '.join(args)} failed: {(done.stderr or done.stdout).strip()[-500:]}")


def install(folder: Path, spec: str) -> Path:
    """`npm install spec` into `folder`; returns the folder holding node_modules."""
    folder.mkdir(parents=True, exist_ok=True)
    _npm(folder, "install", "--no-save", spec)
    return folder


def unpack(folder: Path, spec: str) -> Path:
    """The files of one package without its dependencies (`npm pack`, then unpacked): enough
    for a self-contained browser bundle. Returns the package's folder."""
    folder.mkdir(parents=True, exist_ok=True)
    _npm(folder, "pack", spec)
    (tarball,) = folder.glob("*.tgz")
    with tarfile.open(tarball) as tar:
        tar.extractall(folder, filter="data")
    return folder / "package"
