"""`kiosk office cases ...` as a script runs it (a real process, --json), on an SQLite file:
a kiosk's case assigned, resolved, followed up and counted in the month's report; bad
input gets a clear error and changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cases_support import opened_payload

from kiosk.domain.clock import SystemClock
from kiosk.office.cases.desk import Actor, CaseDesk
from kiosk.office.store import OfficeStore, open_office_database


def cases(db: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "office", "cases", args[0], "--db", str(db), *args[1:]],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (done.returncode == 0) is ok, done.stdout + done.stderr
    return done


def test_cases_from_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "office.sqlite3"
    store = OfficeStore(open_office_database(str(db)), clock=SystemClock())
    site = store.site("Riverside Tower")
    with store.db.connection_context():
        case = CaseDesk(store.db, store.clock, store.feed).open_case(
            Actor(site.id, "reception", "Desk"), kind="repair", category="lift",
            description=opened_payload()["description"], channel="phone",
        )  # fmt: skip
    store.db.close()
    number = case.number
    cases(db, "department", "Engineering")
    assigned = json.loads(cases(db, "assign", number, "--department", "Engineering",
                                "--json").stdout)  # fmt: skip
    assert (assigned["state"], assigned["department"]) == ("assigned", "Engineering")
    refused = cases(db, "follow-up", number, "--outcome", "satisfied", ok=False)
    assert "not resolved yet" in refused.stderr
    cases(db, "resolve", number, "--note", "Rope replaced")
    cases(db, "follow-up", number, "--outcome", "satisfied")
    shown = json.loads(cases(db, "show", number, "--json").stdout)
    assert [h["action"] for h in shown["history"]] == ["open", "assign", "resolve", "follow_up"]
    assert shown["history"][1]["actor"] == "cli"
    listed = json.loads(cases(db, "list", "--state", "followed_up", "--json").stdout)
    assert [row["number"] for row in listed] == [number]
    month = case.opened_at.strftime("%Y-%m")
    report = json.loads(cases(db, "report", "--month", month, "--json").stdout)
    assert (report["total"], report["repair_followup_rate"], report["meets_standard"]) == (
        1, 1.0, True)  # fmt: skip
    assert "followup_rate,1.0" in cases(db, "report", "--month", month, "--csv").stdout
    bad_month = cases(db, "report", "--month", "2026-13", ok=False)
    assert "YYYY-MM" in bad_month.stderr
    assert "no case" in cases(db, "show", "R-20990101-00001", ok=False).stderr
