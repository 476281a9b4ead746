"""`make test-image`: the image of `make image` booted under qemu-system-aarch64 -M virt.

A copy of build/kiosk-arm64.img gets a `kiosk-site.conf` on its FAT partition (mtools, at
the partition's offset) pointing at an office served on this machine's loopback, which the
guest reaches through qemu's user networking as 10.0.2.2. The kernel and initrd are taken
from the image's boot partition (direct kernel boot: no Pi hardware model), the display is
a virtio-gpu (KMS through the kernel's virtio_gpu driver, Mesa's software renderer), the
serial console goes to a file.

The test's copy, and only it, also gets a probe (tests/image/probe.sh and a unit that runs
it once the kiosk's units have started, written into the ext4 with debugfs, no mount): it
prints `KIOSK-PROBE ...` lines on the console and powers off. After each boot the guest's
journal is read out of the image with debugfs too. Marked slow and image: neither
`make test` nor `make test-slow` runs it. Root is needed only by `make image`.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.image, pytest.mark.timeout(3 * 3600)]

REPO = Path(__file__).resolve().parents[2]
IMAGE = REPO / "build" / "kiosk-arm64.img"
WORK = REPO / "build" / "image-test"
PROBE = Path(__file__).with_name("probe.sh")
KIOSK = str(Path(sys.executable).with_name("kiosk"))
SITE = "Image Tower"
BOOT_SECONDS = 45 * 60  # one boot under TCG on 2 shared cores, with room to spare
PROBE_UNIT = """\
[Unit]
Description=make test-image's probe (only in the test's copy of the image)
After=kiosk-provision.service kiosk.service kiosk-sync.service kiosk-enrol.service
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/kiosk-image-probe
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=40min

[Install]
WantedBy=multi-user.target
"""


def run(*command: str | Path, check: bool = True) -> str:
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(map(str, command))}: {result.returncode}\n{result.stderr[-3000:]}")
    return result.stdout


@dataclass
class Disk:
    """A copy of the image and its two partitions' byte offsets."""

    path: Path
    boot_offset: int
    root_offset: int

    @classmethod
    def copy_of(cls, image: Path, path: Path) -> Disk:
        run("cp", "--sparse=always", image, path)
        table = json.loads(run("sfdisk", "--json", path))["partitiontable"]
        sector = int(table.get("sectorsize", 512))
        boot, root = (int(part["start"]) * sector for part in table["partitions"][:2])
        return cls(path, boot, root)

    def fat(self) -> str:
        return f"{self.path}@@{self.boot_offset}"

    def ext4(self) -> str:
        return f"{self.path}?offset={self.root_offset}"

    def put_boot_file(self, local: Path, name: str) -> None:
        run("mcopy", "-o", "-i", self.fat(), local, f"::{name}")

    def get_boot_file(self, name: str, local: Path) -> Path:
        run("mcopy", "-o", "-n", "-i", self.fat(), f"::{name}", local)
        return local

    def debugfs(self, request: str, *, write: bool = False) -> str:
        flags = ["-w"] if write else []
        return run("debugfs", *flags, "-R", request, self.ext4())

    def debugfs_script(self, lines: list[str]) -> str:
        script = self.path.with_suffix(".debugfs")
        script.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return run("debugfs", "-w", "-f", script, self.ext4())

    def root_file(self, path: str) -> str:
        return self.debugfs(f"cat {path}")

    def journal(self, into: Path) -> Path:
        shutil.rmtree(into, ignore_errors=True)
        into.mkdir(parents=True)
        self.debugfs(f"rdump /var/log/journal {into}")
        return into / "journal"


@dataclass
class Boot:
    """One boot's console and figures."""

    console: str
    seconds: float
    probe: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, console: str, seconds: float) -> Boot:
        probe: dict[str, str] = {}
        for found in re.finditer(r"KIOSK-PROBE (\S+) ?(.*)", console):
            key, rest = found.group(1), found.group(2).strip()
            if key in ("unit", "file", "mark-write") and "=" in rest:
                name, value = rest.split("=", 1)
                probe[f"{key}:{name}"] = value
            else:
                probe[key] = rest
        return cls(console, seconds, probe)


def qemu(
    disk: Disk,
    append: str,
    console_log: Path,
    *,
    network: bool = True,
    data_disk: Path | None = None,
    on_console: tuple[str, Callable[[], None]] | None = None,
    seconds: float = BOOT_SECONDS,
) -> Boot:
    # The files the Pi's firmware boots: config.txt's kernel= and initramfs lines.
    config = disk.get_boot_file("config.txt", WORK / "config.txt").read_text(encoding="utf-8")
    kernel_name = re.search(r"^kernel=(\S+)", config, re.M)
    initrd_name = re.search(r"^initramfs (\S+)", config, re.M)
    assert kernel_name and initrd_name, config
    kernel = disk.get_boot_file(kernel_name.group(1), WORK / "vmlinuz")
    initrd = disk.get_boot_file(initrd_name.group(1), WORK / "initrd.img")
    # The Pi's own command line (raspi-firmware's cmdline.txt, as provisioning left it),
    # with the virt machine's serial console in place of the Pi's consoles.
    cmdline = disk.get_boot_file("cmdline.txt", WORK / "cmdline.txt").read_text(encoding="utf-8")
    words = [word for word in cmdline.split() if not word.startswith("console=")]
    net = (
        ["-netdev", "user,id=n", "-device", "virtio-net-device,netdev=n"]
        if network
        else ["-nic", "none"]
    )
    # A second virtio disk (/dev/vdb): the data partition of the read-only root's boot.
    extra = ["-drive", f"file={data_disk},if=virtio,format=raw"] if data_disk else []
    command = [
        "qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-m", "2G", "-smp", "2",
        "-accel", "tcg,thread=multi", "-kernel", str(kernel), "-initrd", str(initrd),
        "-append", " ".join([*words, "console=ttyAMA0", append]),
        "-drive", f"file={disk.path},if=virtio,format=raw", *net, *extra,
        "-device", "virtio-rng-pci", "-device", "virtio-gpu-pci",
        "-display", "none", "-monitor", "none", "-serial", f"file:{console_log}", "-no-reboot",
    ]  # fmt: skip
    start = time.monotonic()
    machine = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        if on_console is not None:  # run `action` once the console shows `line`
            line, action = on_console
            while machine.poll() is None and time.monotonic() - start < seconds:
                if console_log.exists() and line in console_log.read_text(errors="replace"):
                    action()
                    break
                time.sleep(5)
        output, _ = machine.communicate(timeout=max(1, seconds - (time.monotonic() - start)))
    except subprocess.TimeoutExpired:
        machine.kill()
        machine.communicate()
        tail = console_log.read_text(errors="replace")[-4000:]
        pytest.fail(f"no power-off within {seconds:.0f} s; the console's end:\n{tail}")
    seconds = time.monotonic() - start
    assert machine.returncode == 0, output
    return Boot.parse(console_log.read_text(errors="replace"), seconds)


def journal_text(directory: Path, *arguments: str) -> str:
    return run("journalctl", "--directory", directory, "-o", "cat", "--no-pager", *arguments)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Office:
    """`kiosk office serve` on SQLite, on this machine's loopback."""

    db: Path
    port: int
    process: subprocess.Popen[str] | None = None

    def command(self, *arguments: str, as_json: bool = False) -> str:
        flags = ["--json"] if as_json else []
        return run(KIOSK, *flags, "office", *arguments, "--db", self.db)

    def json(self, *arguments: str) -> Any:
        return json.loads(self.command(*arguments, as_json=True))

    def start(self) -> None:
        log = (WORK / "office.log").open("a")
        self.process = subprocess.Popen(
            [KIOSK, "office", "serve", "--db", str(self.db), "--port", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        for _ in range(120):
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.5)
        pytest.fail("the office did not start: see build/image-test/office.log")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


def open_hours_zone() -> str:
    """A time zone where it is now between 09:00 and 10:00, so that a walk-in is admitted
    whatever the hour this test runs at (the kiosk's default opening hours)."""
    offset = 9 - datetime.now(UTC).hour  # local = UTC + offset
    if offset < -12:
        offset += 24
    if offset > 14:
        offset -= 24
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")  # Etc/GMT's sign is inverted


def site_conf(url: str, code: str, **extra: str) -> str:
    keys = {
        "SITE_NAME": SITE, "KIOSK_NAME": "Lobby qemu", "TIMEZONE": open_hours_zone(),
        "OFFICE_URL": url, "OFFICE_PLAIN_HTTP": "yes", "ENROLMENT_CODE": code,
        "CAMERA_KIND": "fake",
        "PRINTER_KIND": "fake", "ID_READER_KIND": "off", "OCR": "no",
        "UNATTENDED_UPGRADES": "no", "READ_ONLY_ROOT": "no",
    }  # fmt: skip
    keys.update(extra)
    return "".join(f'{key}="{value}"\n' for key, value in keys.items())


def add_probe(disk: Disk) -> None:
    unit = WORK / "kiosk-image-probe.service"
    unit.write_text(PROBE_UNIT, encoding="utf-8")
    script = WORK / "kiosk-image-probe"
    shutil.copy(PROBE, script)
    script.chmod(0o755)
    unit.chmod(0o644)
    # Emulation (TCG on two shared cores) is some 20-50 times slower than a Pi 4: the
    # kiosk's start-up limits, made for a Pi, get room in the test's copy only.
    slow = WORK / "emulation.conf"
    slow.write_text(
        "# make test-image: TCG emulation is much slower than a Pi.\n"
        "[Service]\nTimeoutStartSec=30min\n",
        encoding="utf-8",
    )
    slow_kiosk = WORK / "emulation-kiosk.conf"
    slow_kiosk.write_text(
        "# make test-image: TCG emulation is much slower than a Pi.\n"
        "[Service]\nTimeoutStartSec=30min\nWatchdogSec=180s\n",
        encoding="utf-8",
    )
    slow.chmod(0o644)
    slow_kiosk.chmod(0o644)
    disk.debugfs_script([
        "mkdir /etc/systemd/system/kiosk-provision.service.d",
        f"write {slow} /etc/systemd/system/kiosk-provision.service.d/emulation.conf",
        "mkdir /etc/systemd/system/kiosk.service.d",
        f"write {slow_kiosk} /etc/systemd/system/kiosk.service.d/emulation.conf",
        f"write {script} /usr/local/sbin/kiosk-image-probe",
        f"write {unit} /etc/systemd/system/kiosk-image-probe.service",
        "symlink /etc/systemd/system/multi-user.target.wants/kiosk-image-probe.service "
        "/etc/systemd/system/kiosk-image-probe.service",
    ])  # fmt: skip
    listing = disk.debugfs("ls -l /usr/local/sbin")
    assert "kiosk-image-probe" in listing, listing


@pytest.fixture(scope="module")
def image() -> Path:
    if not IMAGE.exists():
        pytest.fail(f"no {IMAGE}: run `sudo make image` first")
    for tool in ("qemu-system-aarch64", "mcopy", "debugfs", "sfdisk", "journalctl"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: sudo scripts/image.sh tools")
    WORK.mkdir(parents=True, exist_ok=True)
    return IMAGE


@pytest.fixture()
def office() -> Iterator[Office]:
    db = WORK / "office" / "office.sqlite3"
    shutil.rmtree(db.parent, ignore_errors=True)
    db.parent.mkdir(parents=True)
    server = Office(db, free_port())
    yield server
    server.stop()


def prepared_disk(image: Path, name: str, site_text: str) -> Disk:
    """The test's own copy of the image (`name`.img), with `site_text` as its
    kiosk-site.conf on the boot partition and the probe in its root."""
    disk = Disk.copy_of(image, WORK / f"{name}.img")
    conf = WORK / f"{name}-site.conf"
    conf.write_text(site_text, encoding="utf-8")
    disk.put_boot_file(conf, "kiosk-site.conf")
    add_probe(disk)
    return disk


def report(line: str) -> None:
    with (WORK / "report.txt").open("a", encoding="utf-8") as out:
        out.write(f"{datetime.now(UTC):%H:%M:%S} {line}\n")
    print(line)


def test_first_boot_enrols_syncs_and_starts_the_kiosk(image: Path, office: Office) -> None:
    office.start()
    host = office.json("host", "Maria Schmidt", "--site", SITE)
    code = office.command("enrolment-code", "--site", SITE).strip()
    disk = prepared_disk(image, "kiosk", site_conf(f"http://10.0.2.2:{office.port}", code))

    first = qemu(disk, f"kiosk_probe=checkin kiosk_host={host['ref']}", WORK / "console-1.log")
    report(f"first boot: {first.seconds:.0f} s to power-off; probe: {first.probe}")
    journal = disk.journal(WORK / "journal-1")
    # kiosk-provision runs before the network is up: kiosk-enrol enrols once it is.
    provision = journal_text(journal, "-u", "kiosk-provision", "-u", "kiosk-enrol")
    report("kiosk-provision, kiosk-enrol: " + " | ".join(provision.splitlines()[-8:]))
    assert "enrolled with http://10.0.2.2" in provision, provision
    assert first.probe.get("file:/etc/kiosk/kiosk.toml") == "yes", first.probe
    assert first.probe.get("file:/var/lib/kiosk/data/kiosk.sqlite3") == "yes", first.probe
    assert first.probe.get("file:/var/lib/kiosk/provisioning/enrolled") == "yes", first.probe
    assert int(first.probe["keys"]) >= 1, first.probe
    assert first.probe.get("unit:kiosk-sync") == "active", first.probe
    assert '"checked_in"' in first.probe.get("checkin", ""), first.probe
    assert re.search(r'"backlog": ?0[,}]', first.probe.get("sync-status", "")), first.probe
    visits = office.json("visits", "--since", "2000-01-01")
    assert "Ingrid Berg" in [visit["visitor_name"] for visit in visits], visits
    kiosk_log = journal_text(journal, "-u", "kiosk")
    report("kiosk.service, first boot: " + " | ".join(kiosk_log.splitlines()[-6:]))
    assert first.probe.get("unit:kiosk") == "active", (first.probe, kiosk_log[-3000:])

    second = qemu(disk, "kiosk_probe=report", WORK / "console-2.log")
    report(f"second boot: {second.seconds:.0f} s to power-off; probe: {second.probe}")
    provision = journal_text(disk.journal(WORK / "journal-2"), "-b", "-u", "kiosk-provision")
    assert "install: done: 0 changes" in provision, provision
    assert second.probe.get("unit:kiosk") == "active", second.probe


def test_a_typo_in_the_site_file_stops_provisioning_with_its_line(image: Path) -> None:
    typo_site = site_conf("", "") + 'PRINTR_KIND="fake"\n'
    disk = prepared_disk(image, "typo", typo_site)
    boot = qemu(disk, "kiosk_probe=report", WORK / "console-typo.log", network=False)
    report(f"typo boot: {boot.seconds:.0f} s; probe: {boot.probe}")
    line = len(typo_site.splitlines())
    expected = f"kiosk-site.conf:{line}: unknown key PRINTR_KIND"
    journal = journal_text(disk.journal(WORK / "journal-typo"), "-u", "kiosk-provision")
    assert expected in journal, journal
    assert expected in boot.console, boot.console[-3000:]
    assert boot.probe.get("unit:kiosk-provision") == "failed", boot.probe
    # The touchscreen shows "installation incomplete", up for systemd (kiosk.ui.incomplete).
    assert "StatusText=installation incomplete" in boot.probe.get("kiosk-status", ""), boot.probe


def data_partition(path: Path) -> Path:
    """A 256 MiB ext4 labelled kiosk-data, on a file: the kiosk's DATA_PARTITION."""
    path.unlink(missing_ok=True)
    run("truncate", "-s", "256M", path)
    run("mkfs.ext4", "-q", "-F", "-L", "kiosk-data", path)
    return path


def visits_on(data: Path, into: Path) -> list[str]:
    """The visitors' names in the database on the data partition, read on this machine."""
    for suffix in ("", "-wal"):  # a -wal file only if the kiosk was not stopped cleanly
        Path(f"{into}{suffix}").unlink(missing_ok=True)
        run("debugfs", "-R", f"dump /data/kiosk.sqlite3{suffix} {into}{suffix}", data, check=False)
    assert into.exists() and into.stat().st_size > 0, "no /data/kiosk.sqlite3 on the data partition"
    query = "select visitor.name from visit join visitor on visitor.id = visit.visitor_id"
    return run("sqlite3", into, query).split()


def test_read_only_root_keeps_the_data_partition_writable(image: Path, office: Office) -> None:
    """READ_ONLY_ROOT=yes with DATA_PARTITION=LABEL=kiosk-data on a second disk. Boot 1
    provisions: the data partition is mounted on /var/lib/kiosk (fstab) and overlayroot is
    set up for the next boot, with `ro` at the end of cmdline.txt. Boot 2 runs on the
    overlay: / is an overlay over the SD card's root mounted read-only, the probe writes
    marks into /etc and /usr (they land in memory), and a walk-in is written to the database
    on the data partition and synced. Boot 3: the marks are gone, the walk-in is not. Boot
    4, without the data disk: the boot goes on, the kiosk does not start. Last, this machine
    reads the walk-in out of the data partition's file itself."""
    office.start()
    host = office.json("host", "Maria Schmidt", "--site", SITE)
    code = office.command("enrolment-code", "--site", SITE).strip()
    site = site_conf(
        f"http://10.0.2.2:{office.port}", code,
        READ_ONLY_ROOT="yes", DATA_PARTITION="LABEL=kiosk-data",
    )  # fmt: skip
    disk = prepared_disk(image, "ro", site)
    data = data_partition(WORK / "ro-data.img")

    first = qemu(disk, "kiosk_probe=wait-enrol", WORK / "console-ro-1.log", data_disk=data)
    report(f"read-only boot 1 (provisioning): {first.seconds:.0f} s; probe: {first.probe}")
    journal = journal_text(disk.journal(WORK / "journal-ro-1"), "-u", "kiosk-provision")
    assert "read-only root (overlayroot, tmpfs) from the next boot" in journal, journal
    assert "overlayroot" in disk.root_file("/etc/overlayroot.local.conf")
    fstab = disk.root_file("/etc/fstab")
    assert "LABEL=kiosk-data /var/lib/kiosk ext4" in fstab, fstab
    assert "nofail" in fstab, fstab  # no emergency mode if the disk is missing
    cmdline = disk.get_boot_file("cmdline.txt", WORK / "ro-cmdline.txt").read_text()
    assert [word for word in cmdline.split() if word in ("ro", "rw")][-1] == "ro", cmdline
    assert first.probe["mount-data"].split()[:2] == ["/dev/vdb", "ext4"], first.probe
    assert first.probe["mount-root"].split()[1] == "ext4", first.probe

    second = qemu(
        disk, f"kiosk_probe=checkin kiosk_host={host['ref']} kiosk_mark=yes",
        WORK / "console-ro-2.log", data_disk=data,
    )  # fmt: skip
    report(f"read-only boot 2 (overlay, walk-in): {second.seconds:.0f} s; probe: {second.probe}")
    root_source, root_type = second.probe["mount-root"].split()[:2]
    assert (root_source, root_type) == ("overlayroot", "overlay"), second.probe
    mount_data = second.probe["mount-data"].split()
    assert mount_data[:2] == ["/dev/vdb", "ext4"] and "rw" in mount_data[2].split(","), second.probe
    assert second.probe.get("data-writable") == "yes", second.probe
    # The SD card's root under the overlay: mounted read-only (cmdline.txt's last `ro`).
    lower = second.probe["mount-lower"].split()
    assert lower[0] == "/dev/vda2" and "ro" in lower[2].split(","), second.probe
    assert second.probe.get("mark-write:/etc") == "ok", second.probe  # into RAM
    assert second.probe.get("mark-write:/usr") == "ok", second.probe
    assert second.probe.get("unit:kiosk") == "active", second.probe
    assert '"checked_in"' in second.probe.get("checkin", ""), second.probe
    assert re.search(r'"backlog": ?0[,}]', second.probe.get("sync-status", "")), second.probe
    assert "install: done: 0 changes" in second.probe.get("journal-provision", ""), second.probe
    visits = office.json("visits", "--since", "2000-01-01")
    assert "Ingrid Berg" in [visit["visitor_name"] for visit in visits], visits
    # Written on the overlay: into memory, not the SD card's root.
    assert "kiosk-probe-mark" not in disk.debugfs("ls /etc")

    third = qemu(disk, "kiosk_probe=report", WORK / "console-ro-3.log", data_disk=data)
    report(f"read-only boot 3 (overlay again): {third.seconds:.0f} s; probe: {third.probe}")
    assert third.probe.get("marks-found", "") == "", third.probe
    assert third.probe["mount-root"].split()[1] == "overlay", third.probe
    assert third.probe.get("visits") == "1", third.probe

    # Boot 4, the data disk missing (a card without it, a stick pulled): no emergency mode,
    # whose locked root account would let nobody in (nofail), and the kiosk's units do not
    # start, so nothing is written into RAM and lost. An emergency mode never powers off.
    fourth = qemu(disk, "kiosk_probe=report", WORK / "console-ro-4.log", seconds=20 * 60)
    report(f"read-only boot 4 (no data disk): {fourth.seconds:.0f} s; probe: {fourth.probe}")
    assert "emergency mode" not in fourth.console, fourth.console[-3000:]
    assert fourth.probe.get("mount-data") == "on-root", fourth.probe
    for unit in ("kiosk", "kiosk-sync", "kiosk-provision"):
        assert fourth.probe.get(f"unit:{unit}") != "active", fourth.probe
    assert visits_on(data, WORK / "ro-data.sqlite3") == ["Ingrid", "Berg"]


def test_no_network_at_first_boot_then_the_office_comes(image: Path, office: Office) -> None:
    """The office is NOT running when the kiosk first boots (its port on this machine is
    closed: qemu's user network answers with a refused connection). Provisioning still
    finishes, kiosk.service reports READY=1 (active) and records a walk-in for a host added
    on the kiosk itself, and kiosk-enrol.service keeps waiting (enrol-pending) without
    failing the boot. Only once the probe says so does this test start the office; the
    kiosk then enrols (kiosk-enrol retries every 5 min) and its backlog, the walk-in,
    reaches the office."""
    office.json("host", "Maria Schmidt", "--site", SITE)  # the office's DB, not served yet
    code = office.command("enrolment-code", "--site", SITE).strip()
    disk = prepared_disk(image, "offline", site_conf(f"http://10.0.2.2:{office.port}", code))
    started: list[float] = []

    def start_office() -> None:
        office.start()
        started.append(time.monotonic())

    boot = qemu(
        disk, "kiosk_probe=offline", WORK / "console-offline.log",
        on_console=("KIOSK-PROBE offline-ready", start_office),
    )  # fmt: skip
    report(f"offline first boot: {boot.seconds:.0f} s; probe: {boot.probe}")
    assert started, "the probe never said offline-ready"
    assert boot.probe["office-reachable"].startswith("no"), boot.probe
    assert boot.probe.get("unit:kiosk-provision") == "active", boot.probe
    assert boot.probe.get("unit:kiosk") == "active", boot.probe
    assert boot.probe.get("file:/var/lib/kiosk/provisioning/enrol-pending") == "yes", boot.probe
    assert boot.probe.get("file:/var/lib/kiosk/provisioning/enrolled") == "no", boot.probe
    assert '"checked_in"' in boot.probe.get("checkin", ""), boot.probe
    assert "enrolled" in boot.probe.get("enrolled-after", ""), boot.probe
    assert re.search(r'"backlog": ?0[,}]', boot.probe.get("sync-status", "")), boot.probe
    journal = journal_text(disk.journal(WORK / "journal-offline"), "-u", "kiosk-enrol")
    report("kiosk-enrol, offline boot: " + " | ".join(journal.splitlines()[-6:]))
    assert "enrolled with http://10.0.2.2" in journal, journal
    visits = office.json("visits", "--since", "2000-01-01")
    assert "Ingrid Offline" in [visit["visitor_name"] for visit in visits], visits
