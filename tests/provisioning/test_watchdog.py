"""The sd_notify helper, seen from systemd's side.

Two levels: the datagrams themselves, read from a socket the test owns (READY, then pings
at half the watchdog period, none once the loop stops); and, where the machine allows it
(root, systemd installed), a real `systemd --user` in a private mount namespace that
restarts a Type=notify service whose main loop stops feeding the watchdog.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.watchdog import DEFAULT_PING_INTERVAL_S, Watchdog, notify

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    yield sock, str(path)
    sock.close()


def received(sock: socket.socket) -> list[str]:
    messages = []
    sock.setblocking(False)
    try:
        while True:
            messages.append(sock.recv(4096).decode())
    except BlockingIOError:
        pass
    finally:
        sock.settimeout(2)
    return messages


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_no_socket_means_silent_no_ops() -> None:
    watchdog = Watchdog({})
    assert not watchdog.watchdog_enabled
    assert watchdog.ping_interval == DEFAULT_PING_INTERVAL_S
    assert watchdog.ready("up") is False
    assert watchdog.ping() is False
    assert watchdog.status("x") is False
    assert notify("READY=1", environ={}) is False


def test_ready_then_pings_at_half_the_period(notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    clock = FakeClock()
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "4000000", "WATCHDOG_PID": str(os.getpid())}
    watchdog = Watchdog(env, monotonic=clock)
    assert watchdog.watchdog_enabled and watchdog.ping_interval == 2.0

    assert watchdog.ready("welcome screen")
    assert received(sock) == ["READY=1\nSTATUS=welcome screen\nWATCHDOG=1"]

    # A main loop at 60 frames a second for 5 s: a ping every 2 s, not one per frame.
    sent = 0
    for _frame in range(300):
        clock.now += 1 / 60
        sent += watchdog.ping()
    assert sent == 2
    assert received(sock) == ["WATCHDOG=1", "WATCHDOG=1"]

    watchdog.status("printing")
    watchdog.stopping()
    assert received(sock) == ["STATUS=printing", "STOPPING=1"]


def test_a_loop_that_stops_feeding_is_seen(notify_socket: tuple[socket.socket, str]) -> None:
    """What systemd sees of a hung UI: the pings stop while the process lives on."""
    sock, path = notify_socket
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"}  # 0.2 s, pinged every 0.1 s
    watchdog = Watchdog(env)
    watchdog.ready()
    arrivals: list[float] = []
    start = time.monotonic()
    while time.monotonic() - start < 0.6:  # the healthy loop
        watchdog.ping()
        time.sleep(0.01)
    hung_at = time.monotonic()
    time.sleep(0.5)  # the loop is stuck: nothing calls ping()
    sock.settimeout(0.05)
    try:
        while True:
            sock.recv(4096)
            arrivals.append(time.monotonic())
    except TimeoutError:
        pass
    assert len(arrivals) >= 5
    # Nothing was sent for longer than WatchdogSec after the hang: systemd would act.
    assert hung_at - start > 0.5
    assert time.monotonic() - hung_at > 0.2


def test_watchdog_meant_for_another_process_is_ignored(
    notify_socket: tuple[socket.socket, str],
) -> None:
    _sock, path = notify_socket
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1"}
    watchdog = Watchdog(env)
    assert watchdog.notify_enabled and not watchdog.watchdog_enabled
    assert watchdog.ping() is False


def test_abstract_socket_address() -> None:
    name = f"kiosk-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    try:
        assert notify("READY=1", environ={"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(100) == b"READY=1"
    finally:
        sock.close()


def test_a_vanished_socket_is_logged_not_raised(tmp_path: Path) -> None:
    assert notify("WATCHDOG=1", environ={"NOTIFY_SOCKET": str(tmp_path / "gone")}) is False


# --------------------------------------------------------------------- a real systemd


FEEDER = """
import sys, time
from kiosk.watchdog import Watchdog

frames_before_hang = int(sys.argv[1])
watchdog = Watchdog.from_environment()
watchdog.ready("harness up")
frame = 0
while True:                       # the UI main loop, at 50 frames a second
    if frame < frames_before_hang or frames_before_hang < 0:
        watchdog.ping()
    frame += 1
    time.sleep(0.02)
"""

HARNESS = """
set -eu
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/system /run/user/0
chmod 700 /run/user/0
export XDG_RUNTIME_DIR=/run/user/0 XDG_CONFIG_HOME="$WORK/config"
SYSTEMD_LOG_LEVEL=info SYSTEMD_LOG_TARGET=console \\
    /lib/systemd/systemd --user >"$WORK/manager.log" 2>&1 &
manager=$!
for _ in $(seq 50); do
    systemctl --user is-system-running >/dev/null 2>&1 && break
    sleep 0.1
done
systemctl --user start hung.service healthy.service
sleep "$OBSERVE"
for unit in hung healthy; do
    systemctl --user show -p NRestarts -p ActiveState "$unit.service" | sed "s/^/$unit./"
done
kill "$manager"
wait "$manager" || true
"""


def kiosk_service_settings() -> dict[str, str]:
    """The [Service] and [Unit] keys of systemd/kiosk.service that decide restarts."""
    wanted = {"Type", "NotifyAccess", "Restart", "StartLimitIntervalSec", "WatchdogSec"}
    settings = {}
    for line in (REPO / "systemd" / "kiosk.service").read_text().splitlines():
        key, _, value = line.partition("=")
        if key in wanted:
            settings[key] = value
    return settings


def systemd_harness_available() -> str | None:
    if os.geteuid() != 0:
        return "needs root (a private mount namespace for /run)"
    for tool in ("unshare", "systemctl"):
        if shutil.which(tool) is None:
            return f"{tool} not installed"
    if not Path("/lib/systemd/systemd").exists():
        return "systemd not installed"
    if Path("/run/systemd/system").exists():
        return "the machine runs systemd; use a real user session instead"
    return None


@pytest.mark.skipif(systemd_harness_available() is not None, reason="no systemd harness here")
def test_systemd_restarts_a_ui_that_stops_feeding(tmp_path: Path) -> None:
    settings = kiosk_service_settings()
    assert settings["Type"] == "notify" and settings["Restart"] == "always"
    assert settings["StartLimitIntervalSec"] == "0"
    (tmp_path / "feeder.py").write_text(FEEDER)
    units = tmp_path / "config" / "systemd" / "user"
    units.mkdir(parents=True)
    for name, frames in (("hung", 25), ("healthy", -1)):  # hung: stops after 0.5 s
        (units / f"{name}.service").write_text(
            textwrap.dedent(
                f"""\
                [Unit]
                StartLimitIntervalSec={settings["StartLimitIntervalSec"]}
                [Service]
                Type={settings["Type"]}
                NotifyAccess={settings["NotifyAccess"]}
                Restart={settings["Restart"]}
                RestartSec=100ms
                WatchdogSec=1s
                Environment=PYTHONPATH={REPO}
                ExecStart={sys.executable} {tmp_path / "feeder.py"} {frames}
                ExecStopPost=/bin/sh -c 'echo "$$SERVICE_RESULT $$EXIT_STATUS" >>{name}.ends'
                WorkingDirectory={tmp_path}
                """
            )
        )
    env = dict(os.environ, WORK=str(tmp_path), OBSERVE="5")
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "bash", "-c", HARNESS],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    log = (tmp_path / "manager.log").read_text(errors="replace")
    if result.returncode != 0 and "NRestarts" not in result.stdout:
        pytest.skip(f"systemd --user would not start here: {result.stderr[-500:]} {log[-500:]}")
    shown = dict(line.split("=", 1) for line in result.stdout.split())
    assert int(shown["hung.NRestarts"]) >= 2, log
    # Killed by the watchdog (SIGABRT, so faulthandler dumps the stacks), not crashed.
    ends = (tmp_path / "hung.ends").read_text().split("\n")
    assert ends[0] == "watchdog ABRT", ends
    healthy_ends = tmp_path / "healthy.ends"  # only from the harness's final shutdown
    assert "watchdog" not in (healthy_ends.read_text() if healthy_ends.exists() else "")
    assert shown["healthy.NRestarts"] == "0"
    assert shown["healthy.ActiveState"] == "active"
