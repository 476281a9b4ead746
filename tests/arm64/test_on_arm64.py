"""The kiosk on the Pi's own CPU: a Debian Bookworm arm64 root, provisioned by install.sh,
run under qemu-user on this x86-64 machine (`make test-arm64`; issue 15, part 1).

scripts/arm64-root.sh builds the root once (debootstrap, cached in build/arm64/root) and
runs install.sh --root into it at every run (a second run changes nothing), so the kiosk's
venv there holds the aarch64 wheels of requirements/kiosk.lock. Then, inside the root,
each a step of the report (conftest.py) with its time:

- `kiosk doctor` of the provisioned kiosk; `kiosk init`, `kiosk demo-seed` of a new site;
- a check-in by invitation and a walk-in; `kiosk badge --escpos` of both for 58 and 80 mm,
  byte for byte the same as this x86-64 machine's for the same site (database and keys);
- `kiosk scan` of a QR frame (an invitation: VALID) and an AAMVA PDF417 frame;
- `kiosk office serve` in the root, a second kiosk enrolled to it, `kiosk sync --once`;
- pytest of the folders that need no window, run by the root's own aarch64 Python.

Marked slow and arm64: neither `make test` nor `make test-slow` runs it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from arm64_report import StepReport

pytestmark = [pytest.mark.slow, pytest.mark.arm64, pytest.mark.timeout(4 * 3600)]

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "arm64-root.sh"
ROOT = Path(os.environ.get("KIOSK_ARM64_ROOT", REPO / "build" / "arm64" / "root"))
KIOSK = "/opt/kiosk/venv/bin/kiosk"  # the provisioned kiosk: kiosk.lock's wheels only
TEST_VENV = "/opt/kiosk-test/venv"  # dev.lock: pytest, and the office's FastAPI
WORK = "/srv/kiosk-arm64"  # this run's sites, inside the root
HOST_KIOSK = Path(sys.executable).with_name("kiosk")
#: The folders of tests that need no window (the sync client's are in services and cli).
WINDOWLESS = ("domain", "storage", "services", "devices", "config", "notify", "cli")
FONTS = "usr/share/fonts/opentype/noto"


def run(
    command: list[str], timeout: float = 900, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        command, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )


def in_root(*command: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """`command` inside the root, as root (scripts/arm64-root.sh run)."""
    return run([str(SCRIPT), "run", *command], timeout=timeout)


def as_kiosk(*command: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """`command` inside the root as the kiosk user, as systemd runs the kiosk on the Pi."""
    return in_root(
        "runuser", "-u", "kiosk", "--", "env", f"HOME={WORK}", *command, timeout=timeout
    )  # fmt: skip


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (
        f"{result.args}\nexit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    )
    return result.stdout


def kiosk_json(*arguments: str, timeout: float = 900) -> Any:
    return json.loads(ok(as_kiosk(KIOSK, "--json", *arguments, timeout=timeout)))


def inside(path: str) -> Path:
    """A path of the root as this machine sees it."""
    return ROOT / path.lstrip("/")


@dataclass
class Run:
    """What the steps hand on to each other."""

    site: str = f"{WORK}/a/kiosk.toml"
    invitations: list[tuple[str, str]] = field(default_factory=list)
    visits: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def arm64(report: StepReport) -> Run:
    if os.geteuid() != 0:
        pytest.skip("debootstrap and chroot need root: sudo make test-arm64")
    with report.step("the root (scripts/arm64-root.sh build)") as notes:
        built = run([str(SCRIPT), "build"], timeout=3 * 3600)
        timings = [line.removeprefix("arm64: ") for line in built.stderr.splitlines()
                   if line.startswith("arm64: ") and line.rstrip().endswith(" s")]  # fmt: skip
        changes = [line for line in built.stderr.splitlines() if "done: " in line]
        notes.extend(timings + changes)
        ok(built)
        assert ok(in_root("uname", "-m")).strip() == "aarch64"
        python = ok(in_root(f"{TEST_VENV}/bin/python", "-c", "import platform, sys; "
                            "print(platform.machine(), sys.version.split()[0])"))  # fmt: skip
        notes.append(f"python {python.strip()}")
    work = inside(WORK)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ok(in_root("chown", "kiosk:kiosk", WORK))
    return Run()


def test_doctor_of_the_provisioned_kiosk(arm64: Run, report: StepReport) -> None:
    with report.step("kiosk doctor (/etc/kiosk/kiosk.toml)") as notes:
        result = as_kiosk(KIOSK, "doctor", "--config", "/etc/kiosk/kiosk.toml")
        findings = ok(result).splitlines()
        failed = [line for line in findings if line.startswith("[FAIL")]
        assert failed == [], "\n".join(findings)
        counts = {
            tag: sum(line.startswith(f"[{tag}") for line in findings) for tag in ("OK", "WARN")
        }
        notes.append(f"{counts['OK']} OK, {counts['WARN']} WARN")
        assert any("zxing-cpp" in line and line.startswith("[OK") for line in findings)


def test_init_and_demo_seed(arm64: Run, report: StepReport) -> None:
    with report.step("kiosk init --demo") as notes:
        made = kiosk_json("init", "--demo", "--config", arm64.site)
        notes.append(f"kiosk {made['kiosk_id']}")
        for name in ("badge.key", "invitation.key", "document-salt"):
            assert inside(f"{WORK}/a/keys/{name}").stat().st_size > 0
    with report.step("kiosk demo-seed") as notes:
        seeded = kiosk_json("demo-seed", "--config", arm64.site)
        arm64.invitations = [tuple(pair) for pair in seeded["invitations"]]  # type: ignore[misc]
        notes.append(f"{seeded['hosts']} hosts, {seeded['appointments']} appointments")
        assert seeded["hosts"] > 0 and len(arm64.invitations) >= 2


def visitor_photo(path: Path) -> None:
    """A small JPEG portrait, as the camera would give (photos are required at the site)."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (240, 320), (200, 180, 160))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((60, 50, 180, 200), fill=(230, 190, 160))
    draw.rectangle((40, 220, 200, 320), fill=(40, 60, 120))
    picture.save(path, quality=85)


def test_check_in_by_invitation_and_walk_in(arm64: Run, report: StepReport) -> None:
    photo = inside(f"{WORK}/photo.jpg")
    visitor_photo(photo)
    name, token = arm64.invitations[0]
    with report.step("kiosk checkin --token (an invitation)") as notes:
        result = kiosk_json(
            "checkin", "--config", arm64.site, "--token", token, "--photo", f"{WORK}/photo.jpg"
        )
        assert result["outcome"] == "checked_in", result
        assert result["badge"]["visitor_name"] == name
        arm64.visits["invitation"] = result["visit_ref"]
        notes.append(f"{name} -> {result['host_name']}")
    with report.step("kiosk checkin --walk-in") as notes:
        result = kiosk_json(
            "checkin", "--config", arm64.site, "--walk-in", "--name", "Erik Larsson",
            "--host", "Maria Schmidt", "--company", "ACME", "--photo", f"{WORK}/photo.jpg",
        )  # fmt: skip
        assert result["outcome"] == "checked_in", result
        arm64.visits["walk-in"] = result["visit_ref"]
        notes.append(f"Erik Larsson -> {result['host_name']}")
    onsite = kiosk_json("onsite", "--config", arm64.site)
    assert {row["visit_ref"] for row in onsite} >= set(arm64.visits.values())


def digests(folder: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.glob("*.ttc"))
    }


def test_badges_are_byte_for_byte_those_of_x86_64(
    arm64: Run, report: StepReport, tmp_path: Path
) -> None:
    """The same site (database, keys, fonts) renders the same ESC/POS bytes on both CPUs."""
    assert digests(ROOT / FONTS) == digests(Path("/") / FONTS) != {}, (
        "the root's Noto CJK fonts differ from this machine's: the bytes could not match"
    )
    layout = 'from PIL import features; print(features.check("raqm"))'
    here_raqm = ok(run([sys.executable, "-c", layout])).strip()
    arm_raqm = ok(in_root(f"{TEST_VENV}/bin/python", "-c", layout)).strip()
    assert arm_raqm == here_raqm, (
        f"Pillow's Raqm text layout: {here_raqm} here, {arm_raqm} on arm64 (libfribidi0?)"
    )
    site = inside(f"{WORK}/a")
    for width, profile in (("58", "POS-5890"), ("80", "TM-T20II")):
        text = (site / "kiosk.toml").read_text(encoding="utf-8")
        (site / f"kiosk-{width}.toml").write_text(
            text + f'\n[devices.printer]\nprofile = "{profile}"\n', encoding="utf-8"
        )
    ok(in_root("chown", "-R", "kiosk:kiosk", f"{WORK}/a"))
    arm = {}
    with report.step("kiosk badge --escpos, 58 and 80 mm, under qemu") as notes:
        for width in ("58", "80"):
            for kind, ref in arm64.visits.items():
                out = f"{WORK}/badge-{kind}-{width}.bin"
                shown = kiosk_json("badge", ref, "--config", f"{WORK}/a/kiosk-{width}.toml",
                                   "--escpos", out)  # fmt: skip
                arm[(kind, width)] = inside(out).read_bytes()
                assert shown["bytes"] == len(arm[(kind, width)]) > 1000
        notes.append(
            ", ".join(f"{kind} {width} mm {len(data)} B" for (kind, width), data in arm.items())
        )
    # This machine renders a copy of the same site (its database left untouched by us).
    copy = tmp_path / "a"
    shutil.copytree(site, copy)
    with report.step("kiosk badge --escpos on x86-64, compared") as notes:
        for (kind, width), data in arm.items():
            out = tmp_path / f"badge-{kind}-{width}.bin"
            ok(run([str(HOST_KIOSK), "badge", arm64.visits[kind], "--config",
                    str(copy / f"kiosk-{width}.toml"), "--escpos", str(out)]))  # fmt: skip
            here = out.read_bytes()
            if here != data:
                first = next(i for i, (a, b) in enumerate(zip(here, data, strict=False)) if a != b)
                pytest.fail(f"{kind} {width} mm: {len(data)} B on arm64, {len(here)} B here, "
                            f"first difference at byte {first}")  # fmt: skip
        notes.append(f"{len(arm)} badges identical")


def devices_helpers() -> Any:
    spec = importlib.util.spec_from_file_location(
        "devices_helpers", REPO / "tests" / "devices" / "devices_helpers.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scan_of_a_qr_and_an_aamva_pdf417_frame(arm64: Run, report: StepReport) -> None:
    import cv2

    from kiosk.devices.synthetic import render_code, synth_frame

    helpers = devices_helpers()
    licence = helpers.aamva_payload(helpers.CALIFORNIA_ELEMENTS)
    name, token = arm64.invitations[1]
    cv2.imwrite(str(inside(f"{WORK}/qr.png")), synth_frame(render_code(token), seed=1))
    cv2.imwrite(
        str(inside(f"{WORK}/licence.png")),
        synth_frame(render_code(licence, "pdf417", 2), size=(1280, 720)),
    )
    with report.step("kiosk scan: a QR frame and an AAMVA PDF417 frame") as notes:
        rows = kiosk_json("scan", "--config", arm64.site, f"{WORK}/qr.png", f"{WORK}/licence.png")
        by_file = {Path(row["file"]).name: row for row in rows}
        qr, pdf417 = by_file["qr.png"], by_file["licence.png"]
        assert (qr["format"], qr["kind"], qr["valid"]) == ("qr", "invitation", True), qr
        assert qr["visitor"] == name
        assert (pdf417["format"], pdf417["kind_of_document"]) == ("pdf417", "aamva"), pdf417
        assert pdf417["kind"] == "identity_document"
        assert pdf417["family_name"] == "Montgomery" and pdf417["document_number_last4"] == "4567"
        assert "D1234567" not in json.dumps(rows)  # the number is never shown whole
        notes.append(f"QR: invitation for {qr['visitor']}; PDF417: {pdf417['family_name']}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, office: subprocess.Popen[str], seconds: float) -> float:
    import httpx

    start = time.monotonic()
    while time.monotonic() - start < seconds:
        assert office.poll() is None, office.communicate()[1][-3000:]
        try:
            httpx.get(url, timeout=5)
            return time.monotonic() - start
        except httpx.HTTPError:
            time.sleep(1)
    pytest.fail(f"the office did not answer at {url} within {seconds} s")


def test_office_in_the_root_enrolment_and_sync(arm64: Run, report: StepReport) -> None:
    office_kiosk = f"{TEST_VENV}/bin/kiosk"
    db = f"{WORK}/office/office.sqlite3"
    inside(db).parent.mkdir()
    ok(in_root("chown", "kiosk:kiosk", f"{WORK}/office"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    office = subprocess.Popen(
        [str(SCRIPT), "run", "runuser", "-u", "kiosk", "--", "env", f"HOME={WORK}",
         office_kiosk, "office", "serve", "--db", db, "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        with report.step("kiosk office serve (in the root), up") as notes:
            notes.append(f"answered after {wait_for(url, office, 600):.0f} s")

        def office_json(*arguments: str) -> Any:
            return json.loads(
                ok(as_kiosk(office_kiosk, "--json", "office", *arguments, "--db", db))
            )

        host = office_json("host", "Maria Schmidt", "--site", "Arm Tower")
        code = ok(as_kiosk(office_kiosk, "office", "enrolment-code", "--site", "Arm Tower",
                           "--db", db)).strip()  # fmt: skip
        second = f"{WORK}/b/kiosk.toml"
        inside(second).parent.mkdir()
        inside(second).write_text(
            '[site]\nname = "Arm Tower"\nafter_hours = "open"\n'
            "[visitor_types.visitor]\nphoto_required = false\n",
            encoding="utf-8",
        )
        ok(in_root("chown", "-R", "kiosk:kiosk", f"{WORK}/b"))
        with report.step("a second kiosk: init, kiosk enroll") as notes:
            kiosk_json("init", "--config", second)
            enrolled = kiosk_json("enroll", "--config", second, "--name", "Lobby B", url, code)
            assert enrolled["site"] == "Arm Tower", enrolled
            notes.append(f"site {enrolled['site']!r}, pulled {enrolled['pulled']}")
        walk_in = kiosk_json(
            "checkin", "--config", second, "--walk-in", "--name", "Ingrid Berg",
            "--host", host["ref"],
        )  # fmt: skip
        assert walk_in["outcome"] == "checked_in", walk_in
        with report.step("kiosk sync --once") as notes:
            pushed = kiosk_json("sync", "--once", "--config", second)
            assert pushed["pushed"] >= 1 and pushed["rejected"] == 0, pushed
            status = kiosk_json("sync", "--status", "--config", second)
            assert status["backlog"] == 0 and status["last_error"] is None, status
            notes.append(f"pushed {pushed['pushed']}, backlog 0")
        visits = office_json("visits", "--since", "2000-01-01")
        assert "Ingrid Berg" in [visit["visitor_name"] for visit in visits]
    finally:
        office.terminate()
        try:
            office.wait(timeout=60)
        except subprocess.TimeoutExpired:
            office.kill()
            office.wait()


def test_windowless_tests_on_arm64(arm64: Run, report: StepReport) -> None:
    """The suite's own tests, by the root's aarch64 CPython 3.11 (once, at the end: the
    emulated run takes the longest, and the machine is shared)."""
    source = inside("/opt/kiosk-test/src")
    if source.exists():
        shutil.rmtree(source)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for part in ("kiosk", "tests"):
        shutil.copytree(REPO / part, source / part, ignore=ignore)
    shutil.copy2(REPO / "pyproject.toml", source / "pyproject.toml")
    folders = [f"tests/{name}" for name in WINDOWLESS if (REPO / "tests" / name).is_dir()]
    with report.step(
        f"pytest {' '.join(name.split('/')[1] for name in folders)} (aarch64)"
    ) as notes:
        result = in_root(
            "/bin/sh", "-c",
            "cd /opt/kiosk-test/src && exec env HOME=/opt/kiosk-test "
            f"{TEST_VENV}/bin/python -m pytest -q -p no:cacheprovider -m 'not slow and not ui' "
            f"--timeout=900 {' '.join(folders)}",
            timeout=3 * 3600,
        )  # fmt: skip
        summary = [line for line in result.stdout.splitlines() if line.strip()][-1:]
        notes.extend(summary)
        assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
