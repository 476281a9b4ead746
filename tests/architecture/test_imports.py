"""The layers as docs/architecture.md draws them, checked on the source (ast, no import):
no cycle between modules, `domain/` importing nothing above itself, and the office
importing none of the kiosk's engine, devices, storage or notifier.

Imports inside functions count as much as those at the top: a late import is still a
dependency (it only postpones the cycle). `TYPE_CHECKING` blocks count too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "kiosk"

#: What the office (kiosk.office.*) may not import: the kiosk's own engine and devices.
OFFICE_MAY_NOT_IMPORT = (
    "kiosk.services",
    "kiosk.devices",
    "kiosk.storage",
    "kiosk.notify.notifier",
    "kiosk.ui",
    "kiosk.app",
    "kiosk.cli",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, known: set[str]) -> Iterator[str]:
    """The kiosk modules `path` imports (`from a import b` counts as a.b when a.b is a
    module, else as a)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:  # a name inside a module: the module
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    known = set(paths)
    return {name: set(imported_modules(path, known)) for name, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted.

    A package's `__init__` that re-exports its own modules is not a cycle with them."""
    edges = {
        node: {t for t in targets if node != t.rpartition(".")[0]}
        for node, targets in graph.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def test_no_import_cycle_between_modules() -> None:
    assert cycles(import_graph()) == []


def test_the_domain_imports_nothing_above_itself() -> None:
    graph = import_graph()
    above = {
        (module, target)
        for module, targets in graph.items()
        if module.startswith("kiosk.domain")
        for target in targets
        if not target.startswith("kiosk.domain")
    }
    assert above == set()


def test_the_office_imports_none_of_the_kiosks_engine() -> None:
    graph = import_graph()
    reached = {
        (module, target)
        for module, targets in graph.items()
        if module.startswith("kiosk.office")
        for target in targets
        if target.startswith(OFFICE_MAY_NOT_IMPORT)
    }
    assert reached == set()


def test_the_checker_sees_a_cycle_and_a_late_import() -> None:
    """The checks can fail: a two-module cycle and a three-module one are found, and a
    self-contained package is not one."""
    graph = {
        "kiosk.a": {"kiosk.b"},
        "kiosk.b": {"kiosk.a"},
        "kiosk.c": {"kiosk.d"},
        "kiosk.d": {"kiosk.e"},
        "kiosk.e": {"kiosk.c"},
        "kiosk.p": {"kiosk.p.x"},
        "kiosk.p.x": {"kiosk.p"},
    }
    assert cycles(graph) == [["kiosk.a", "kiosk.b"], ["kiosk.c", "kiosk.d", "kiosk.e"]]
