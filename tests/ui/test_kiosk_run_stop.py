"""The real `kiosk run` (touchscreen and engine) stopped as systemd stops it, and with its
engine killed: the exit code tells systemd whether anything failed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

KIOSK = str(Path(sys.executable).with_name("kiosk"))


@pytest.fixture
def demo_site(tmp_path: Path) -> Path:
    for command in (["init"], ["demo-seed"]):
        subprocess.run(
            [KIOSK, *command, "--config", str(tmp_path / "kiosk.toml")],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return tmp_path


def start_until_ready(site: Path, display: str, font_cache: Path) -> subprocess.Popen[str]:
    """`kiosk run` on `site`, once it has told $NOTIFY_SOCKET it is ready."""
    address = str(site / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(address)
        listener.settimeout(120)
        env = {**os.environ, "DISPLAY": display, "XDG_CACHE_HOME": str(font_cache)}
        env["NOTIFY_SOCKET"] = address
        process = subprocess.Popen(
            [KIOSK, "run", "--config", str(site / "kiosk.toml"), "--size", "800x480"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, as a systemd unit's
        )
        while b"READY=1" not in listener.recv(4096):
            pass
    return process


def test_sigterm_to_both_processes_is_a_clean_stop(
    demo_site: Path, xvfb_display: str, font_cache: Path
) -> None:
    process = start_until_ready(demo_site, xvfb_display, font_cache)
    os.killpg(process.pid, signal.SIGTERM)  # what systemd's stop does (KillMode=control-group)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "Traceback" not in output


def test_a_killed_engine_is_a_failure(demo_site: Path, xvfb_display: str, font_cache: Path) -> None:
    process = start_until_ready(demo_site, xvfb_display, font_cache)
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text()
    os.kill(int(children.split()[0]), signal.SIGKILL)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "the kiosk engine stopped" in output
