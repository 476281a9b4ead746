"""A kiosk that cannot install on the Pi is no kiosk: every package of requirements/kiosk.lock
must come as a wheel for the Pi (64-bit Arm, glibc 2.36 on Bookworm, CPython 3.11) or be pure
Python, with a hash of the lock.

requirements/kiosk-aarch64.wheels names the file pip picks on the Pi for each package, with
its SHA-256 (scripts/pi_wheels.py, run by `make lock`). The fast test checks that list against
the lock offline, in milliseconds: a lock changed without it, a hash the lock does not hold,
or a file that is not for the Pi fails here. The slow one asks pip and PyPI again (about 100
MB the first time) and wants the same list; `make test-arm64` installs those very wheels in a
real arm64 root.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "requirements" / "kiosk.lock"
MANIFEST = REPO / "requirements" / "kiosk-aarch64.wheels"
WHEEL = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?"
    r"-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$"
)
#: Bookworm's glibc.
PI_GLIBC = (2, 36)


def pi_wheels_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pi_wheels", REPO / "scripts" / "pi_wheels.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_hashes(lock: Path) -> dict[str, tuple[str, set[str]]]:
    """name -> (version, its sha256 hashes) of every package pinned in the lock."""
    packages: dict[str, tuple[str, set[str]]] = {}
    current = None
    for line in lock.read_text().splitlines():
        pin = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", line)
        if pin:
            current = normalized(pin.group(1))
            packages[current] = (pin.group(2), set())
        for digest in re.findall(r"--hash=sha256:([0-9a-f]{64})", line):
            assert current is not None, line
            packages[current][1].add(digest)
    return packages


def manifest_entries(text: str) -> dict[str, tuple[str, str, str]]:
    """name -> (version, file name, sha256) of every line of kiosk-aarch64.wheels."""
    entries = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-z0-9-]+)==(\S+) (\S+) sha256:([0-9a-f]{64})", line)
        assert match, f"kiosk-aarch64.wheels:{number}: not `name==version file sha256:…`: {line}"
        name, version, filename, digest = match.groups()
        assert name not in entries, f"kiosk-aarch64.wheels:{number}: {name} listed twice"
        entries[name] = (version, filename, digest)
    return entries


def runs_on_the_pi(filename: str) -> str | None:
    """None if the wheel installs on the Pi's CPython 3.11, else why not."""
    tags = WHEEL.match(filename)
    if tags is None:
        return "not a wheel"
    platforms = tags["plat"].split(".")
    if platforms != ["any"]:
        fitting = []
        for platform in platforms:
            if platform == "manylinux2014_aarch64":
                fitting.append(platform)
            glibc = re.fullmatch(r"manylinux_(\d+)_(\d+)_aarch64", platform)
            if glibc and (int(glibc[1]), int(glibc[2])) <= PI_GLIBC:
                fitting.append(platform)
        if not fitting:
            return f"built for {tags['plat']}, not for aarch64 with glibc ≤ 2.36"
    abi = tags["abi"]
    pythons = tags["py"].split(".")
    if abi == "none" and any(tag in {"py3", "cp311"} for tag in pythons):
        return None
    if abi == "cp311" and "cp311" in pythons:
        return None
    if abi == "abi3" and any(
        re.fullmatch(r"cp3(\d+)", tag) and int(tag[3:]) <= 11 for tag in pythons
    ):
        return None
    return f"for Python {tags['py']} ({abi}), not CPython 3.11"


def problems(lock: Path, manifest_text: str) -> list[str]:
    """What is wrong with the list for this lock; nothing, when every package is fine."""
    pure_sdists = pi_wheels_script().PURE_PYTHON_SDISTS
    locked = locked_hashes(lock)
    listed = manifest_entries(manifest_text)
    wrong = [
        f"{name}: locked, not listed (make lock)" for name in sorted(set(locked) - set(listed))
    ]
    wrong += [
        f"{name}: listed, not locked (make lock)" for name in sorted(set(listed) - set(locked))
    ]
    for name, (version, filename, digest) in sorted(listed.items()):
        if name not in locked:
            continue
        locked_version, hashes = locked[name]
        if version != locked_version:
            wrong.append(f"{name}: listed {version}, locked {locked_version} (make lock)")
        elif digest not in hashes:
            wrong.append(f"{name}: {filename}'s hash is not one of the lock's")
        elif filename.endswith(".whl"):
            reason = runs_on_the_pi(filename)
            if reason:
                wrong.append(f"{name}: {filename} {reason}")
        elif name not in pure_sdists:
            wrong.append(f"{name}: only {filename}, source with no wheel for the Pi")
    return wrong


def test_every_locked_package_has_a_file_for_the_pi_in_the_list() -> None:
    assert problems(LOCK, MANIFEST.read_text()) == []


@pytest.mark.parametrize(
    ("filename", "fits"),
    [
        ("cryptography-50.0.2-cp311-abi3-manylinux2014_aarch64.manylinux_2_17_aarch64.whl", True),
        ("numpy-2.4.6-cp311-cp311-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl", True),
        ("attrs-26.1.0-py3-none-any.whl", True),
        ("numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.whl", False),
        # A glibc newer than Bookworm's
        ("numpy-2.4.6-cp311-cp311-manylinux_2_39_aarch64.whl", False),
        ("numpy-2.4.6-cp312-cp312-manylinux_2_28_aarch64.whl", False),
        ("numpy-2.4.6-cp311-cp311-musllinux_1_2_aarch64.whl", False),
        # abi3 from CPython 3.14 on
        ("pynacl-1.6.2-cp314-abi3-manylinux_2_34_aarch64.whl", False),
        ("six-1.17.0-py2-none-any.whl", False),
    ],
)
def test_the_check_tells_a_pi_wheel_from_others(filename: str, fits: bool) -> None:
    assert (runs_on_the_pi(filename) is None) is fits, runs_on_the_pi(filename)


def test_a_stale_or_edited_list_is_refused() -> None:
    """The check can fail: a list made before the lock changed, a hash edited, a package
    left out, an x86-64 wheel, a source package that needs a compiler."""
    text = MANIFEST.read_text()
    line = next(line for line in text.splitlines() if line.startswith("cryptography=="))
    name_version, filename, digest = line.split()
    version = name_version.split("==")[1]
    assert problems(LOCK, text.replace(line, f"cryptography==0.1 {filename} {digest}")) == [
        f"cryptography: listed 0.1, locked {version} (make lock)"
    ]
    assert problems(LOCK, text.replace(line, line[:-4] + "0000")) == [
        f"cryptography: {filename}'s hash is not one of the lock's"
    ]
    assert problems(LOCK, text.replace(line + "\n", "")) == [
        "cryptography: locked, not listed (make lock)"
    ]
    x86 = filename.replace("aarch64", "x86_64")
    assert problems(LOCK, text.replace(filename, x86)) == [
        f"cryptography: {x86} built for {x86.split('-')[-1][:-4]}, not for aarch64 with glibc ≤ 2.36"
    ]
    sdist = f"cryptography-{version}.tar.gz"
    assert problems(LOCK, text.replace(filename, sdist)) == [
        f"cryptography: only {sdist}, source with no wheel for the Pi"
    ]
    with pytest.raises(AssertionError, match="not `name==version"):
        manifest_entries("cryptography==50.0.2 only-a-file-name.whl\n")


@pytest.mark.slow
def test_pip_and_pypi_still_give_the_listed_files(tmp_path: Path) -> None:
    """pip, asked as install.sh asks it on the Pi, picks exactly the files of the list."""
    script = pi_wheels_script()
    output = tmp_path / "kiosk-aarch64.wheels"
    assert script.main(["--output", str(output)]) == 0
    assert manifest_entries(output.read_text()) == manifest_entries(MANIFEST.read_text())
