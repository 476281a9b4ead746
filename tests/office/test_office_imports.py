"""The office imports no kiosk engine code: after `import kiosk.office.api`, none of the
kiosk's check-in services, devices, notifier or storage is loaded (issue 18). What both
sides need lives below them (kiosk.domain, kiosk.dbkit, kiosk.notify.kinds), which import
nothing above themselves; and no office module is part of an import cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import kiosk

#: The kiosk's engine: the office must not load any module under these.
KIOSK_ENGINE_PREFIXES = (
    "kiosk.services.",
    "kiosk.devices.",
    "kiosk.notify.notifier",
    "kiosk.storage.",
)

PROBE = """
import sys
import kiosk.office.api
prefixes = tuple(sys.argv[1:])
for name in sorted(sys.modules):
    if name.startswith(prefixes) or name + "." in prefixes or name in prefixes:
        print(name)
"""


def test_importing_the_office_api_loads_no_kiosk_engine_module() -> None:
    found = subprocess.run(
        [sys.executable, "-c", PROBE, *KIOSK_ENGINE_PREFIXES],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert found == []


def _imports_of(path: Path, module: str, known: set[str]) -> set[str]:
    """The modules of `known` that the module at `path` imports (at any depth of its code)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                found.add(name if name in known else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in known and name != module}


def _import_graph() -> dict[str, set[str]]:
    package = Path(kiosk.__file__).parent
    paths = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        paths[name] = path
    known = set(paths)
    return {name: _imports_of(path, name, known) for name, path in paths.items()}


def test_the_shared_layers_import_nothing_above_them() -> None:
    graph = _import_graph()
    for name, imported in graph.items():
        if name.startswith(("kiosk.domain", "kiosk.dbkit")):
            above = {m for m in imported if not m.startswith(("kiosk.domain", "kiosk.dbkit"))}
            if name.startswith("kiosk.domain"):
                above |= {m for m in imported if m.startswith("kiosk.dbkit")}
            assert above == set(), name
    # The notifications' kinds lean on the wire contract's EventKind, and on nothing else.
    assert {m for m in graph["kiosk.notify.kinds"] if m.startswith("kiosk.")} <= {"kiosk.sync.wire"}
    assert {m for m in graph["kiosk.sync.wire"] if m.startswith("kiosk.")} <= {
        "kiosk.domain.values"
    }


def test_no_office_module_is_part_of_an_import_cycle() -> None:
    graph = _import_graph()
    for start in (name for name in graph if name.startswith("kiosk.office")):
        seen, waiting = set(), list(graph[start])
        while waiting:
            name = waiting.pop()
            assert name != start, f"{start} imports itself through {sorted(seen)}"
            if name not in seen:
                seen.add(name)
                waiting.extend(graph[name])
