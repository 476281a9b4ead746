"""Write requirements/kiosk-aarch64.wheels: the file pip installs on the Pi for each package
of requirements/kiosk.lock (64-bit Arm, glibc 2.36 on Bookworm, CPython 3.11), with its
SHA-256, one line a package:

    cryptography==50.0.2 cryptography-50.0.2-cp311-abi3-manylinux_2_34_aarch64.whl sha256:…

pip itself picks the files, exactly as install.sh asks it on the Pi (`pip download
--platform … --only-binary=:all:`, the lock's hashes required), so this needs PyPI: about
100 MB the first time, kept in build/pi-wheels/ (a rerun downloads nothing new). `make lock`
runs it; tests/provisioning/test_pi_wheels.py then checks the list against the lock offline,
in milliseconds, and (slow) that PyPI still gives the same files.

    python scripts/pi_wheels.py [--lock FILE] [--output FILE] [--downloads DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements" / "kiosk.lock"
MANIFEST = REPO / "requirements" / "kiosk-aarch64.wheels"
DOWNLOADS = REPO / "build" / "pi-wheels"
# Bookworm's glibc is 2.36: every manylinux up to 2.36 installs there. pip does not expand
# `--platform manylinux_2_36_aarch64` to the older ones by itself, so they are all listed.
PI_PLATFORMS = (
    "manylinux2014_aarch64",
    *(f"manylinux_2_{minor}_aarch64" for minor in range(17, 37)),
)
#: Locked packages published only as source, checked to be pure Python (no compiled code), so
#: pip on the Pi builds them from source without a compiler.
PURE_PYTHON_SDISTS = (
    "jieba",  # its dictionary ranks the on-screen keyboard's candidates
    "packbits",  # brother-ql-next's run-length coding of Brother QL raster lines: one .py file
)
HEADER = """\
# The file pip installs on the Raspberry Pi (aarch64, glibc 2.36, CPython 3.11) for each
# package of requirements/kiosk.lock, with its SHA-256 (one of the lock's hashes).
# Made by `make lock` (scripts/pi_wheels.py, which asks pip and PyPI); do not edit.
# tests/provisioning/test_pi_wheels.py checks it against the lock offline.
"""


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(lock: Path) -> dict[str, str]:
    """name -> version of every package pinned in `lock`."""
    pins = {}
    for line in lock.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", line)
        if match:
            pins[normalized(match.group(1))] = match.group(2)
    return pins


def file_release(filename: str) -> tuple[str, str]:
    """The project (normalized) and version a wheel or sdist file holds."""
    if filename.endswith(".whl"):
        project, version = filename.split("-")[:2]
    else:
        project, version = filename.removesuffix(".tar.gz").removesuffix(".zip").rsplit("-", 1)
    return normalized(project), version


def compiled_sources(sdist: Path) -> list[str]:
    """The files of an sdist a compiler would have to build."""
    with tarfile.open(sdist) as archive:
        return [
            member.name
            for member in archive.getmembers()
            if member.name.endswith((".c", ".cc", ".cpp", ".pyx", ".rs", ".f90"))
        ]


def download(lock: Path, downloads: Path) -> None:
    platforms = [arg for platform in PI_PLATFORMS for arg in ("--platform", platform)]
    result = subprocess.run(
        [
            sys.executable, "-m", "pip", "download",
            "--quiet", "--disable-pip-version-check", "--no-input",
            "--no-deps", "--only-binary=:all:", "--no-binary", ",".join(PURE_PYTHON_SDISTS),
            *platforms, "--implementation", "cp", "--python-version", "3.11",
            "--require-hashes", "-r", str(lock), "--dest", str(downloads),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
    )  # fmt: skip
    if result.returncode != 0:
        errors = [line for line in result.stderr.splitlines() if not line.startswith("WARNING")]
        raise SystemExit("pip could not find every file for the Pi:\n" + "\n".join(errors[-30:]))


def manifest_lines(lock: Path, downloads: Path) -> list[str]:
    """One line a locked package: the file pip picked for the Pi, with its SHA-256."""
    pins = locked_versions(lock)
    picked: dict[str, Path] = {}
    for path in sorted(downloads.iterdir()):
        project, version = file_release(path.name)
        # The folder may hold files of older locks too: only the pinned version counts.
        if pins.get(project) == version:
            picked[project] = path
    missing = sorted(set(pins) - set(picked))
    if missing:
        raise SystemExit(f"no file for the Pi was downloaded for {', '.join(missing)}")
    lines = []
    for project in sorted(pins):
        path = picked[project]
        if not path.name.endswith(".whl"):
            if project not in PURE_PYTHON_SDISTS:
                raise SystemExit(f"{path.name}: {project} has no wheel for the Pi")
            compiled = compiled_sources(path)
            if compiled:
                raise SystemExit(f"{path.name} carries code to compile: {compiled[:5]}")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{project}=={pins[project]} {path.name} sha256:{digest}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lock", type=Path, default=LOCK)
    parser.add_argument("--output", type=Path, default=MANIFEST)
    parser.add_argument("--downloads", type=Path, default=DOWNLOADS)
    args = parser.parse_args(argv)
    args.downloads.mkdir(parents=True, exist_ok=True)
    download(args.lock, args.downloads)
    lines = manifest_lines(args.lock, args.downloads)
    args.output.write_text(HEADER + "\n".join(lines) + "\n")
    print(f"{args.output}: {len(lines)} files for the Pi")
    return 0


if __name__ == "__main__":
    sys.exit(main())
