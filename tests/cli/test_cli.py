"""The `kiosk` command, driven as a subprocess the way an admin or a script would."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

SHANGHAI = ZoneInfo("Asia/Shanghai")
REPO = Path(__file__).resolve().parents[2]

SITE = """
[site]
name = "CLI Tower"
after_hours = "open"

[visitor_types.visitor]
photo_required = false
"""


class Kiosk:
    def __init__(self, directory: Path) -> None:
        self.config = directory / "site" / "kiosk.toml"
        self.directory = directory

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "kiosk", "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            cwd=self.directory,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            timeout=120,
        )
        if ok:
            assert done.returncode == 0, done.stderr + done.stdout
        return done

    def json(self, *args: str) -> object:
        return json.loads(self("--json", *args).stdout)


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Kiosk:
    runner = Kiosk(tmp_path_factory.mktemp("cli"))
    runner.config.parent.mkdir()
    runner.config.write_text(SITE, encoding="utf-8")
    runner("init")
    runner(
        "hosts",
        "add",
        "Maria Schmidt",
        "--email",
        "maria@example.com",
        "--department",
        "Engineering",
    )
    runner("hosts", "add", "李娜", "--email", "li.na@example.com", "--department", "行政部")
    return runner


def now_text(offset: timedelta = timedelta()) -> str:
    return (datetime.now(SHANGHAI) + offset).strftime("%Y-%m-%d %H:%M")


def test_init_is_safe_to_run_twice(kiosk: Kiosk) -> None:
    result = kiosk.json("init")
    assert result["created"] == []
    keys = kiosk.config.parent / "keys"
    assert oct((keys / "badge.key").stat().st_mode & 0o777) == "0o600"
    assert (kiosk.config.parent / "data" / "kiosk.sqlite3").exists()


def test_invite_verify_and_check_in_with_the_qr(kiosk: Kiosk, tmp_path: Path) -> None:
    import zxingcpp
    from PIL import Image

    qr = tmp_path / "invite.png"
    invitation = kiosk.json(
        "invite",
        "--visitor",
        "Bob Stone",
        "--host",
        "Maria Schmidt",
        "--at",
        now_text(),
        "--qr",
        str(qr),
    )
    token = invitation["token"]
    [read] = zxingcpp.read_barcodes(Image.open(qr))
    assert read.text == token

    verified = kiosk("verify", token)
    assert "VALID invitation for Bob Stone" in verified.stdout

    checked_in = kiosk.json("checkin", "--token", token)
    assert checked_in["outcome"] == "checked_in"
    badge = checked_in["badge"]["token"]
    assert "VALID badge: Bob Stone" in kiosk("verify", badge).stdout

    again = kiosk("checkin", "--token", token, ok=False)
    assert again.returncode == 1 and "replayed" in again.stderr

    onsite = kiosk.json("onsite")
    assert any(entry["visitor_name"] == "Bob Stone" for entry in onsite)

    assert kiosk.json("checkout", "--badge", badge, "--rating", "4", "--comment", "Quick and kind")[
        "checked_out"
    ]
    gone = kiosk("verify", badge, ok=False)
    assert gone.returncode == 1 and "checked_out" in gone.stdout


@pytest.mark.parametrize(
    ("token", "reason"),
    [("garbage!", "malformed"), ("AEAQ", "truncated"), ("", "malformed")],
)
def test_verify_exits_non_zero_with_the_reason(kiosk: Kiosk, token: str, reason: str) -> None:
    result = kiosk("--json", "verify", token, ok=False)
    assert result.returncode == 1
    decision = json.loads(result.stdout)
    assert (decision["valid"], decision["reason"]) == (False, reason)


def test_walk_in_and_check_out_by_name(kiosk: Kiosk) -> None:
    result = kiosk.json(
        "checkin",
        "--walk-in",
        "--name",
        "张伟",
        "--host",
        "li na",
        "--purpose",
        "errand",
        "--company",
        "华东建设",
    )
    assert result["outcome"] == "checked_in" and result["host_name"] == "李娜"
    assert kiosk.json("checkout", "--name", "Zhang Wei")["checked_out"]


def visit_record(kiosk: Kiosk, ref: str) -> tuple[int | None, int, int]:
    """A visit's satisfaction and how many outbox events and audit entries name it."""
    from kiosk.storage.db import open_database
    from kiosk.storage.models import AuditEntry, OutboxEvent, Visit, database

    open_database(kiosk.config.parent / "data" / "kiosk.sqlite3")
    try:
        return (
            Visit.get(Visit.ref == ref).satisfaction,
            OutboxEvent.select().where(OutboxEvent.subject_ref == ref).count(),
            AuditEntry.select().where(AuditEntry.subject == ref).count(),
        )
    finally:
        database.close()


def test_a_badge_checks_out_once_and_a_second_scan_says_when(kiosk: Kiosk) -> None:
    checked_in = kiosk.json(
        "checkin", "--walk-in", "--name", "Rita Twice", "--host", "Maria Schmidt"
    )
    badge, ref = checked_in["badge"]["token"], checked_in["visit_ref"]
    before = datetime.now(SHANGHAI).strftime("%H:%M")
    kiosk("checkout", "--badge", badge, "--rating", "5")
    after = datetime.now(SHANGHAI).strftime("%H:%M")
    first = visit_record(kiosk, ref)
    assert first[0] == 5

    again = kiosk("checkout", "--badge", badge, "--rating", "1", ok=False)
    assert again.returncode == 1
    said = again.stdout.strip()
    assert said in (f"already checked out at {before}", f"already checked out at {after}")
    as_json = kiosk("--json", "checkout", "--visit", ref, "--rating", "2", ok=False)
    assert as_json.returncode == 1
    answer = json.loads(as_json.stdout)
    assert (answer["visit"], answer["checked_out"]) == (ref, False)
    assert answer["checked_out_at"].endswith("+08:00")
    assert answer["checked_out_at"][11:16] == said[-5:]
    assert visit_record(kiosk, ref) == first  # nothing recorded, the rating still 5


def test_tables_line_up_chinese_and_latin_names_by_display_cells(kiosk: Kiosk) -> None:
    from kiosk.domain.text import cells

    people = [("陳美玲", "长江实业"), ("Tim Kuo", "Acme"), ("欧阳娜娜", "Initech")]
    for name, company in people:
        kiosk("checkin", "--walk-in", "--name", name, "--host", "李娜", "--company", company)
    lines = kiosk("onsite").stdout.splitlines()
    for column in ("company", "host"):
        starts = set()
        for name, company in people:
            [line] = [line for line in lines if f" {name} " in line]
            text = company if column == "company" else "host 李娜"
            starts.add(cells(line[: line.index(text)]))
        assert len(starts) == 1, (column, starts, lines)


#: An ISO 8601 time as JSON carries it; each must end with the site's offset.
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def json_times(value: object) -> list[str]:
    if isinstance(value, dict):
        return [time for item in value.values() for time in json_times(item)]
    if isinstance(value, list):
        return [time for item in value for time in json_times(item)]
    return [value] if isinstance(value, str) and ISO_TIME.match(value) else []


def test_every_json_time_carries_the_sites_offset(kiosk: Kiosk) -> None:
    invitation = kiosk.json(
        "invite", "--visitor", "Olga Offset", "--host", "Maria Schmidt", "--at", now_text()
    )
    verified = kiosk.json("verify", invitation["token"])  # before it is used
    checked_in = kiosk.json("checkin", "--token", invitation["token"])
    badge = checked_in["badge"]["token"]
    day = datetime.now(SHANGHAI).date().isoformat()
    answers = [
        invitation,
        checked_in,
        verified,
        kiosk.json("verify", badge),
        kiosk.json("onsite"),
        kiosk.json("appointments", "list", "--date", day),
        kiosk.json("report", "daily"),
    ]
    kiosk("checkout", "--badge", badge)
    again = kiosk("--json", "checkout", "--badge", badge, ok=False)
    answers.append(json.loads(again.stdout))
    times = [time for answer in answers for time in json_times(answer)]
    assert len(times) >= 8
    assert all(time.endswith("+08:00") for time in times), times


def test_a_control_character_is_refused_with_a_clear_message(kiosk: Kiosk) -> None:
    result = kiosk(
        "checkin", "--walk-in", "--name", "Evil\x1b[2J", "--host", "Maria Schmidt", ok=False
    )
    assert result.returncode == 1
    assert "name: contains a control character (U+001B ESC) at position 4" in result.stderr


def test_imports_report_each_bad_line(kiosk: Kiosk, tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.csv"
    hosts.write_text(
        "name,email,department,phone,delegate,senior,walk_in_approval\n"
        "王强,wang.qiang@example.com,总经理办公室,,li.na@example.com,yes,yes\n"
        ",nobody@example.com,Nowhere,,,,\n",
        encoding="utf-8",
    )
    result = kiosk("--json", "hosts", "import", str(hosts), ok=False)
    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["added"] == 1
    assert report["problems"] == ["line 3: name: is required"]

    day = datetime.now(SHANGHAI).date().isoformat()
    appointments = tmp_path / "appointments.csv"
    appointments.write_text(
        "visitor_name,host,date,time,end,company,purpose,visitor_type\n"
        f"Anna Eriksson,wang.qiang@example.com,{day},15:00,16:00,Nordic,visit_person,visitor\n"
        f"Nobody,no-such-host,{day},15:00,,,,\n",
        encoding="utf-8",
    )
    result = kiosk("--json", "appointments", "import", str(appointments), ok=False)
    assert json.loads(result.stdout)["added"] == 1
    assert "no host called 'no-such-host'" in result.stdout

    calendar = tmp_path / "visits.ics"
    calendar.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:1@test\r\nDTSTAMP:20261101T000000Z\r\n"
        f"DTSTART;TZID=Asia/Shanghai:{day.replace('-', '')}T160000\r\n"
        f"DTEND;TZID=Asia/Shanghai:{day.replace('-', '')}T170000\r\n"
        "SUMMARY:刘洋\r\nORGANIZER:mailto:maria@example.com\r\nX-KIOSK-COMPANY:华东建设\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n",
        encoding="utf-8",
    )
    assert kiosk.json("appointments", "import", str(calendar))["added"] == 1
    listed = kiosk.json("appointments", "list")
    assert {"Anna Eriksson", "刘洋"} <= {row["visitor"] for row in listed}


def test_absent_host_then_message(kiosk: Kiosk) -> None:
    kiosk("hosts", "availability", "maria@example.com", "out")
    absent = kiosk(
        "checkin", "--walk-in", "--name", "Carol White", "--host", "Maria Schmidt", ok=False
    )
    assert absent.returncode == 1 and "not available" in absent.stdout
    left = kiosk.json(
        "message",
        "--host",
        "Maria Schmidt",
        "--name",
        "Carol White",
        "--contact",
        "carol@example.com",
        "--text",
        "Call me",
    )
    assert len(left["message"]) == 16
    kiosk("hosts", "availability", "maria@example.com", "in")


def test_reports_export_purge_audit_and_doctor(kiosk: Kiosk, tmp_path: Path) -> None:
    report = kiosk.json("report", "daily")
    assert report["visits"] >= 2 and report["satisfaction"]["ratings"] >= 1
    assert "within 1 minute" in kiosk("report", "monthly").stdout

    exported = tmp_path / "visits.csv"
    kiosk("export", "--since", datetime.now(SHANGHAI).date().isoformat(), "--output", str(exported))
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8"))))
    assert any(row["visitor"] == "Bob Stone" and row["satisfaction"] == "4" for row in rows)

    assert set(kiosk.json("purge")) >= {"visitors_anonymised", "photos_deleted"}
    assert kiosk.json("audit", "verify")["intact"] is True

    doctor = kiosk("--json", "doctor", ok=False)
    findings = {f["name"]: f for f in json.loads(doctor.stdout)}
    assert findings["database"]["status"] == "ok"
    assert findings["audit chain"]["status"] == "ok"
    assert findings["key badge.key"]["status"] == "ok"
    assert findings["office"]["status"] == "warn"  # standalone: said plainly


def test_config_show_masks_secrets(kiosk: Kiosk, tmp_path: Path) -> None:
    site = tmp_path / "secret.toml"
    site.write_text(
        '[notifications]\nsecurity = ["slack://TokenA/TokenB/TokenC"]\n', encoding="utf-8"
    )
    shown = subprocess.run(
        [sys.executable, "-m", "kiosk", "config", "show", "--config", str(site)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True,
    ).stdout  # fmt: skip
    assert "TokenB" not in shown and "slack://********" in shown


def test_a_bad_config_exits_2_listing_every_problem(tmp_path: Path) -> None:
    site = tmp_path / "bad.toml"
    site.write_text('[site]\ngreting = "x"\ntimezone = "Nowhere"\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "--config", str(site), "onsite"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert done.returncode == 2
    assert "did you mean 'greeting'" in done.stderr and "unknown time zone" in done.stderr


@pytest.mark.parametrize("command", [["sync"], ["sync", "--no-notify"], ["notify"]])
def test_the_long_running_services_start_and_stop_cleanly_on_sigterm(
    kiosk: Kiosk, command: list[str]
) -> None:
    """What systemd runs (kiosk-sync.service): the loop starts, keeps running, and a SIGTERM
    ends it with status 0. A standalone kiosk (no office) syncs nothing but still notifies."""
    import signal
    import time

    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "--config", str(kiosk.config), *command],
        cwd=kiosk.directory,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Ready once it says so, its SIGTERM handler in place. (Not /proc's caught-signals mask:
    # under qemu-user, make test-arm64's, that is the emulator's, which catches every signal.)
    assert process.stderr is not None
    said = process.stderr.readline()
    assert said == f"kiosk {command[0]}: running; SIGTERM or Ctrl+C stops it\n", (
        said + process.communicate()[1]
    )
    time.sleep(1)  # a round or two of its loop
    assert process.poll() is None, process.communicate()[1]
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err


def test_a_fresh_kiosk_passes_the_doctor_but_for_the_expected_warnings(tmp_path: Path) -> None:
    """`kiosk init` then `kiosk doctor`: nothing fails, and the only warnings are the ones a
    new standalone kiosk without a screen should get. (A table made outside the migrations
    once showed up here as "cannot read the queue: no such table".)"""
    fresh = Kiosk(tmp_path)
    fresh.config.parent.mkdir()
    fresh.config.write_text(SITE, encoding="utf-8")
    fresh("init")
    environment = {key: value for key, value in os.environ.items() if key != "DISPLAY"}
    environment["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # the fonts not prepared yet
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "--config", str(fresh.config), "--json", "doctor"],
        capture_output=True,
        text=True,
        env={**environment, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    findings = json.loads(done.stdout)
    assert findings and done.returncode == 0, done.stderr
    expected = ("display", "office", "ocr ", "CJK font (")
    unexpected = [
        f"{f['name']}: {f['status']} {f['detail']}"
        for f in findings
        if f["status"] != "ok" and not f["name"].startswith(expected)
    ]
    assert unexpected == []
    assert all(f["status"] in ("ok", "warn") for f in findings)
    assert {f["name"] for f in findings} >= {"database", "notifications", "audit chain"}
