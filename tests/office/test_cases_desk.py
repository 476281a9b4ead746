"""The case desk on SQLite and PostgreSQL: the state machine and who may move it, site
and department isolation, office numbering (station "0"), overdue escalation on a
controlled clock through a real SMTP server, and the reports' numbers on a known set."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from local_servers import Mailbox, smtp_server, text_of

from kiosk.domain.clock import ManualClock
from kiosk.domain.errors import InvalidInput, NotFound
from kiosk.notify.channels import AppriseSender
from kiosk.office.api import build_office
from kiosk.office.cases.desk import Actor
from kiosk.office.cases.models import Case, CaseHistory
from kiosk.office.cases.parts import CaseParts
from kiosk.office.cases.reports import percentile, report_csv
from kiosk.office.models import ChangeLog, Site
from kiosk.office.settings import OfficeSettings, SiteSettings, save_site_settings
from kiosk.office.store import OfficeStore, open_office_database

START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


class Desk:
    def __init__(self, store: OfficeStore, parts: CaseParts, clock: ManualClock) -> None:
        self.store, self.parts, self.clock = store, parts, clock
        self.site = store.site("Riverside Tower")
        self.other = store.site("Harbour View")
        save_site_settings(self.site, SiteSettings(timezone="Asia/Shanghai"), clock.now())
        self.users = 0

    def actor(self, role: str, site: Site | None = None, departments: tuple[str, ...] = ()):
        from kiosk.office.staff import StaffDirectory

        self.users += 1
        host_ref = ""
        if role == "host":
            host_ref = self.store.add_host((site or self.site).name, f"Staff {self.users}").ref
        user = StaffDirectory(self.store.db, self.clock).add_user(
            site or self.site,
            f"{role}{self.users}",
            "correct horse battery",
            role,
            host_ref=host_ref,
        )
        for name in departments:
            self.parts.desk.join_department(self.department(name, site), user)
        return Actor.of(user)

    def department(self, name: str, site: Site | None = None, channels=None):
        from kiosk.office.cases.models import Department

        found = Department.get_or_none(
            (Department.site == (site or self.site).id) & (Department.name == name)
        )
        return found or self.parts.desk.add_department(site or self.site, name, channels)

    def open(self, actor: Actor, kind: str = "repair", **options) -> Case:
        return self.parts.desk.open_case(
            actor, kind=kind, description="Lift 2 stops between floors", channel="phone",
            place={"building": "A", "floor": "3"}, reporter={"name": "Li", "phone": "139"},
            **options,
        )  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desk]:
    if request.param == "sqlite":
        url = str(tmp_path / "office.sqlite3")
    else:
        url = os.environ.get("KIOSK_TEST_POSTGRES_URL") or ""
        if not url:
            pytest.skip("PostgreSQL comes with `make test` (scripts/test-postgres.sh start)")
    db = open_office_database(url)
    with db.connection_context():
        if request.param == "postgresql":
            db.execute_sql('TRUNCATE "site" RESTART IDENTITY CASCADE')
    clock = ManualClock(START)
    store = OfficeStore(db, clock=clock)
    office = build_office(store, OfficeSettings(public_url="http://x"), sender=AppriseSender())
    with db.connection_context():
        yield Desk(store, office.cases, clock)
    db.close_all() if hasattr(db, "close_all") else db.close()


def test_the_whole_path_with_history_and_feed(desk: Desk) -> None:
    reception = desk.actor("reception")
    desk.department("Engineering")
    case = desk.open(reception, urgency="urgent")
    assert case.number == "R-20261201-00001"  # the office's station "0", its own sequence
    assert desk.open(reception, kind="complaint").number == "C-20261201-00002"
    assert case.response_due_at == START + timedelta(hours=1)  # urgent repair
    d = desk.parts.desk
    d.act(reception, case.number, "assign", department="Engineering")
    desk.clock.advance(timedelta(minutes=30))
    d.act(reception, case.number, "start")
    desk.clock.advance(timedelta(hours=2))
    resolved = d.act(reception, case.number, "resolve", note="Reset the controller")
    assert resolved.followup_due_at == desk.clock.now() + timedelta(hours=24)
    with pytest.raises(InvalidInput, match="outcome"):
        d.act(reception, case.number, "follow_up", outcome="maybe")
    d.act(reception, case.number, "follow_up", outcome="not_satisfied", note="Stopped again")
    d.act(reception, case.number, "reopen", note="Engineer back")
    d.act(reception, case.number, "start")
    d.act(reception, case.number, "resolve", note="Replaced the door sensor")
    d.act(reception, case.number, "follow_up", outcome="satisfied")
    final = d.act(reception, case.number, "close")
    assert (final.state, final.reopened_count) == ("closed", 1)
    steps = [(h.action, h.from_state, h.to_state, h.actor) for h in d.history(final)]
    assert [s[0] for s in steps] == ["open", "assign", "start", "resolve", "follow_up", "reopen",
                                     "start", "resolve", "follow_up", "close"]  # fmt: skip
    assert steps[5][1:3] == ("followed_up", "reopened") and steps[1][3] == reception.name
    [row] = ChangeLog.select().where((ChangeLog.entity == "case") & (ChangeLog.ref == case.ref))
    assert json.loads(row.data)["state"] == "closed"
    assert "Li" not in row.data and "139" not in row.data


def test_transitions_only_from_their_states(desk: Desk) -> None:
    reception = desk.actor("reception")
    case = desk.open(reception)
    d = desk.parts.desk
    with pytest.raises(InvalidInput, match="not resolved yet"):
        d.act(reception, case.number, "follow_up", outcome="satisfied")
    for action in ("start", "resolve", "reopen", "close"):
        with pytest.raises(InvalidInput, match="cannot"):
            d.act(reception, case.number, action)
    with pytest.raises(InvalidInput, match="department"):
        d.act(reception, case.number, "assign", department="Nobody")
    with pytest.raises(InvalidInput, match="unknown action"):
        d.act(reception, case.number, "explode")
    assert Case.get_by_id(case.id).state == "received"
    assert CaseHistory.select().where(CaseHistory.case == case.id).count() == 1


def test_roles_departments_and_sites(desk: Desk) -> None:
    reception = desk.actor("reception")
    engineer = desk.actor("host", departments=("Engineering",))
    cleaner = desk.actor("host", departments=("Cleaning",))
    guard = desk.actor("security")
    stranger = desk.actor("admin", site=desk.other)
    case = desk.open(reception)
    d = desk.parts.desk
    for outsider in (engineer, cleaner, guard, stranger):
        with pytest.raises(NotFound):  # not assigned to them, or not their site
            d.get(outsider, case.number)
    d.act(reception, case.number, "assign", department="Engineering")
    assert d.get(engineer, case.ref).id == case.id
    assert d.allowed_actions(engineer, d.get(engineer, case.ref)) == ["start", "resolve"]
    with pytest.raises(InvalidInput, match="may not assign"):
        d.act(engineer, case.number, "assign", department="Cleaning")
    for outsider in (cleaner, guard, stranger):
        with pytest.raises(NotFound):
            d.act(outsider, case.number, "start")
    d.act(engineer, case.number, "start")
    d.act(engineer, case.number, "resolve", note="Fixed")
    with pytest.raises(InvalidInput, match="may not follow_up"):
        d.act(engineer, case.number, "follow_up", outcome="satisfied")
    with pytest.raises(InvalidInput, match="only reception"):
        desk.open(guard)
    with pytest.raises(InvalidInput, match="description"):
        desk.parts.desk.open_case(reception, kind="repair", description="  ", channel="desk")
    with pytest.raises(InvalidInput, match="description"):
        desk.parts.desk.open_case(reception, kind="repair", description="x" * 4001)


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    with smtp_server(sender="office@tower.test") as box:
        yield box


def test_overdue_escalates_to_the_assignee_then_the_supervisor(desk: Desk, smtp: Mailbox) -> None:
    save_site_settings(
        desk.site,
        SiteSettings(timezone="Asia/Shanghai", reception=[smtp.url("supervisor@tower.test")]),
        desk.clock.now(),
    )
    desk.department("Engineering", channels=[smtp.url("eng@tower.test")])
    reception = desk.actor("reception")
    late = desk.open(reception)  # due in 4 h
    unassigned = desk.open(reception, kind="complaint")  # due in 2 h, nobody assigned
    escalator = desk.parts.escalator
    assert escalator.tick().assignees_told == 0 and smtp.messages == []
    desk.parts.desk.act(reception, late.number, "assign", department="Engineering")
    # assigning is the first response: only the unassigned complaint can be late now
    desk.clock.advance(timedelta(hours=4, minutes=1))
    report = escalator.tick()
    assert (report.assignees_told, report.supervisors_told) == (0, 1)
    [to_supervisor] = smtp.to("supervisor@tower.test")
    assert unassigned.number in to_supervisor["Subject"]
    desk.parts.desk.act(reception, late.number, "resolve", note="done")
    desk.clock.advance(timedelta(hours=24, minutes=1))  # the follow-up is late now
    assert escalator.tick().assignees_told == 1
    [to_engineering] = smtp.to("eng@tower.test")
    assert "follow-up" in text_of(to_engineering) and late.number in to_engineering["Subject"]
    assert escalator.tick().assignees_told == 0  # told once
    desk.clock.advance(timedelta(hours=1))
    assert escalator.tick().supervisors_told == 1
    assert len(smtp.to("supervisor@tower.test")) == 2
    assert escalator.tick().supervisors_told == 0
    from kiosk.office.cases.escalation import is_overdue

    assert is_overdue(Case.get_by_id(late.id), desk.clock.now())


def test_report_numbers_on_a_known_set(desk: Desk) -> None:
    """Five repairs and one complaint, with response times 10, 20, 30, 40, 50, 60 minutes
    and resolution times 60, 120, 180, 240, 300 minutes (one never resolved)."""
    reception = desk.actor("reception")
    desk.department("Engineering")
    d = desk.parts.desk
    outcomes = ["satisfied", "satisfied", "not_satisfied", "unreachable", None]
    followup_delay = [1, 2, 23, 30, None]  # hours after resolution; 30 is late, None never
    for index in range(6):
        desk.clock.set(START + timedelta(days=index))
        case = desk.open(reception, kind="repair" if index < 5 else "complaint")
        desk.clock.advance(timedelta(minutes=10 * (index + 1)))
        d.act(reception, case.number, "assign", department="Engineering")
        if index == 5:
            continue
        desk.clock.set(case.opened_at + timedelta(minutes=60 * (index + 1)))
        d.act(reception, case.number, "resolve", note="done")
        if followup_delay[index] is not None:
            desk.clock.advance(timedelta(hours=followup_delay[index]))
            d.act(reception, case.number, "follow_up", outcome=outcomes[index])
        if outcomes[index] == "not_satisfied":
            d.act(reception, case.number, "reopen")
    desk.clock.set(datetime(2026, 12, 31, tzinfo=UTC))
    report = desk.parts.reports.month(desk.site, "2026-12", desk.clock.now())
    assert report.total == 6 and report.by_kind == {"complaint": 1, "repair": 5}
    assert report.by_category == {"other": 5}
    assert report.first_response_minutes == {"median": 35.0, "p90": 60.0}
    # the reopened case's resolution is undone: 60, 120, 240, 300 remain
    assert report.resolution_minutes == {"median": 180.0, "p90": 300.0}
    assert (report.resolved, report.followed_up_in_time) == (4, 2)
    assert report.repair_followup_rate == 0.5 and report.meets_standard is False
    assert report.satisfaction == {"satisfied": 2, "unreachable": 1, "not_satisfied": 1}
    assert report.reopened == 1
    assert report.overdue == 1  # the resolved case never followed up (due long ago)
    assert {c["state"] for c in report.still_open} == {"assigned", "reopened"}
    assert "followup_rate,0.5" in report_csv(report)
    start, end = report.start, report.end
    weekly = desk.parts.reports.weekly_followup_rates(
        desk.site, datetime.fromisoformat(start), datetime.fromisoformat(end)
    )
    assert weekly == [("11-30", 50.0), ("12-07", 0.0), ("12-14", 0.0), ("12-21", 0.0),
                      ("12-28", 0.0)]  # fmt: skip
    assert desk.parts.reports.month(desk.site, "2026-11", desk.clock.now()).total == 0
    with pytest.raises(InvalidInput, match="YYYY-MM"):
        desk.parts.reports.month(desk.site, "12/2026", desk.clock.now())


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.9) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([float(v) for v in range(1, 11)], 0.9) == 9.0
    assert percentile([float(v) for v in range(1, 12)], 0.9) == 10.0


def test_retention_blanks_a_closed_cases_contact_and_keeps_its_counts(desk: Desk) -> None:
    from kiosk.office.retention import purge

    reception = desk.actor("reception")
    desk.department("Engineering")
    d = desk.parts.desk
    closed = desk.open(reception)
    still_open = desk.open(reception)
    Case.update(photo_jpeg_b64="/9j/AAAA").where(Case.id == closed.id).execute()
    for action in ("assign", "resolve", "follow_up", "close"):
        d.act(reception, closed.number, action, department="Engineering", outcome="satisfied")
    desk.clock.advance(timedelta(days=89))
    assert purge(desk.store.db, desk.clock.now()).cases_anonymised == 0  # not yet
    desk.clock.advance(timedelta(days=2))
    assert purge(desk.store.db, desk.clock.now()).cases_anonymised == 1
    assert purge(desk.store.db, desk.clock.now()).cases_anonymised == 0  # idempotent
    kept = Case.get_by_id(closed.id)
    assert (kept.reporter_name, kept.reporter_phone, kept.photo_jpeg_b64) == ("", "", "")
    assert (kept.kind, kept.state, kept.building) == ("repair", "closed", "A")
    assert Case.get_by_id(still_open.id).reporter_name == "Li"
    month = closed.opened_at.astimezone(UTC).strftime("%Y-%m")
    assert desk.parts.reports.month(desk.site, month, desk.clock.now()).total == 2
