"""Fixtures for tests that open the real kiosk window on a virtual X screen."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from window import prepare_fonts_ahead, prepared_font_cache, start_xvfb

#: The font preparation started as the session began (see pytest_collection_finish).
_fonts_ahead: list[subprocess.Popen[bytes]] = []


def pytest_collection_finish(session: pytest.Session) -> None:
    """When a window test is among those to run, its faces are prepared meanwhile."""
    first_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0") == "gw0"
    window_tests = any(Path(item.path).parent == Path(__file__).parent for item in session.items)
    if first_worker and window_tests:
        ahead = prepare_fonts_ahead()
        if ahead is not None:
            _fonts_ahead.append(ahead)


def pytest_sessionfinish(session: pytest.Session) -> None:
    for ahead in _fonts_ahead:
        if ahead.poll() is None:  # the run ended before any window test needed them
            ahead.terminate()
            ahead.wait(timeout=30)


@pytest.fixture(scope="session")
def xvfb_display() -> Iterator[str]:
    """One Xvfb for the session; its display name, such as ':3'."""
    process, display = start_xvfb()
    try:
        yield display
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def font_cache() -> Path:
    """The XDG cache of the kiosks under test, with their font faces prepared."""
    return prepared_font_cache(_fonts_ahead[0] if _fonts_ahead else None)
