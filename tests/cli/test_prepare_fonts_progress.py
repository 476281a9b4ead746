"""`kiosk prepare-fonts` shows how it goes (the file being prepared, the time left) and,
with `--background`, returns at once while a process of its own prepares the faces
(kiosk.ui.font_progress). A small real font (DejaVu Sans) keeps it quick."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.ui.font_progress import (
    LOG_NAME,
    bar,
    expected_total,
    hold_lock,
    prepare_with_progress,
    start_in_background,
)
from kiosk.ui.fonts import FontFace, prepared_path

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
pytestmark = pytest.mark.skipif(not DEJAVU.exists(), reason="needs fonts-dejavu-core")


def test_the_bar_names_the_file_and_the_time_left(tmp_path: Path) -> None:
    out = io.StringIO()
    written = prepare_with_progress([FontFace(DEJAVU)], tmp_path, out, tick_s=0.05)
    assert written == [prepared_path(FontFace(DEJAVU), tmp_path)]
    assert written[0].stat().st_size > 0
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("preparing fonts [")
    assert "DejaVuSans.ttf" in lines[0] and "s left" in lines[0]
    assert lines[-1].startswith("preparing fonts [") and "done  in" in lines[-1]
    assert prepare_with_progress([FontFace(DEJAVU)], tmp_path, out) == []  # once only


def test_past_its_estimate_the_time_left_grows_with_the_time_spent() -> None:
    left = [expected_total(elapsed, 60.0) - elapsed for elapsed in (0, 30, 59, 60, 100, 200)]
    assert left[:3] == [60.0, 30.0, 1.0]  # the estimate, counting down
    assert left[3:] == [15.0, 25.0, 50.0]  # past it: a quarter of the time spent, growing
    assert bar(30, 60).endswith(" 50%") and bar(90, 60).endswith("100%")


def test_in_the_background_it_returns_at_once_and_prepares_alone(tmp_path: Path) -> None:
    env_cache = tmp_path / "xdg"
    cache_dir = env_cache / "lobby-kiosk" / "fonts"
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "kiosk", "prepare-fonts", "--background", "--font", str(DEJAVU)],
        env={**os.environ, "XDG_CACHE_HOME": str(env_cache)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert "in the background" in completed.stdout
    assert time.monotonic() - started < 30
    target = prepared_path(FontFace(DEJAVU), cache_dir)
    deadline = time.monotonic() + 60
    while not target.exists():
        assert time.monotonic() < deadline, (cache_dir / LOG_NAME).read_text()
        time.sleep(0.2)
    assert target.stat().st_size > 0


def test_a_second_background_preparation_does_not_start_meanwhile(tmp_path: Path) -> None:
    lock = hold_lock(tmp_path)
    assert lock is not None
    try:
        assert start_in_background(str(DEJAVU), tmp_path) is None
        assert hold_lock(tmp_path) is None
    finally:
        lock.close()
