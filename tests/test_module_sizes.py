"""Modules stay readable: none over 800 lines, no function over 80 (issue 18's Size target).

Checked for every module of kiosk/. An exception is allowed when the module's docstring names it after "Size exception:" with
its reason, e.g. "Size exception: build_parser, one argparse table read top to bottom".
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

KIOSK = Path(__file__).resolve().parents[1] / "kiosk"
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 80


def modules() -> list[Path]:
    return sorted(KIOSK.rglob("*.py"))


def exceptions(tree: ast.Module) -> str:
    docstring = ast.get_docstring(tree) or ""
    return docstring.partition("Size exception:")[2]


@pytest.mark.parametrize("path", modules(), ids=lambda path: str(path.relative_to(KIOSK)))
def test_no_module_or_function_is_too_long(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    allowed = exceptions(tree)
    too_long = []
    lines = text.count("\n")
    if lines > MAX_MODULE_LINES and "module" not in allowed:
        too_long.append(f"the module: {lines} lines")
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES and node.name not in allowed:
                too_long.append(f"{node.name}: {length} lines")
    assert too_long == []
