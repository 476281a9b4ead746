"""Cases from kiosks at the office, on SQLite and PostgreSQL: `case.opened` and
`case.followed_up` pushed by a real enrolled kiosk, the contract's payload rules, one case
per case_ref, a number clash refused, a follow-up before resolution refused with "not
resolved yet", another site's case refused, and the `case` feed entity the kiosk pulls."""

from __future__ import annotations

import base64
import json

from cases_support import followed_up, opened, opened_payload, push
from conftest import SITE, KioskFactory, Office

from kiosk.office.cases.desk import Actor, CaseDesk
from kiosk.office.cases.models import Case, CaseHistory
from kiosk.office.models import ChangeLog, Event


def desk_of(office: Office) -> tuple[CaseDesk, Actor]:
    site = office.store.site(SITE)
    return CaseDesk(office.store.db, office.store.clock, office.store.feed), Actor(
        site.id, "reception", "Desk"
    )


def feed_rows(office: Office, ref: str) -> list[dict]:
    with office.store.db.connection_context():
        return [
            json.loads(row.data)
            for row in ChangeLog.select().where(
                (ChangeLog.entity == "case") & (ChangeLog.ref == ref)
            )
        ]


def test_a_kiosk_case_is_stored_once_with_its_history_and_feed_row(
    office: Office, kiosks: KioskFactory
) -> None:
    kiosk, _ = kiosks.new()
    payload = opened_payload()
    first = opened(payload)
    assert [r["status"] for r in push(office, kiosk, [first])] == ["stored"]
    # the same event again (a lost answer) and the same case in a new event (a double tap)
    again = push(office, kiosk, [first, opened(dict(payload))])
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    with office.store.db.connection_context():
        case = Case.get(Case.ref == payload["case_ref"])
        assert (case.number, case.state, case.reporter_name) == (
            "R-20261123-K0001",
            "received",
            "王芳",
        )
        assert [h.action for h in CaseHistory.select().where(CaseHistory.case == case)] == ["open"]
    [row] = feed_rows(office, payload["case_ref"])
    assert row["state"] == "received" and row["number"] == "R-20261123-K0001"
    assert set(row) == {"case_ref", "number", "kind", "state", "opened_at", "response_due_at",
                        "resolved_at", "followup_due_at", "updated_at"}  # fmt: skip
    assert "王芳" not in json.dumps(row, ensure_ascii=False)  # no personal data in the feed


def test_follow_up_before_resolution_is_refused_then_counts_after(
    office: Office, kiosks: KioskFactory
) -> None:
    kiosk, _ = kiosks.new()
    payload = opened_payload()
    push(office, kiosk, [opened(payload)])
    [early] = push(office, kiosk, [followed_up(payload["case_ref"])])
    assert (early["status"], early["error"]) == ("rejected", "not resolved yet")
    desk, actor = desk_of(office)
    with office.store.db.connection_context():
        desk.add_department(office.store.site(SITE), "Engineering")
        desk.act(actor, payload["number"], "assign", department="Engineering")
        desk.act(actor, payload["number"], "resolve", note="Washer replaced")
    [late] = push(office, kiosk, [followed_up(payload["case_ref"], "not_satisfied")])
    assert late["status"] == "stored"
    with office.store.db.connection_context():
        case = Case.get(Case.ref == payload["case_ref"])
        assert (case.state, case.followup_outcome) == ("followed_up", "not_satisfied")
        assert case.followed_up_at is not None
    assert feed_rows(office, payload["case_ref"])[-1]["state"] == "followed_up"


def test_a_number_clash_and_another_sites_case_are_refused(
    office: Office, kiosks: KioskFactory
) -> None:
    kiosk, _ = kiosks.new()
    push(office, kiosk, [opened(opened_payload(number="C-20261123-K0007", kind="complaint"))])
    clash = opened(opened_payload(number="C-20261123-K0007", kind="complaint"))
    twins = [opened(opened_payload(number="R-20261123-K0009")) for _ in range(2)]
    results = push(office, kiosk, [clash, *twins])
    assert [r["status"] for r in results] == ["rejected", "stored", "rejected"]
    assert "already used by another case" in results[0]["error"]
    # a case_ref of another site's case
    other_site = office.store.site("Harbour View")
    with office.store.db.connection_context():
        foreign = Case.get(Case.number == "C-20261123-K0007")
        Case.update(site=other_site).where(Case.id == foreign.id).execute()
    [refused] = push(office, kiosk, [followed_up(foreign.ref)])
    assert refused["status"] == "rejected" and "not of this kiosk's site" in refused["error"]
    with office.store.db.connection_context():
        assert Case.select().count() == 2


BAD_OPENINGS = [
    ({"description": ""}, "payload.description"),
    ({"description": "x" * 4001}, "payload.description"),
    ({"description": "bell\x07"}, "payload.description"),
    ({"number": "R-2026-1"}, "payload.number"),
    ({"number": "C-20261123-K0001"}, "payload.number"),  # its letter against the kind
    ({"kind": "theft"}, "payload.kind"),
    ({"urgency": "now"}, "payload.urgency"),
    ({"case_ref": "ZZ"}, "payload.case_ref"),
    ({"photo_jpeg_b64": "not base64!"}, "payload.photo_jpeg_b64"),
    ({"photo_jpeg_b64": base64.b64encode(b"\xff\xd8" + b"0" * 160_000).decode()},
     "payload.photo_jpeg_b64"),
    ({"photo_jpeg_b64": base64.b64encode(b"GIF89a").decode()}, "payload.photo_jpeg_b64"),
    ({"response_due_at": "yesterday"}, "payload.response_due_at"),
    ({"channel": "phone"}, "payload.channel"),
    ({"reporter": {"name": "x\x1b[2J"}}, "payload.reporter.name"),
    ({"category": ""}, "payload.category"),
]  # fmt: skip


def test_bad_case_events_are_refused_with_the_field_and_lose_nothing(
    office: Office, kiosks: KioskFactory
) -> None:
    kiosk, _ = kiosks.new()
    bad = [opened(opened_payload(**changes)) for changes, _field in BAD_OPENINGS]
    good = opened(opened_payload(number="R-20261123-K0002"))
    results = push(office, kiosk, [*bad, good])
    for (changes, field), result in zip(BAD_OPENINGS, results, strict=False):
        assert result["status"] == "rejected", changes
        assert result["error"].startswith(field), (changes, result["error"])
    assert results[-1]["status"] == "stored"
    with office.store.db.connection_context():
        assert not Event.select().where(Event.event_id.in_([e["event_id"] for e in bad])).exists()
        assert Case.select().count() == 1
