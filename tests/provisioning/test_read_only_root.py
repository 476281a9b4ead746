"""provisioning/read-only-root.sh, the read-only root's step of install.sh, in a real bash.

The file overlayroot's initramfs script reads (/etc/overlayroot.local.conf) is shell that
its parse_cfg sources: it is sourced here by sh the same way, and must give `tmpfs` with
`recurse=0` (else the data partition would be overlaid too and the database lost at every
reboot). The hint install.sh prints on an overlay root names the way out of the system it
runs on: raspi-config's on Raspberry Pi OS, overlayroot-chroot on Debian. The boot itself
(/ an overlay, the data partition rw) is proven by `make test-image`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HELPER = REPO / "provisioning" / "read-only-root.sh"


def bash(script: str, path: str | None = None) -> str:
    env = {**os.environ, "PATH": path or os.environ["PATH"], "STATE_DIR": "/var/lib/kiosk"}
    result = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-c", f'source "{HELPER}"\n{script}'],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_overlayroot_file_is_tmpfs_and_leaves_other_mounts_alone(tmp_path: Path) -> None:
    conf = tmp_path / "overlayroot.local.conf"
    conf.write_text(bash("overlayroot_conf"), encoding="utf-8")
    # overlayroot's parse_cfg sources the file in sh and reads the variable.
    value = subprocess.run(
        ["sh", "-c", f'. "{conf}"; printf %s "$overlayroot"'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    mode, _, options = value.partition(":")
    assert mode == "tmpfs"
    assert "recurse=0" in options.split(",")
    assert "/var/lib/kiosk" in conf.read_text(encoding="utf-8")  # says what is left out


def test_the_hint_on_an_overlay_root_fits_the_system(tmp_path: Path) -> None:
    # A PATH without raspi-config: Debian.
    bare = tmp_path / "bin"
    bare.mkdir()
    debian = bash("overlay_off_hint", path=str(bare))
    assert "overlayroot-chroot rm /etc/overlayroot.local.conf" in debian
    assert "raspi-config" not in debian
    # Raspberry Pi OS: raspi-config is there (an executable of that name is all it takes).
    raspi = bare / "raspi-config"
    raspi.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    raspi.chmod(0o755)
    assert "raspi-config nonint disable_overlayfs" in bash("overlay_off_hint", path=str(bare))


def test_install_sh_applies_the_read_only_root_at_first_boot_too() -> None:
    """kiosk-provision.service runs --site-only at the first boot of an image: the site
    file's READ_ONLY_ROOT=yes must take effect there, not only in a full install."""
    text = (REPO / "provisioning" / "install.sh").read_text(encoding="utf-8")
    site = text[text.index("        site)\n") : text.index("        base | all)")]
    assert "step_overlay" in site
    assert (
        'on_overlay_root; then\n        die "the root filesystem is read-only (overlay): $(overlay_off_hint)"'
        in text
    )


def test_an_initramfs_without_busybox_cannot_overlay() -> None:
    """overlayroot's script needs grep, which klibc's utilities lack: without busybox in the
    initramfs it fails at boot ("grep: not found ... Unable to find a driver") and the root
    stays writable, as make test-image's read-only boot showed. Listings as lsinitramfs
    prints them for bookworm's initramfs-tools."""
    script = "usr/scripts/init-bottom/overlayroot\nscripts/init-bottom/overlayroot"
    klibc = "usr/lib/klibc-xcHx.so\nusr/bin/sh\nusr/bin/mount"
    verdict = "if listing_can_overlay; then echo yes; else echo no; fi"
    for listing, expected in [
        (f"{script}\n{klibc}", "no"),
        (f"{script}\n{klibc}\nusr/bin/busybox\nusr/bin/grep", "yes"),
        (f"{klibc}\nusr/bin/busybox", "no"),
        ("", "no"),
    ]:
        assert bash(f"printf '%s\\n' '{listing}' | {verdict}").strip() == expected, listing


def test_the_root_under_the_overlay_is_mounted_read_only_from_the_next_boot(
    tmp_path: Path,
) -> None:
    """raspi-firmware's cmdline.txt says `rw`, and overlayroot leaves the SD card's root as
    the initramfs mounted it: make test-image saw /media/root-ro rw. A last `ro` wins; it goes
    into raspi-firmware's extra line too (a kernel upgrade writes cmdline.txt anew), once."""
    cmdline = tmp_path / "cmdline.txt"
    cmdline.write_text(
        " console=serial0,115200 console=tty1 root=LABEL=RASPIROOT rw fsck.repair=yes"
        " net.ifnames=0  rootwait consoleblank=0\n",
        encoding="utf-8",
    )
    extra = tmp_path / "raspi-extra-cmdline"
    extra.write_text("consoleblank=0\n", encoding="utf-8")
    stubs = 'say() { echo "say: $*"; }\nchanged() { echo "changed: $*"; }\n'
    run = f'{stubs}lower_root_read_only "{cmdline}" "{extra}"'
    first = bash(run)
    assert first.count("changed:") == 2, first
    words = cmdline.read_text(encoding="utf-8").split()
    assert [w for w in words if w in ("ro", "rw")] == ["rw", "ro"]
    assert "rootwait" in words and "consoleblank=0" in words  # nothing else touched
    assert extra.read_text(encoding="utf-8").split() == ["consoleblank=0", "ro"]
    assert "changed:" not in bash(run)  # a second run changes nothing
    # No extra line yet (raspi-firmware without one): it is made; no cmdline.txt: said, no change.
    extra.unlink()
    assert "changed:" in bash(run) and extra.read_text(encoding="utf-8").split() == ["ro"]
    missing = bash(f'{stubs}lower_root_read_only "{tmp_path / "none.txt"}" ""')
    assert "say: no" in missing and "changed:" not in missing
