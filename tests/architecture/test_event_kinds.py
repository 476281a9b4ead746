"""Event kinds are named once, as members of kiosk.sync.wire.EventKind: no other module of
kiosk/ spells one as a string (ast: a string constant equal to a kind). The migrations keep
theirs, as a migration is history and must not change with the code."""

from __future__ import annotations

import ast
from pathlib import Path

from kiosk.sync.wire import EventKind

PACKAGE = Path(__file__).resolve().parents[2] / "kiosk"
ALLOWED = {PACKAGE / "sync" / "wire.py", PACKAGE / "storage" / "migrations.py"}


def kind_literals(source: str, name: str) -> list[str]:
    """`name:line 'kind'` for every string constant in `source` that is an event kind."""
    kinds = {kind.value for kind in EventKind}
    return [
        f"{name}:{node.lineno} {node.value!r}"
        for node in ast.walk(ast.parse(source, name))
        if isinstance(node, ast.Constant) and node.value in kinds
    ]


def test_no_module_spells_an_event_kind() -> None:
    found = [
        line
        for path in sorted(PACKAGE.rglob("*.py"))
        if path not in ALLOWED
        for line in kind_literals(path.read_text(), str(path.relative_to(PACKAGE.parent)))
    ]
    assert found == []


def test_the_check_finds_a_spelled_kind() -> None:
    source = 'KIND = "security.alert"\nOTHER = "security.alerts"  # not a kind\n'
    assert kind_literals(source, "sample.py") == ["sample.py:1 'security.alert'"]
