"""Static checks of the provisioning scripts and the systemd units.

- shellcheck on every shell script of the repository;
- `systemd-analyze verify` on every unit. It needs no running systemd: it loads the unit in
  a test-mode manager. With `--root` it resolves the unit's dependencies and ExecStart=
  binaries inside a prepared tree (the host's own units, plus stand-ins at /opt/kiosk for
  the programs install.sh puts there), and its warnings (unknown keys, bad values) are
  treated as failures too;
- `systemd-analyze security --offline` holds each long-running unit to an exposure score;
- and what the issue asks of kiosk.service in particular.
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNITS = sorted((REPO / "systemd").glob("kiosk*.*"))
SHEBANGS = (b"#!/bin/sh", b"#!/bin/bash", b"#!/usr/bin/env bash", b"#!/usr/bin/env sh")
SCRIPTS = sorted(
    path
    for folder in ("provisioning", "scripts")
    for path in (REPO / folder).rglob("*")
    if path.is_file() and (path.suffix == ".sh" or path.read_bytes()[:40].startswith(SHEBANGS))
)
#: The highest `systemd-analyze security` exposure allowed (0 best, 10 worst).
MAX_EXPOSURE = {"kiosk.service": 3.0}
DEFAULT_MAX_EXPOSURE = 2.5


def need(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed: apt-get install {package}")
    return path


def test_there_are_scripts_and_units() -> None:
    assert REPO / "provisioning" / "install.sh" in SCRIPTS
    names = {unit.name for unit in UNITS}
    assert {
        "kiosk.service",
        "kiosk-sync.service",
        "kiosk-nightly.service",
        "kiosk-nightly.timer",
        "kiosk-office.service",
    } <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: str(path.relative_to(REPO)))
def test_shellcheck(script: Path) -> None:
    shellcheck = need("shellcheck", "shellcheck")
    result = subprocess.run(
        [shellcheck, "--external-sources", str(script)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_install_sh_is_executable() -> None:
    assert (REPO / "provisioning" / "install.sh").stat().st_mode & 0o111


@pytest.fixture(scope="module")
def unit_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tree for `systemd-analyze --root`: the host's units, ours, and stand-in programs."""
    root = tmp_path_factory.mktemp("unit-root")
    for system_units in ("/usr/lib/systemd/system", "/lib/systemd/system"):
        if Path(system_units).is_dir():
            shutil.copytree(
                system_units, root / "usr/lib/systemd/system", symlinks=True, dirs_exist_ok=True
            )
            break
    for program in ("opt/kiosk/venv/bin/kiosk", "opt/kiosk/src/provisioning/install.sh"):
        path = root / program
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    target = root / "etc/systemd/system"
    target.mkdir(parents=True)
    for unit in UNITS:
        shutil.copy(unit, target / unit.name)
    return root


@pytest.mark.parametrize("unit", UNITS, ids=lambda path: path.name)
def test_systemd_analyze_verify(unit: Path, unit_root: Path) -> None:
    analyze = need("systemd-analyze", "systemd")
    result = subprocess.run(
        [analyze, "verify", "--man=no", f"--root={unit_root}", unit.name],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # warnings count as failures


@pytest.mark.parametrize(
    "unit", [u for u in UNITS if u.suffix == ".service"], ids=lambda path: path.name
)
def test_systemd_analyze_security(unit: Path, unit_root: Path) -> None:
    analyze = need("systemd-analyze", "systemd")
    if unit.name in {"kiosk-provision.service", "kiosk-enrol.service"}:
        pytest.skip("runs the installer as root on purpose")
    limit = MAX_EXPOSURE.get(unit.name, DEFAULT_MAX_EXPOSURE)
    result = subprocess.run(
        [
            analyze,
            "security",
            "--offline=yes",
            f"--root={unit_root}",
            f"--threshold={round(limit * 10)}",
            "--no-pager",
            unit.name,
        ],
        capture_output=True,
        text=True,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, f"{summary} (allowed {limit}){result.stderr}"


def read_unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(REPO / "systemd" / name)
    return parser


def test_kiosk_service_keeps_restarting_and_is_watched() -> None:
    unit = read_unit("kiosk.service")
    service = unit["Service"]
    assert service["Type"] == "notify"
    assert service["Restart"] == "always"
    assert unit["Unit"]["StartLimitIntervalSec"] == "0"  # never stops restarting
    assert service["WatchdogSec"].rstrip("s").isdigit()
    assert service["TTYPath"] == "/dev/tty1"
    assert service["Environment"]  # SDL_VIDEODRIVER=kmsdrm among others
    assert "kmsdrm" in (REPO / "systemd" / "kiosk.service").read_text()


def test_kiosk_service_is_hardened_without_hiding_devices() -> None:
    service = read_unit("kiosk.service")["Service"]
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/kiosk"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectHome"] == "yes"
    # Each of these would hide /dev/dri, /dev/video*, /dev/input or the USB printers.
    for hiding in ("PrivateDevices", "DevicePolicy", "DeviceAllow", "PrivateUsers", "ProtectClock"):
        assert hiding not in service, hiding
    assert "AF_NETLINK" in service["RestrictAddressFamilies"]  # udev hot-plug events


def test_the_kiosk_boots_without_the_network() -> None:
    for name in ("kiosk.service", "kiosk-nightly.service", "kiosk-provision.service"):
        text = (REPO / "systemd" / name).read_text()
        assert "network-online" not in text, name
    sync = read_unit("kiosk-sync.service")
    assert "network-online.target" in sync["Unit"]["After"]
    assert sync["Service"]["Restart"] == "always"


def test_nightly_timer_catches_up_after_a_power_cut() -> None:
    timer = read_unit("kiosk-nightly.timer")["Timer"]
    assert timer["Persistent"] == "yes"
    assert timer["OnCalendar"]
    nightly = read_unit("kiosk-nightly.service")["Service"]
    assert nightly["ExecStart"].split()[:2] == ["/opt/kiosk/venv/bin/kiosk", "nightly"]


def test_units_run_the_commands_of_the_kiosk_cli() -> None:
    expected = {
        "kiosk.service": ["run"],
        "kiosk-sync.service": ["sync"],
        "kiosk-nightly.service": ["nightly"],
        "kiosk-office.service": ["office", "serve"],
    }
    for name, words in expected.items():
        exec_start = read_unit(name)["Service"]["ExecStart"].split()
        assert exec_start[0] == "/opt/kiosk/venv/bin/kiosk"
        assert exec_start[1 : 1 + len(words)] == words, name
        assert "--config" in exec_start
        assert read_unit(name)["Service"]["User"] == "kiosk"


def test_kiosk_service_stops_the_touchscreen_which_closes_the_engine() -> None:
    # SIGTERM to the touchscreen only: it closes the engine through the link, so a normal
    # power-off logs no "link to the kiosk engine is closed" error (engine_link._read).
    assert read_unit("kiosk.service")["Service"]["KillMode"] == "mixed"
