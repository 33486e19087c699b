"""The layout keeps its promises (docs/ARCHITECTURE.md): arrows between modules point one way, no
module reaches into another's private names, a long module says why, and the pairs of client and
server values that must change together agree.

Imports are read from the source (every `import` and `from … import`, at the top or inside a
function), not by importing: a circle hidden in a function is still a circle.
"""
from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

from qmevents.door import answers
from qmevents.services.door import checkin
from qmevents.services.registrations import codes

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "qmevents"
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, str | None, int]]:
    """(module imported, name taken from it or None, line) for each import in `path` of a module
    of qmevents. `from .x import y` where y is a module counts as importing that module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, None, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(parent + ([node.module] if node.module else []))
            for alias in node.names:
                whole = f"{base}.{alias.name}"
                if whole in MODULES:
                    found.append((whole, None, node.lineno))
                else:
                    found.append((base, alias.name, node.lineno))
    return [(target, taken, line) for target, taken, line in found
            if target in MODULES and target != name]


@functools.cache
def _graph() -> dict[str, set[str]]:
    return {name: {target for target, _taken, _line in _imports(name, path)}
            for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_the_walk_finds_every_module_and_its_imports():
    graph = _graph()
    assert len(graph) > 100
    register = graph["qmevents.services.registrations.register"]
    assert "qmevents.services.registrations.places" in register
    assert "qmevents.extensions" in graph["qmevents.services.registrations.places"]
    assert "qmevents.services.access" in graph["qmevents.organiser.blueprint"]


def test_the_cycle_finder_finds_a_circle_and_no_false_one():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_no_import_circle_between_modules():
    assert _cycles(_graph()) == []


def test_no_private_name_is_imported_across_modules():
    reached = [f"{name}:{line} takes {target}.{taken}"
               for name, path in MODULES.items()
               for target, taken, line in _imports(name, path)
               if taken and taken.startswith("_") and not taken.startswith("__")]
    assert reached == []


def test_route_modules_of_a_blueprint_never_import_each_other():
    """A blueprint package's __init__ imports its route modules; each takes `bp` from
    blueprint.py. No route module imports a sibling that holds routes (the old circle)."""
    routes = {name for name, path in MODULES.items()
              if any(taken == "bp" for _target, taken, _line in _imports(name, path))}
    assert {"qmevents.organiser.views", "qmevents.public.tickets",
            "qmevents.api.checkins"} <= routes
    reached = [f"{name} imports {target}"
               for name in MODULES if not MODULES[name].name == "__init__.py"
               for target in _graph()[name] if target in routes]
    assert reached == []


def test_services_never_import_the_web_layer():
    """Services know nothing of blueprints; the blueprints call them (docs/ARCHITECTURE.md)."""
    web = ("qmevents.public", "qmevents.organiser", "qmevents.door", "qmevents.auth",
           "qmevents.api", "qmevents.cli")
    reached = [f"{name} imports {target}"
               for name in MODULES if name.startswith("qmevents.services")
               for target in _graph()[name] if target.startswith(web)]
    assert reached == []


def test_a_module_over_400_lines_says_why_at_its_top():
    unexplained = []
    for name, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_LINES and "400 lines" not in " ".join(lines[:5]):
            unexplained.append(f"{name}: {len(lines)} lines")
    assert unexplained == []


def test_the_door_scripts_limit_on_a_scan_fits_the_servers_and_a_ticket_url():
    """static/js/door/codes.js refuses a scan longer than MAX_LENGTH before sending it, the page
    without JavaScript has its field's maxlength, and the server reads up to checkin.MAX_SCAN.
    Every ticket URL must pass the first two, and whatever they send must fit the third."""
    script = (ROOT / "static" / "js" / "door" / "codes.js").read_text(encoding="utf-8")
    found = re.search(r"export const MAX_LENGTH = (\d+);", script)
    assert found, "codes.js no longer says MAX_LENGTH = <number>;"
    max_length = int(found.group(1))
    longest_url = "https://" + "a" * 200 + ".example/t/" + "0" * codes.CODE_LENGTH
    assert len(longest_url) <= max_length <= checkin.MAX_SCAN
    template = (ROOT / "templates" / "door" / "scan.html").read_text(encoding="utf-8")
    field = re.search(r'<input id="door-code"[^>]*maxlength="(\d+)"', template, re.S)
    assert field, "the door's code field has no maxlength"
    assert len(longest_url) <= int(field.group(1)) <= checkin.MAX_SCAN


def test_every_scan_result_has_the_same_tone_on_both_faces_of_the_door():
    """checkin.Result, the no-JavaScript page's TONES and the scanner's TONES and OVERRIDABLE
    (static/js/door/answer.js) change together."""
    script = (ROOT / "static" / "js" / "door" / "answer.js").read_text(encoding="utf-8")
    table = re.search(r"const TONES = \{(.*?)\};", script, re.S).group(1)
    script_tones = dict(re.findall(r"(\w+): \"(\w+)\"", table))
    assert script_tones == answers.TONES
    assert set(script_tones) == {r.value for r in checkin.Result}
    overridable = re.search(r"const OVERRIDABLE = new Set\(\[(.*?)\]\)", script).group(1)
    assert set(re.findall(r'"(\w+)"', overridable)) == {r.value for r in checkin.OVERRIDABLE}
