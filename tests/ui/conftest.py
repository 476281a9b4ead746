"""Fixtures for tests that open the real kiosk window on a virtual X screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from window import prepared_font_cache, start_xvfb


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
    return prepared_font_cache()
