"""The real `kiosk run` (touchscreen and engine) stopped as systemd stops it, and with its
engine killed: the exit code tells systemd whether anything failed."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from window import demo_site, engine_pid, start_kiosk_run


def test_sigterm_to_both_processes_is_a_clean_stop(
    tmp_path: Path, xvfb_display: str, font_cache: Path
) -> None:
    process = start_kiosk_run(demo_site(tmp_path), xvfb_display, font_cache, output=True)
    os.killpg(process.pid, signal.SIGTERM)  # what systemd's stop does (KillMode=control-group)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "Traceback" not in output


def test_a_killed_engine_is_a_failure(tmp_path: Path, xvfb_display: str, font_cache: Path) -> None:
    process = start_kiosk_run(demo_site(tmp_path), xvfb_display, font_cache, output=True)
    os.kill(engine_pid(process), signal.SIGKILL)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "the kiosk engine stopped" in output
