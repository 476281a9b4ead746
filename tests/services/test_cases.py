"""The kiosk's case desk (issue 19) on a real SQLite file: numbering that survives a restart,
one case per submission however often it is sent, bad input refused with a clear message,
the `case.opened` event exactly as the contract lists it, the office's feed, receipts
verified with the site's badge keys, the follow-up once per resolution, and the purge."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tests_support import MONDAY_10AM, make_kiosk

from kiosk.app import Kiosk, build_case_desk
from kiosk.config import KioskConfig
from kiosk.domain.clock import ManualClock
from kiosk.domain.errors import IllegalTransition, InvalidInput, NotFound, TokenRejected
from kiosk.domain.tokens import TokenKind, TokenSigner
from kiosk.services.cases.desk import CaseDesk
from kiosk.services.cases.form import CaseReport, Place, Reporter
from kiosk.services.cases.models import KioskCase
from kiosk.services.keys import trust_key
from kiosk.services.retention import purge
from kiosk.storage.models import OutboxEvent
from kiosk.sync.apply import apply_changes
from kiosk.sync.wire import EventKind

DAY = MONDAY_10AM.strftime("%Y%m%d")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 1000 + b"\xff\xd9"


@pytest.fixture
def config_extra() -> str:
    return '\n[cases]\nunits = ["3-1201", "3-1202"]\n'


@pytest.fixture
def file_kiosk(config: KioskConfig, clock: ManualClock, tmp_path: Path) -> Kiosk:
    built = make_kiosk(config, clock, str(tmp_path / "kiosk.sqlite3"))
    yield built
    built.close()


@pytest.fixture
def desk(file_kiosk: Kiosk) -> CaseDesk:
    return build_case_desk(file_kiosk)


def repair(key: str = "form-1", **changes: object) -> CaseReport:
    fields: dict[str, object] = {
        "submission_key": key,
        "kind": "repair",
        "category": "water",
        "description": "The tap in the second-floor kitchen leaks.\nWater on the floor.",
        "place": Place("3", "12", "3-1201"),
        "reporter": Reporter("Li Wei", "3-1201", "13800000000"),
    }
    fields.update(changes)
    return CaseReport(**fields)  # type: ignore[arg-type]


def events(kind: str) -> list[dict[str, object]]:
    rows = OutboxEvent.select().where(OutboxEvent.kind == kind).order_by(OutboxEvent.id)
    return [json.loads(row.payload) for row in rows]


def test_numbers_are_the_kiosks_own_daily_sequence_and_survive_a_restart(
    config: KioskConfig, clock: ManualClock, tmp_path: Path
) -> None:
    path = str(tmp_path / "restart.sqlite3")
    first = make_kiosk(config, clock, path)
    numbers = [build_case_desk(first).open(repair(f"a{i}")).number for i in range(2)]
    first.close()
    second = make_kiosk(config, clock, path)
    desk = build_case_desk(second)
    numbers.append(desk.open(repair("a2", kind="complaint", category="")).number)
    clock.advance(timedelta(days=1))
    numbers.append(desk.open(repair("a3")).number)
    second.close()
    next_day = (MONDAY_10AM + timedelta(days=1)).strftime("%Y%m%d")
    assert numbers == [
        f"R-{DAY}-K0001",
        f"R-{DAY}-K0002",
        f"C-{DAY}-K0003",
        f"R-{next_day}-K0001",
    ]


def test_a_double_tap_makes_one_case_and_one_event(desk: CaseDesk) -> None:
    first = desk.open(repair("same-form"))
    again = desk.open(repair("same-form"))
    assert (again.number, again.ref, first.new, again.new) == (first.number, first.ref, True, False)
    assert KioskCase.select().count() == 1
    assert len(events(EventKind.CASE_OPENED)) == 1
    assert len(events(EventKind.NOTIFICATION_CASE_OPENED)) == 1


def test_the_opened_event_is_the_contracts_payload(desk: CaseDesk) -> None:
    opened = desk.open(
        repair(
            photo_agreed=True, photo_jpeg=JPEG, urgency="urgent", place=Place("3", "12", "9-9999")
        )
    )
    (payload,) = events(EventKind.CASE_OPENED)
    assert (
        payload
        == {
            "case_ref": opened.ref,
            "number": f"R-{DAY}-K0001",
            "kind": "repair",
            "urgency": "urgent",
            "category": "water",
            "place": {"building": "3", "floor": "12", "unit": "9-9999", "text": ""},
            "unit_known": False,
            "description": "The tap in the second-floor kitchen leaks.\nWater on the floor.",
            "reporter": {"name": "Li Wei", "unit": "3-1201", "phone": "13800000000"},
            "language": "en",
            "channel": "kiosk",
            "opened_at": "2026-11-23T02:00:00Z",
            "response_due_at": "2026-11-23T03:00:00Z",  # an urgent repair: one hour
            "photo_jpeg_b64": "/9j/4" + payload["photo_jpeg_b64"][5:],  # type: ignore[index]
        }
    )
    notice = events(EventKind.NOTIFICATION_CASE_OPENED)[0]
    assert "13800000000" not in json.dumps(notice) and notice["place"] == "3 12 9-9999"


def test_due_times_by_kind_and_urgency(desk: CaseDesk) -> None:
    opened = MONDAY_10AM
    assert desk.response_due("complaint", "normal", opened) - opened == timedelta(hours=2)
    assert desk.response_due("complaint", "urgent", opened) - opened == timedelta(minutes=30)
    assert desk.response_due("repair", "normal", opened) - opened == timedelta(hours=4)
    assert desk.response_due("suggestion", "normal", opened) - opened == timedelta(hours=24)


def test_a_known_unit_is_flagged_known(desk: CaseDesk) -> None:
    assert desk.open(repair()).unit_known is True


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"description": ""}, "description", "is required"),
        ({"description": "x" * 4001}, "description", "4001 characters"),
        ({"description": "bell\x07"}, "description", "control character"),
        ({"description": "a\tb"}, "description", "tab"),
        ({"kind": "praise"}, "kind", "must be one of"),
        ({"category": "roof"}, "category", "must be one of"),
        ({"reporter": Reporter()}, "reporter", "name and a phone number"),
        ({"photo_jpeg": JPEG}, "photo", "did not agree"),
        ({"photo_jpeg": b"GIF89a", "photo_agreed": True}, "photo", "not a JPEG"),
        (
            {"photo_jpeg": JPEG[:-2] + b"\x01" * 160_000 + b"\xff\xd9", "photo_agreed": True},
            "photo",
            "at most 150 KB",
        ),
    ],
)
def test_bad_input_is_refused_clearly_and_stores_nothing(
    desk: CaseDesk, changes: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        desk.open(repair(**changes))
    assert refused.value.field == field and message in str(refused.value)
    assert KioskCase.select().count() == 0 and OutboxEvent.select().count() == 0


def test_a_suggestion_needs_no_contact(desk: CaseDesk) -> None:
    opened = desk.open(repair(kind="suggestion", category="", reporter=Reporter()))
    assert opened.number.startswith("S-")
    assert events(EventKind.CASE_OPENED)[0]["reporter"] == {"name": "", "unit": "", "phone": ""}


def feed_change(ref: str, number: str, state: str, resolved: str | None) -> dict[str, object]:
    return {
        "entity": "case",
        "ref": ref,
        "data": {
            "case_ref": ref,
            "number": number,
            "kind": "repair",
            "state": state,
            "opened_at": "2026-11-23T02:00:00Z",
            "response_due_at": "2026-11-23T06:00:00Z",
            "resolved_at": resolved,
            "followup_due_at": None,
            "updated_at": resolved or "2026-11-23T02:05:00Z",
        },
    }


def test_the_receipt_shows_the_state_and_takes_the_follow_up_once_per_resolution(
    desk: CaseDesk, file_kiosk: Kiosk, clock: ManualClock
) -> None:
    opened = desk.open(repair())
    scanned = f"https://office.example/c/{opened.receipt_token}"
    assert desk.show_receipt(scanned).state == "received"
    with pytest.raises(IllegalTransition, match="This case is not resolved yet"):
        desk.follow_up(opened.ref, "satisfied")
    resolved = "2026-11-23T05:00:00Z"
    with file_kiosk.db.atomic():
        apply_changes(
            [feed_change(opened.ref, opened.number, "resolved", resolved)],
            5,
            "kiosk-test",
            clock.now(),
        )
    view = desk.show_receipt(opened.receipt_token)
    assert (view.state, view.can_follow_up) == ("resolved", True)
    clock.advance(timedelta(hours=4))
    after = desk.follow_up(opened.ref, "not_satisfied", "Still drips.")
    assert (after.state, after.can_follow_up) == ("followed_up", False)
    assert events(EventKind.CASE_FOLLOWED_UP) == [
        {
            "case_ref": opened.ref,
            "outcome": "not_satisfied",
            "note": "Still drips.",
            "at": "2026-11-23T06:00:00Z",
            "channel": "kiosk",
        }
    ]
    with pytest.raises(IllegalTransition, match="already answered"):
        desk.follow_up(opened.ref, "satisfied")
    again = "2026-11-24T05:00:00Z"  # reopened and resolved again: a new answer is due
    with file_kiosk.db.atomic():
        apply_changes(
            [feed_change(opened.ref, opened.number, "resolved", again)],
            6,
            "kiosk-test",
            clock.now(),
        )
    assert desk.follow_up(opened.ref, "satisfied").state == "followed_up"


def test_a_bad_feed_case_is_skipped_with_its_reason(file_kiosk: Kiosk, clock: ManualClock) -> None:
    change = feed_change("00000000000000aa", "R-1", "exploded", None)
    with file_kiosk.db.atomic():
        report = apply_changes([change], 7, "kiosk-test", clock.now())
    assert report.skipped == [("case", "00000000000000aa", "data.state: is not a case state")]


def test_receipts_of_the_sites_other_kiosks_verify_and_forged_ones_do_not(
    desk: CaseDesk, clock: ManualClock, file_kiosk: Kiosk
) -> None:
    peer = TokenSigner(Ed25519PrivateKey.generate())
    token, _ = peer.sign_subject(
        TokenKind.CASE_RECEIPT,
        subject_ref="00000000000000bb",
        not_before=clock.now(),
        not_after=clock.now() + timedelta(days=1),
    )
    with pytest.raises(TokenRejected):
        desk.case_ref_of_receipt(token)  # not yet a trusted kiosk
    with file_kiosk.db.atomic():
        trust_key(TokenKind.BADGE, peer.public_key.public_bytes_raw(), "kiosk-peer", clock.now())
    fresh = build_case_desk(file_kiosk)
    assert fresh.case_ref_of_receipt(token) == "00000000000000bb"
    with pytest.raises(NotFound, match="next sync"):
        fresh.show_receipt(token)
    forged = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    with pytest.raises(TokenRejected):
        fresh.case_ref_of_receipt(forged)
    badge, _ = peer.sign_subject(
        TokenKind.BADGE,
        subject_ref="00000000000000bb",
        not_before=clock.now(),
        not_after=clock.now() + timedelta(days=1),
    )
    with pytest.raises(TokenRejected):
        fresh.case_ref_of_receipt(badge)  # a badge is not a receipt


def test_closed_cases_lose_contact_and_photo_after_the_period(
    desk: CaseDesk, file_kiosk: Kiosk, clock: ManualClock
) -> None:
    opened = desk.open(repair(photo_agreed=True, photo_jpeg=JPEG))
    kept = desk.open(repair("form-2"))
    with file_kiosk.db.atomic():
        apply_changes(
            [
                feed_change(opened.ref, opened.number, "closed", "2026-11-23T05:00:00Z"),
                feed_change(kept.ref, kept.number, "resolved", "2026-11-23T05:00:00Z"),
            ],
            8,
            "kiosk-test",
            clock.now(),
        )
    clock.advance(timedelta(days=366))
    report = purge(file_kiosk.db, file_kiosk.config.retention, clock, case_contact_days=365)
    assert report.case_contacts_purged == 1
    gone = KioskCase.get(KioskCase.ref == opened.ref)
    assert (gone.reporter_name, gone.reporter_phone, gone.photo_jpeg) == ("", "", None)
    assert gone.number == opened.number and gone.kind == "repair"
    assert KioskCase.get(KioskCase.ref == kept.ref).reporter_phone == "13800000000"


def test_the_migrated_case_tables_match_the_models(file_kiosk: Kiosk) -> None:
    from kiosk.services.cases.models import CASE_MODELS

    for model in CASE_MODELS:
        table = model._meta.table_name
        columns = {row[1] for row in file_kiosk.db.execute_sql(f'PRAGMA table_info("{table}")')}
        assert columns == {field.column_name for field in model._meta.sorted_fields}, table
        indexes = {row[1] for row in file_kiosk.db.execute_sql(f'PRAGMA index_list("{table}")')}
        wanted = {i.query()[0].split('"')[1] for i in model._schema._create_indexes(safe=False)}
        assert wanted <= indexes, table


def test_a_station_tag_that_could_be_misread_is_refused(tmp_path: Path) -> None:
    from kiosk.config import load_config
    from kiosk.domain.errors import ConfigError

    path = tmp_path / "kiosk.toml"
    path.write_text('[site]\nname = "T"\n[kiosk]\nstation = "O"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="station"):
        load_config(path)
