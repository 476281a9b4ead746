"""A kiosk that cannot install on the Pi is no kiosk: every package of requirements/kiosk.lock
must come as a wheel for the Pi (64-bit Arm, glibc 2.36 on Bookworm, CPython 3.11) or a pure
Python wheel, with a hash of the lock. pip itself answers, exactly as install.sh will ask it
on the Pi, so this needs PyPI (about 100 MB, some 10 s here).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "requirements" / "kiosk.lock"
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
WHEEL = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?"
    r"-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$"
)


def locked_names() -> set[str]:
    names = set()
    for line in LOCK.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==", line)
        if match:
            names.add(re.sub(r"[-_.]+", "-", match.group(1)).lower())
    return names


def test_every_locked_package_has_a_wheel_for_the_pi(tmp_path: Path) -> None:
    platforms = [arg for platform in PI_PLATFORMS for arg in ("--platform", platform)]
    result = subprocess.run(
        [
            sys.executable, "-m", "pip", "download",
            "--quiet", "--disable-pip-version-check", "--no-input",
            "--no-deps", "--only-binary=:all:", "--no-binary", ",".join(PURE_PYTHON_SDISTS), *platforms,
            "--implementation", "cp", "--python-version", "3.11",
            "--require-hashes", "-r", str(LOCK), "--dest", str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    errors = [line for line in result.stderr.splitlines() if not line.startswith("WARNING")]
    assert result.returncode == 0, "\n".join(errors[-30:])

    downloaded = {}
    for wheel in tmp_path.glob("*.whl"):
        match = WHEEL.match(wheel.name)
        assert match, wheel.name
        downloaded[re.sub(r"[-_.]+", "-", match["name"]).lower()] = match
    for sdist in tmp_path.glob("*.tar.gz"):
        name = re.sub(r"[-_.]+", "-", sdist.name.rsplit("-", 1)[0]).lower()
        assert name in PURE_PYTHON_SDISTS, f"{sdist.name} has no wheel for the Pi"
        import tarfile

        with tarfile.open(sdist) as archive:
            compiled = [
                m.name
                for m in archive.getmembers()
                if m.name.endswith((".c", ".cpp", ".pyx", ".rs"))
            ]
        assert compiled == [], f"{sdist.name} carries code to compile: {compiled[:5]}"
        downloaded[name] = None  # type: ignore[assignment]
    assert set(downloaded) == locked_names()
    for name, tags in downloaded.items():
        if tags is None:
            continue
        platform_ok = tags["plat"] == "any" or "aarch64" in tags["plat"]
        python_tags = tags["py"].split(".")
        python_ok = any(tag.startswith(("py3", "cp3")) for tag in python_tags)
        abi_ok = tags["abi"] in {"none", "abi3", "cp311"}
        assert platform_ok and python_ok and abi_ok, f"{name}: {tags.string}"
