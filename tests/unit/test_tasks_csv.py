"""The customer's task tracker names real evidence: a done row's tests exist."""

from __future__ import annotations

import csv
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _done_evidence() -> list[tuple[str, str]]:
    with open(ROOT / "tasks.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows and set(rows[0]) == {"id", "area", "task", "status", "evidence"}
    return [(r["id"], e.strip()) for r in rows if r["status"] == "done"
            for e in r["evidence"].split(";") if e.strip().startswith("tests/")]


def test_every_test_a_done_task_names_exists():
    missing = []
    for task, item in _done_evidence():
        path, _, name = item.partition("::")
        file = ROOT / path.split()[0]
        if not file.is_file():
            missing.append((task, path))
        elif name and not re.search(rf"^\s*def {re.escape(name.split('[')[0])}\(", file.read_text(encoding="utf-8"),
                                    re.MULTILINE):
            missing.append((task, item))
    assert missing == []


def test_ids_are_unique():
    with open(ROOT / "tasks.csv", newline="", encoding="utf-8") as f:
        ids = [r["id"] for r in csv.DictReader(f)]
    assert len(ids) == len(set(ids))
