"""The real `kiosk run` opens a window of the X screen's size, or of `--size`, and lays out
for it: on an Xvfb of 1024x600 with no window manager, as a bare kiosk has."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import ImageGrab
from window import SCREENSHOTS, demo_site, start_kiosk_run, start_xvfb

from kiosk.ui.window_size import window_size

SCREEN = (1024, 600)


@pytest.fixture(scope="module")
def small_screen() -> Iterator[str]:
    process, display = start_xvfb(f"{SCREEN[0]}x{SCREEN[1]}x24")
    try:
        yield display
    finally:
        process.terminate()
        process.wait(timeout=10)


def drawn_window(display: str, name: str) -> tuple[int, int, int, int]:
    """The box of the X screen the kiosk has drawn on (Xvfb's root stays black), once two
    screenshots half a second apart agree; the last is kept as NAME.png."""
    deadline, box, previous = time.monotonic() + 30, None, None
    while box is None or box != previous:
        assert time.monotonic() < deadline, f"the window never settled: {box}"
        time.sleep(0.5)
        shot = ImageGrab.grab(xdisplay=display)
        previous, box = box, shot.convert("L").point(lambda level: 255 * (level > 8)).getbbox()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot.save(SCREENSHOTS / f"{name}.png")
    return box


def run_and_measure(site: Path, display: str, font_cache: Path, name: str, **kw) -> tuple:
    process = start_kiosk_run(site, display, font_cache, output=True, **kw)
    try:
        box = drawn_window(display, name)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    return box, output


def test_full_screen_without_a_size_fills_the_x_screen_and_a_size_is_kept(
    tmp_path: Path, small_screen: str, font_cache: Path
) -> None:
    site = demo_site(tmp_path)

    box, output = run_and_measure(
        site,
        small_screen,
        font_cache,
        "window-fullscreen-1024x600",
        size="",
        options=("--fullscreen",),
    )
    assert box == (0, 0, *SCREEN), output[-3000:]

    box, output = run_and_measure(
        site, small_screen, font_cache, "window-size-800x480", size="800x480"
    )
    left, top, right, bottom = box
    assert (right - left, bottom - top) == (800, 480), output[-3000:]


def test_the_window_takes_the_x_screens_size_without_a_size_and_in_full_screen(
    small_screen: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", small_screen)
    assert window_size(None, fullscreen=False) == SCREEN
    assert window_size((800, 480), fullscreen=False) == (800, 480)
    assert window_size((800, 480), fullscreen=True) == SCREEN  # else laid out for SCREEN
    monkeypatch.delenv("DISPLAY")
    assert window_size(None, fullscreen=True) is None  # the Pi's console: KMS, as before
