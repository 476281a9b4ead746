"""The response time a kiosk promises (kiosk.services.cases.deadlines), on a real SQLite
file: the site's deadlines from the office's feed (kept while offline; a bad or older
change skipped), `[cases]` before any, and after hours the clock started at reception's
next opening (the defaults: 09:00-12:00 and 14:00-17:00, Monday to Friday, Shanghai)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tests_support import MONDAY_10AM, SHANGHAI, make_kiosk

from kiosk.app import Kiosk, build_case_desk
from kiosk.config import KioskConfig
from kiosk.domain.clock import ManualClock
from kiosk.services.cases.deadlines import next_opening
from kiosk.services.cases.desk import CaseDesk
from kiosk.services.cases.form import CaseReport, Place, Reporter
from kiosk.sync.apply import apply_changes


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in the week of MONDAY_10AM (23 November 2026): day 0 is the Monday."""
    return datetime(2026, 11, 23 + day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def file_kiosk(config: KioskConfig, clock: ManualClock, tmp_path: Path) -> Kiosk:
    built = make_kiosk(config, clock, str(tmp_path / "kiosk.sqlite3"))
    yield built
    built.close()


@pytest.fixture
def desk(file_kiosk: Kiosk) -> CaseDesk:
    return build_case_desk(file_kiosk)


def complaint(key: str, urgency: str = "normal") -> CaseReport:
    return CaseReport(
        submission_key=key, kind="complaint", urgency=urgency,
        description="The lobby door slams shut.", place=Place("A", "1", ""),
        reporter=Reporter("Li Wei", "", "13800000000"),
    )  # fmt: skip


def deadlines(minutes: int, updated: str, **tables: dict[str, int]) -> dict[str, object]:
    data: dict[str, object] = {
        "response_minutes": dict.fromkeys(("complaint", "repair", "suggestion", "inquiry"),
                                          minutes),
        "urgent_response_minutes": dict.fromkeys(("complaint", "repair", "suggestion",
                                                  "inquiry"), min(minutes, 20)),
        "followup_hours": dict.fromkeys(("complaint", "repair", "suggestion", "inquiry"), 24),
        "updated_at": updated,
    }  # fmt: skip
    data.update(tables)
    return {"entity": "case_settings", "ref": "deadlines", "data": data}


@pytest.mark.parametrize(
    ("moment", "opens"),
    [
        (local(0, 10), local(0, 10)),  # open: counted from now
        (local(0, 12, 30), local(0, 14)),  # the lunch break
        (local(0, 20), local(1, 9)),  # the evening
        (local(0, 8, 59), local(0, 9)),  # before the day's first opening
        (local(4, 17), local(7, 9)),  # Friday's close: Monday
        (local(5, 11), local(7, 9)),  # a Saturday
    ],
)
def test_next_opening(config: KioskConfig, moment: datetime, opens: datetime) -> None:
    assert next_opening(config.site, moment) == opens


def test_the_promise_after_hours_counts_from_the_opening(
    desk: CaseDesk, clock: ManualClock
) -> None:
    assert desk.reception_opens() is None  # Monday 10:00: open
    opened = desk.open(complaint("day"))
    assert opened.response_due_at - opened.opened_at == timedelta(minutes=120)
    clock.set(local(0, 20))
    assert desk.reception_opens() == local(1, 9)
    evening = desk.open(complaint("evening"))
    assert evening.response_due_at == local(1, 11)  # 09:00 + 120 minutes, not 22:00
    urgent = desk.open(complaint("urgent", "urgent"))
    assert urgent.response_due_at == local(1, 9, 30)


def test_the_sites_deadlines_come_in_the_feed_and_stay_offline(
    desk: CaseDesk, file_kiosk: Kiosk, clock: ManualClock
) -> None:
    assert desk.open(complaint("before")).response_due_at == MONDAY_10AM + timedelta(hours=2)
    with file_kiosk.db.atomic():
        report = apply_changes([deadlines(45, "2026-11-23T01:00:00+00:00")], 1, "k", clock.now())
    assert report.skipped == []
    assert desk.open(complaint("after")).response_due_at == MONDAY_10AM + timedelta(minutes=45)

    older = deadlines(300, "2026-11-22T01:00:00+00:00")  # pulled late, out of order
    bad = deadlines(45, "2026-11-23T02:00:00+00:00", response_minutes={
        "complaint": 0, "repair": 45, "suggestion": 45, "inquiry": 45})  # fmt: skip
    with file_kiosk.db.atomic():
        skipped = (
            apply_changes([older], 2, "k", clock.now()).skipped
            + apply_changes([bad], 3, "k", clock.now()).skipped
        )
    assert [(entity, reason.partition(":")[0]) for entity, _, reason in skipped] == [
        ("case_settings", "data.response_minutes.complaint")
    ]
    assert desk.open(complaint("still")).response_due_at == MONDAY_10AM + timedelta(minutes=45)

    file_kiosk.close()  # the kiosk restarts, offline: the last deadlines it heard hold
    again = make_kiosk(file_kiosk.config, clock, file_kiosk.db.database)
    try:
        restarted = build_case_desk(again)
        kept = restarted.open(complaint("restarted"))
        assert kept.response_due_at == MONDAY_10AM + timedelta(minutes=45)
    finally:
        again.close()
