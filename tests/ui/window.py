"""Running the real kiosk window on a virtual X screen, from a test.

`start_xvfb` lets Xvfb choose a free display number (-displayfd) and returns once it
answers. `run_driver` runs tests/ui/driver.py in a subprocess on that display (Kivy
cannot start twice in one process) and returns its report; screenshots land in the
given folder and are kept.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("driver.py")
FLOWS = Path(__file__).with_name("flows.py")
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
SCREEN = "1280x800x24"
#: XDG_CACHE_HOME of the tests' and benchmarks' kiosks: their prepared font faces, kept
#: between runs (preparing takes ~1 min; kiosk.ui.fonts keys the files to the font's
#: size and time, so a new font package is prepared again).
TEST_CACHE = REPO / ".cache" / "xdg"


def prepared_font_cache(ahead: subprocess.Popen[bytes] | None = None) -> Path:
    """TEST_CACHE with every UI language's faces prepared, as `kiosk prepare-fonts` leaves
    a provisioned kiosk's cache: the windows under test use the faces a kiosk uses.

    `ahead` is the preparation started when the session began (`prepare_fonts_ahead`):
    waited for, then whatever it did not finish is prepared here."""
    from kiosk.ui.fonts import FONTCONFIG_LANGUAGE, find_faces, prepare_faces

    if ahead is not None:
        ahead.wait()
    fonts = TEST_CACHE / "lobby-kiosk" / "fonts"
    fonts.mkdir(parents=True, exist_ok=True)
    # One preparer at a time (make test's two workers, and the one started ahead): the
    # others wait, then find the faces done instead of preparing them again.
    with (fonts.parent / "prepare.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        prepare_faces(find_faces(list(FONTCONFIG_LANGUAGE)), fonts)
    return TEST_CACHE


def prepare_fonts_ahead() -> subprocess.Popen[bytes] | None:
    """Start preparing the test cache's faces in a process of its own (niced), so that a
    first run on a fresh clone (about a minute of work) overlaps the tests before the
    window's; None when they are prepared already."""
    from kiosk.ui.fonts import FONTCONFIG_LANGUAGE, find_faces, prepared_path

    fonts = TEST_CACHE / "lobby-kiosk" / "fonts"
    faces = find_faces(list(FONTCONFIG_LANGUAGE))
    if all(prepared_path(face, fonts).exists() for face in faces):
        return None
    program = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from window import prepared_font_cache; prepared_font_cache()"
    )
    return subprocess.Popen(
        ["nice", "-n", "5", sys.executable, "-c", program, str(Path(__file__).parent)],
        stdin=subprocess.DEVNULL,
    )


KIOSK = str(Path(sys.executable).with_name("kiosk"))


def demo_site(folder: Path) -> Path:
    """A demo site in `folder` (`kiosk init --demo` and `kiosk demo-seed`), as `make run`
    makes."""
    for command in (["init", "--demo"], ["demo-seed"]):
        subprocess.run(
            [KIOSK, *command, "--config", str(folder / "kiosk.toml")],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return folder


def start_kiosk_run(
    site: Path,
    display: str,
    font_cache: Path,
    *,
    size: str = "1280x800",
    output: bool = False,
    options: tuple[str, ...] = (),
) -> subprocess.Popen[str]:
    """The real `kiosk run` on `site` with `--size SIZE` (none if SIZE is empty) and
    `options`, returned once it has told $NOTIFY_SOCKET it is ready (as systemd sees it),
    in a process group of its own, as a systemd unit's. Its stdout and stderr are one pipe
    if `output`, else discarded."""
    address = site / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(address))
        listener.settimeout(120)
        env = {**os.environ, "DISPLAY": display, "XDG_CACHE_HOME": str(font_cache)}
        env["NOTIFY_SOCKET"] = str(address)
        process = subprocess.Popen(
            [
                *(KIOSK, "run", "--config", str(site / "kiosk.toml")),
                *(("--size", size) if size else ()),
                *options,
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if output else subprocess.DEVNULL,
            stderr=subprocess.STDOUT if output else subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        while b"READY=1" not in listener.recv(4096):
            pass
    address.unlink()
    return process


def engine_pid(kiosk_run: subprocess.Popen[str]) -> int:
    """The pid of the engine `kiosk run` started (its only child)."""
    children = Path(f"/proc/{kiosk_run.pid}/task/{kiosk_run.pid}/children").read_text()
    return int(children.split()[0])


def start_xvfb(screen: str = SCREEN) -> tuple[subprocess.Popen[bytes], str]:
    """An Xvfb on a display number it picks itself; returns (process, ':N')."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed: run `make bootstrap` (Debian package xvfb)")
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", screen, "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    # Xvfb writes the display number once it accepts connections: no sleeping needed.
    with os.fdopen(read_end) as reader:
        number = reader.readline().strip()
    if not number:
        process.kill()
        pytest.fail("Xvfb exited before it was ready")
    return process, f":{number}"


def run_flows(
    display: str, font_cache: Path, out: Path, *args: str, timeout: float = 240
) -> dict[str, Any]:
    """Run tests/ui/flows.py (every flow on a real engine); its report."""
    return run_driver(display, font_cache, out, *args, timeout=timeout, program=FLOWS)


def run_driver(
    display: str,
    font_cache: Path,
    out: Path,
    *args: str,
    timeout: float = 60,
    program: Path = DRIVER,
) -> dict[str, Any]:
    """Run the driver on `display`, writing into `out`; its report, plus its "log"."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = {**os.environ, "DISPLAY": display, "XDG_CACHE_HOME": str(font_cache)}
    env.pop("WAYLAND_DISPLAY", None)
    completed = subprocess.run(
        [sys.executable, str(program), "--out", str(out), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    log = completed.stdout + completed.stderr
    (out / "driver.log").write_text(log)
    report_file = out / "report.json"
    if completed.returncode != 0 or not report_file.exists():
        pytest.fail(f"driver failed ({completed.returncode}):\n{log[-4000:]}")
    report: dict[str, Any] = json.loads(report_file.read_text())
    if not report.get("ok"):
        pytest.fail(
            f"driver did not finish: {report.get('error')}\n{report.get('traceback', '')}"
            f"\n{log[-4000:]}"
        )
    report["log"] = log
    return report
