"""install.sh in a real Debian Bookworm root, built with debootstrap (make test-slow).

The root is built once and cached as a tarball under build/provisioning/ (about 45 s the
first time); the apt archives and pip's cache are kept there too, so a rerun takes well
under a minute. The Raspberry Pi's own packages (python3-picamera2) are not in Debian:
install.sh --standin-pi-packages puts empty stand-ins in their place.

Checked: the kiosk user and its groups, the files and their permissions, the enabled units,
`systemd-analyze verify` of the units inside that root (with the real /opt/kiosk programs),
the kiosk's own configuration check, and that a second run changes nothing at all.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

# debootstrap (up to 1800 s on a slow mirror, once), then two runs of install.sh (about 4 min
# on 2 cores with warm caches, and up to 3600 s each by their own timeout when cold).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3 * 3600)]

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "build" / "provisioning"
MIRROR = os.environ.get("KIOSK_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# Raspberry Pi OS Lite has these; debootstrap's minbase does not.
INCLUDE = "systemd,systemd-sysv,udev,dbus,ca-certificates,passwd,login"
SITE = Path(__file__).with_name("site-test.conf")
#: Paths whose contents legitimately differ between runs (caches, logs, mount points).
LIVE_DATA = "var/lib/kiosk/data"
VOLATILE = ("proc", "sys", "dev", "run", "tmp", "var/cache", "var/log", "var/lib/apt/lists")


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]


def architecture() -> str:
    return run(["dpkg", "--print-architecture"]).stdout.strip()


@pytest.fixture(scope="module")
def bookworm_tarball() -> Path:
    if os.geteuid() != 0:
        pytest.skip("debootstrap and chroot need root")
    if shutil.which("debootstrap") is None:
        pytest.fail("debootstrap is not installed: apt-get install debootstrap")
    tarball = CACHE / f"bookworm-{architecture()}.tar.gz"
    if tarball.exists():
        return tarball
    CACHE.mkdir(parents=True, exist_ok=True)
    work = CACHE / "debootstrap-work"
    shutil.rmtree(work, ignore_errors=True)
    result = run(
        ["debootstrap", "--variant=minbase", f"--include={INCLUDE}", "bookworm", str(work), MIRROR],
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    partial = tarball.with_suffix(".partial")
    result = run(["tar", "-C", str(work), "--numeric-owner", "-czf", str(partial), "."])
    assert result.returncode == 0, result.stderr
    partial.rename(tarball)
    shutil.rmtree(work)
    return tarball


@pytest.fixture
def debian_root(bookworm_tarball: Path, tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "root"
    root.mkdir()
    result = run(["tar", "-C", str(root), "--numeric-owner", "-xzf", str(bookworm_tarball)])
    assert result.returncode == 0, result.stderr
    mounted: list[Path] = []

    def bind(source: Path, target: Path) -> None:
        if target.is_dir() or source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        result = run(["mount", "--bind", str(source), str(target)])
        assert result.returncode == 0, result.stderr
        mounted.append(target)

    # Caches that survive the test, so that reruns download nothing.
    for name, inside in (
        ("apt-archives", "var/cache/apt/archives"),
        ("pip-cache", "var/cache/kiosk-pip"),
    ):
        (CACHE / name / "partial").mkdir(parents=True, exist_ok=True)
        bind(CACHE / name, root / inside)
    # This machine's trust store, in case its way to PyPI goes through a TLS proxy.
    host_bundle = Path("/etc/ssl/certs/ca-certificates.crt")
    inside_bundle = root / "etc/ssl/certs/ca-certificates.crt"
    if host_bundle.exists() and inside_bundle.exists():
        bind(host_bundle, inside_bundle)
    try:
        yield root
    finally:
        for target in reversed(mounted):
            run(["umount", "-l", str(target)])
        # Whatever an installer killed half-way left mounted (it had no chance to undo it):
        # a mount left behind would keep the next run's pytest from removing old folders.
        for leftover in mounts_under(root):
            run(["umount", "-l", str(leftover)])
        shutil.rmtree(root, ignore_errors=True)


def mounts_under(root: Path) -> list[Path]:
    """Mount points at or below `root`, deepest first (from the kernel's own table)."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = Path(line.split()[4].replace("\\040", " "))
        if point == root or root in point.parents:
            found.append(point)
    return sorted(found, key=lambda point: len(point.parts), reverse=True)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """The checkout as it is now, frozen: edits made during the test cannot leak into it."""
    frozen = tmp_path / "source"
    frozen.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for part in ("pyproject.toml", "README.md", "kiosk", "requirements", "provisioning", "systemd"):
        if (REPO / part).is_dir():
            shutil.copytree(REPO / part, frozen / part, ignore=ignore, symlinks=True)
        else:
            shutil.copy2(REPO / part, frozen / part)
    return frozen


def install(root: Path, source: Path) -> subprocess.CompletedProcess[str]:
    return run(
        [
            str(source / "provisioning" / "install.sh"),
            "--root", str(root),
            "--source", str(source),
            "--site-config", str(SITE),
            "--standin-pi-packages",
        ],
        env={**os.environ, "PIP_CACHE_DIR": "/var/cache/kiosk-pip"},
        timeout=3600,
    )  # fmt: skip


def snapshot(root: Path) -> dict[str, tuple[object, ...]]:
    """Every path's type, mode, owner, size, mtime and link target (volatile trees left out)."""
    state: dict[str, tuple[object, ...]] = {}
    skip = {root / name for name in VOLATILE}
    for directory, folders, files in os.walk(root):
        here = Path(directory)
        folders[:] = [name for name in folders if here / name not in skip]
        for name in folders + files:
            path = here / name
            info = path.lstat()
            link = os.readlink(path) if stat.S_ISLNK(info.st_mode) else None
            size = info.st_size if stat.S_ISREG(info.st_mode) else 0
            mtime = info.st_mtime_ns
            if stat.S_ISDIR(info.st_mode) and path.is_relative_to(root / LIVE_DATA):
                # SQLite creates and deletes its -wal and -shm files beside the database
                # whenever it is opened (kiosk init, the enrolment retry): the folder's
                # time moves, its contents do not.
                mtime = 0
            state[str(path.relative_to(root))] = (
                info.st_mode,
                info.st_uid,
                info.st_gid,
                size,
                mtime,
                link,
            )
    return state


def chroot(root: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return run(["chroot", str(root), *command])


def mode_owner(root: Path, relative: str) -> tuple[str, str, str]:
    info = (root / relative).stat()
    group = chroot(root, "getent", "group", str(info.st_gid)).stdout.split(":")[0]
    user = chroot(root, "getent", "passwd", str(info.st_uid)).stdout.split(":")[0]
    return oct(stat.S_IMODE(info.st_mode)), user, group


def test_install_in_a_bookworm_root_twice(debian_root: Path, source: Path) -> None:
    root = debian_root
    outside = {"source": snapshot(source), "site": SITE.read_bytes()}
    first = install(root, source)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-6000:]
    assert "done: " in first.stderr
    # Nothing outside the root was written: not the source, not the site file.
    assert {"source": snapshot(source), "site": SITE.read_bytes()} == outside
    # Every error says what went wrong: none ends at its colon.
    errors = [line for line in first.stderr.splitlines() if "error:" in line]
    assert not [line for line in errors if line.rstrip().endswith(":")], errors

    # The user and its groups
    groups = chroot(root, "id", "-nG", "kiosk").stdout.split()
    assert {"kiosk", "video", "render", "input", "lp", "dialout"} <= set(groups)
    assert (
        chroot(root, "getent", "passwd", "kiosk")
        .stdout.strip()
        .endswith(":/var/lib/kiosk:/usr/sbin/nologin")
    )

    # Files and permissions: secrets readable by the kiosk user only
    assert mode_owner(root, "etc/kiosk") == ("0o750", "root", "kiosk")
    assert mode_owner(root, "etc/kiosk/kiosk.toml") == ("0o640", "root", "kiosk")
    assert mode_owner(root, "etc/kiosk/site.conf") == ("0o600", "root", "root")
    assert mode_owner(root, "var/lib/kiosk") == ("0o750", "kiosk", "kiosk")
    assert mode_owner(root, "var/lib/kiosk/keys") == ("0o700", "kiosk", "kiosk")
    keys = sorted(p.name for p in (root / "var/lib/kiosk/keys").iterdir())
    assert "badge.key" in keys
    for key in keys:
        assert mode_owner(root, f"var/lib/kiosk/keys/{key}") == ("0o600", "kiosk", "kiosk")
    assert mode_owner(root, "var/lib/kiosk/data/kiosk.sqlite3")[1:] == ("kiosk", "kiosk")
    wifi = "etc/NetworkManager/system-connections/kiosk-wifi.nmconnection"
    assert mode_owner(root, wifi) == ("0o600", "root", "root")
    assert "ssid=Tower Guest" in (root / wifi).read_text()
    toml = (root / "etc/kiosk/kiosk.toml").read_text(encoding="utf-8")
    assert 'name = "Test Tower 测试大厦"' in toml and 'kiosk_name = "Lobby \\"A\\""' in toml
    assert (root / "etc/udev/rules.d/99-kiosk-printers.rules").exists()
    assert (root / "etc/udev/rules.d/99-kiosk-idreader.rules").exists()
    assert (root / "etc/systemd/journald.conf.d/60-kiosk.conf").exists()
    assert (
        "NTP=ntp.example.invalid"
        in (root / "etc/systemd/timesyncd.conf.d/60-kiosk.conf").read_text()
    )
    assert os.readlink(root / "etc/localtime") == "/usr/share/zoneinfo/Asia/Shanghai"
    assert '"1"' in (root / "etc/apt/apt.conf.d/20auto-upgrades").read_text()
    assert (root / "etc/hostname").read_text() == "lobby-kiosk-test\n"
    # No `kiosk enroll` yet, or no office: the enrolment waits for kiosk-enrol.service.
    assert (root / "var/lib/kiosk/provisioning").is_dir()

    # The stand-in, the venv (with the system's site packages) and the kiosk's own checks
    standin = chroot(root, "dpkg-query", "-W", "-f=${Version}", "python3-picamera2").stdout
    assert standin == "0~kiosk.standin"
    cfg = (root / "opt/kiosk/venv/pyvenv.cfg").read_text()
    assert "include-system-site-packages = true" in cfg
    shown = chroot(
        root, "runuser", "-u", "kiosk", "--", "/opt/kiosk/venv/bin/kiosk", "config", "show",
        "--config", "/etc/kiosk/kiosk.toml", "--json",
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert '"Test Tower 测试大厦"' in shown.stdout

    # Units: enabled as the kiosk needs, and valid with the real programs in place
    for unit in ("kiosk.service", "kiosk-sync.service", "kiosk-nightly.timer",
                 "kiosk-provision.service", "systemd-timesyncd.service"):  # fmt: skip
        assert chroot(root, "systemctl", "is-enabled", unit).stdout.strip() == "enabled", unit
    assert chroot(root, "systemctl", "is-enabled", "kiosk-office.service").stdout.strip() == (
        "disabled"
    )
    assert chroot(root, "systemctl", "get-default").stdout.strip() == "multi-user.target"
    if shutil.which("systemd-analyze"):
        for unit_file in sorted((REPO / "systemd").glob("kiosk*.*")):
            verified = run(
                ["systemd-analyze", "verify", "--man=no", f"--root={root}", unit_file.name]
            )
            assert verified.returncode == 0 and not verified.stderr.strip(), verified.stderr

    # The second run changes nothing
    before = snapshot(root)
    second = install(root, source)
    assert second.returncode == 0, second.stderr[-6000:]
    assert "done: 0 changes" in second.stderr, second.stderr[-3000:]
    after = snapshot(root)
    differences = sorted(
        path for path in before.keys() | after.keys() if before.get(path) != after.get(path)
    )
    assert differences == [], differences[:50]
    assert {"source": snapshot(source), "site": SITE.read_bytes()} == outside
