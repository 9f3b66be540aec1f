"""The core's shape: no Streamlit below the pages, no import cycle (lazy imports included),
and db.py knowing no use case."""

from __future__ import annotations

import ast
import re
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"


def _imports(path: Path) -> set[str]:
    """The core modules a file imports anywhere in it (module level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "core":
                found.update(f"core.{a.name}" for a in node.names)
            elif node.module.startswith("core."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("core."))
    return found


def _imports_of(path: Path) -> set[str]:
    """Every module a file imports, by name."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    names = {p: ".".join(p.relative_to(CORE.parent).with_suffix("").parts).removesuffix(".__init__")
             for p in CORE.rglob("*.py")}  # packages too: core/exports/csv.py is core.exports.csv
    modules = {name: p for p, name in names.items() if name != "core"}
    return {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return path[path.index(n):] + [n]
            if n not in state and (found := visit(n)):
                return found
        state[m] = 2
        path.pop()
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_the_core_imports_itself_in_no_circle_even_lazily():
    graph = _graph()
    assert "core.places" in graph  # the graph is really read
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_a_cycle_would_be_found():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_db_knows_no_use_case():
    assert _graph()["core.db"] <= {"core.config", "core.errors", "core.schema", "core.duckdb_dialect"}


def test_no_streamlit_in_the_core():
    for path in CORE.rglob("*.py"):
        imported = {a for a in _imports_of(path)}
        assert not any(m == "streamlit" or m.startswith("streamlit.") for m in imported), path.name


def test_only_the_places_module_changes_a_sessions_booked_or_held_places():
    """Every UPDATE of course_sessions that touches the counters is in core/places.py
    (creating a session with none booked, and demo seeding, insert rows: not changes)."""
    update = re.compile(r"sa\.update\((?:cs|course_sessions)\)(?:[^\n]*\n){0,4}")
    writers = sorted({p.stem for p in CORE.rglob("*.py")
                      for m in update.finditer(p.read_text(encoding="utf-8"))
                      if re.search(r"current_bookings|held_places|\{col: col", m.group(0))})
    assert writers == ["places"], writers


ROOT = CORE.parent
MAX_LINES = 450


def test_no_module_of_the_product_is_over_450_lines():
    product = [*ROOT.glob("core/**/*.py"), *ROOT.glob("ui/**/*.py"), *ROOT.glob("pages/*.py"),
               ROOT / "server.py", ROOT / "Home.py"]
    lines = {p.relative_to(ROOT).as_posix(): len(p.read_text(encoding="utf-8").splitlines()) for p in product}
    assert len(lines) > 20 and lines["ui/booking_form.py"] > 100  # the tree is really read
    too_long = {name: n for name, n in lines.items() if n > MAX_LINES}
    assert too_long == {}, too_long
