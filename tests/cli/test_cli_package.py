"""The `kiosk` command's package: one module per group of commands, each with its own
`register`, sharing only kiosk.cli.common; no group imports another, nor anything private."""

from __future__ import annotations

import ast
from pathlib import Path

import kiosk.cli
from kiosk.cli import GROUPS, build_parser

PACKAGE = Path(kiosk.cli.__file__).parent


def _kiosk_cli_imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every `from kiosk.cli... import name` in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kiosk.cli"):
            found += [(node.module or "", alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, "") for a in node.names if a.name.startswith("kiosk.cli")]
    return found


def test_every_module_of_the_package_is_a_group_but_the_shared_ones() -> None:
    groups = {Path(group.__file__ or "").stem for group in GROUPS}
    modules = {path.stem for path in PACKAGE.glob("*.py")}
    assert modules - groups == {"__init__", "__main__", "common"}
    assert all(callable(getattr(group, "register", None)) for group in GROUPS)


def test_a_group_imports_only_the_shared_module_and_nothing_private() -> None:
    for path in PACKAGE.glob("*.py"):
        if path.stem in ("__init__", "__main__"):
            continue
        for module, name in _kiosk_cli_imports(path):
            assert module == "kiosk.cli.common", (path.name, module)
            assert not name.startswith("_"), (path.name, name)


def test_the_commands_of_every_group_are_listed_once() -> None:
    parser = build_parser()
    [commands] = [a for a in parser._actions if a.dest == "command"]
    names = list(commands.choices or ())
    assert len(names) == len(set(names))
    assert {"init", "run", "hosts", "checkin", "report", "doctor", "badge"} <= set(names)
    assert {"enroll", "sync", "notify", "office", "id-card", "demo-card"} <= set(names)
