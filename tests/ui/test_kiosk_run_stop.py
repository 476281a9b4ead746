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


def test_a_first_run_prints_no_traceback_and_nothing_critical(
    tmp_path: Path, xvfb_display: str, font_cache: Path
) -> None:
    """What a newcomer's `make run` shows first: the kiosk up, with its form screens (and
    their text fields) built ahead, and not a CRITICAL line or a traceback among it."""
    process = start_kiosk_run(demo_site(tmp_path), xvfb_display, font_cache, output=True)
    assert process.stdout is not None
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if "the welcome screen's next screens are ready" in line:
                break
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        rest, _ = process.communicate(timeout=60)
    output = "".join(lines) + rest
    assert "the welcome screen's next screens are ready" in output, output[-3000:]
    assert "Traceback" not in output, output
    assert "CRITICAL" not in output, output
