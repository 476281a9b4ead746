"""A site's case deadlines and the desk's call log from the command line, as a script runs
them (real processes, --json, an SQLite file, a real SMTP server for the host's mailbox):
deadlines changed, refused with a clear error that changes nothing, held by the desk and
sent to the kiosks in the feed; a call logged with a message the host receives, a call
made a case later, and bad input refused; the deadlines' page for an admin."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from conftest import WebOffice
from local_servers import smtp_server, text_of

from kiosk.cli import main
from kiosk.domain.clock import SystemClock
from kiosk.office.cases.desk import Actor, CaseDesk
from kiosk.office.cases.site_settings import load_deadlines
from kiosk.office.models import AuditEntry, ChangeLog
from kiosk.office.store import OfficeStore, open_office_database

SITE = "Riverside Tower"


def script(db: Path, group: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The command as a script runs it: a process of its own."""
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "office", group, args[0], "--db", str(db), *args[1:]],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def office(db: Path, group: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """The same command through the CLI's main() in this process (a process each would
    cost two seconds of imports): its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["office", group, args[0], "--db", str(db), *args[1:]])
    assert (code == 0) is ok, out.getvalue() + err.getvalue()
    return subprocess.CompletedProcess([], code, out.getvalue(), err.getvalue())


def reopened(db: Path) -> OfficeStore:
    return OfficeStore(open_office_database(str(db)), clock=SystemClock())


def new_office(tmp_path: Path) -> tuple[Path, OfficeStore]:
    db = tmp_path / "office.sqlite3"
    store = OfficeStore(open_office_database(str(db)), clock=SystemClock())
    store.site(SITE)
    return db, store


def test_deadlines_are_the_sites_own_and_reach_the_kiosks(tmp_path: Path) -> None:
    db, store = new_office(tmp_path)
    shown = json.loads(script(db, "cases", "settings", "--json").stdout)
    assert shown["response_minutes"]["complaint"] == 120  # the kiosk's [cases] default
    changed = json.loads(office(db, "cases", "settings", "--response", "complaint=90",
                                "--urgent", "repair=20", "--followup", "repair=12",
                                "--json").stdout)  # fmt: skip
    assert changed["response_minutes"]["complaint"] == 90
    assert changed["response_minutes"]["repair"] == 240  # kept
    assert (changed["urgent_response_minutes"]["repair"], changed["followup_hours"]["repair"]) == (
        20, 12)  # fmt: skip

    for args, said in (
        (("--response", "complant=30"), "did you mean complaint?"),
        (("--urgent", "complaint=200"), "an urgent complaint is answered in 200 minutes"),
        (("--followup", "repair=0"), "between 1 and 720 hours"),
        (("--response", "repair=soon"), "'soon' is not a whole number of minutes"),
        (("--response", "repair"), "is not kind=number"),
    ):
        refused = office(db, "cases", "settings", *args, ok=False)
        assert said in refused.stderr, refused.stderr
    after = json.loads(office(db, "cases", "settings", "--json").stdout)
    assert after == changed  # nothing of a refused change was kept

    store = reopened(db)  # the models follow the last database opened: the CLI's
    with store.db.connection_context():
        site = store.site(SITE)
        [row] = ChangeLog.select().where(ChangeLog.entity == "case_settings")
        sent = json.loads(row.data)
        assert sent["response_minutes"]["complaint"] == 90 and "updated_at" in sent
        desk = CaseDesk(store.db, store.clock, store.feed)
        case = desk.open_case(Actor(site.id, "reception", "Desk"), kind="complaint",
                              description="The lobby door slams.", channel="phone")  # fmt: skip
        assert case.response_due_at - case.opened_at == timedelta(minutes=90)
        repair = desk.open_case(Actor(site.id, "reception", "Desk"), kind="repair",
                                category="lift", description="Lift 2 stuck.", channel="phone")  # fmt: skip
        desk.add_department(site, "Engineering")
        boss = Actor(site.id, "admin", "Boss")
        desk.act(boss, repair.number, "assign", department="Engineering")
        desk.act(boss, repair.number, "resolve", note="Reset")
        resolved = desk.get(Actor(site.id, "admin", "Boss"), repair.number)
        assert resolved.followup_due_at - resolved.resolved_at == timedelta(hours=12)


def test_calls_logged_sent_listed_and_made_cases(tmp_path: Path) -> None:
    db, store = new_office(tmp_path)
    with smtp_server(sender="office@tower.test") as box:
        with store.db.connection_context():
            host = store.add_host(SITE, "Zhou Min", channels=[box.url("zhou@tower.test")])
        store.db.close()
        logged = json.loads(script(
            db, "calls", "log", "--caller", "Mr Chen", "--unit", "A-1503", "--phone", "139 0000",
            "--about", "The delivery for the meeting", "--for", "Zhou Min",
            "--message", "Please call back before 3 pm", "--json",
        ).stdout)  # fmt: skip
        assert logged["message_sent"] is True and logged["for_whom"] == "Zhou Min"
        [mail] = box.to("zhou@tower.test")
        body = text_of(mail)
        assert "Mr Chen (A-1503) phoned for you" in body
        assert "Please call back before 3 pm" in body and "Call back: 139 0000" in body

    repair = json.loads(office(db, "calls", "log", "--caller", "Ms Li", "--unit", "B-0802",
                               "--about", "No hot water", "--becomes", "repair",
                               "--category", "water", "--json").stdout)  # fmt: skip
    assert repair["case"]["number"].startswith("R-") and repair["case"]["kind"] == "repair"
    plain = json.loads(office(db, "calls", "log", "--caller", "Mr Wu",
                              "--about", "The lobby is too cold", "--json").stdout)  # fmt: skip
    assert plain["case"] is None and plain["message_sent"] is None

    listed = json.loads(office(db, "calls", "list", "--json").stdout)
    assert [c["caller"] for c in listed] == ["Mr Wu", "Ms Li", "Mr Chen"]
    made = json.loads(office(db, "calls", "to-case", str(plain["id"]), "--kind", "complaint",
                             "--json").stdout)  # fmt: skip
    assert made["number"].startswith("C-") and made["state"] == "received"
    shown = json.loads(office(db, "calls", "show", str(plain["id"]), "--json").stdout)
    assert shown["case_ref"] == made["case_ref"]
    again = office(db, "calls", "to-case", str(plain["id"]), "--kind", "complaint", ok=False)
    assert f"is already case {made['number']}" in again.stderr

    for args, said in (
        (("--about", ""), "say what the call was about"),
        (("--about", "x", "--for", "Nobody"), "no active host 'Nobody'"),
        (("--about", "bell\x07", "--caller", "A"), "subject"),
        (("--message", "hi", "--becomes", "repair"), "it is the case's text"),
    ):
        refused = office(db, "calls", "log", *args, ok=False)
        assert said in refused.stderr, refused.stderr
    assert "no call 999" in office(db, "calls", "show", "999", ok=False).stderr
    assert len(json.loads(office(db, "calls", "list", "--json").stdout)) == 3  # none kept
    assert host.name == "Zhou Min"


def test_an_admin_sets_the_deadlines_on_the_web(web_office: WebOffice) -> None:
    admin, desk = web_office.as_role("admin"), web_office.as_role("reception")
    assert desk.get("/cases/settings").status_code == 403  # an admin's page
    page = admin.get("/cases/settings")
    assert page.status_code == 200 and 'name="response_minutes.complaint" value="120"' in page.text
    form = {f"{table}.{kind}": str(value) for table, values in (
        ("response_minutes", {"complaint": 60, "repair": 240, "suggestion": 1440, "inquiry": 1440}),
        ("urgent_response_minutes", {"complaint": 15, "repair": 60, "suggestion": 1440,
                                     "inquiry": 240}),
        ("followup_hours", {"complaint": 24, "repair": 24, "suggestion": 48, "inquiry": 24}),
    ) for kind, value in values.items()}  # fmt: skip
    form.update(supervisor_after_minutes="30", csrf_token=web_office.csrf(admin))
    saved = admin.post("/cases/settings", data=form)
    assert saved.status_code == 303 and saved.headers["location"] == "/cases/settings?done=saved"
    assert "Settings saved." in admin.get("/cases/settings?done=saved").text
    refused = admin.post(
        "/cases/settings", data={**form, "urgent_response_minutes.complaint": "90"}
    )
    assert refused.status_code == 400
    assert "an urgent complaint is answered in 90 minutes" in refused.text
    assert 'value="90"' in refused.text  # what was typed is shown again, to correct
    with web_office.store.db.connection_context():
        kept = load_deadlines(web_office.site)
        assert (kept.response_minutes["complaint"], kept.urgent_response_minutes["complaint"],
                kept.followup_hours["suggestion"], kept.supervisor_after_minutes) == (60, 15, 48, 30)  # fmt: skip
        [audit] = AuditEntry.select().where(AuditEntry.action == "cases.settings")
        assert "response_minutes" in audit.detail
