"""A kiosk checks every change it pulls from the office before writing it: a malformed one
(an on-site visit without its arrival, control characters in a name, a time that is not
one, a wrong type, an unknown state) is skipped with a warning naming it and why; the rest
of the page is applied and the cursor moves past it, so it is not pulled again."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from tests_support import MONDAY_10AM

from kiosk.app import Kiosk
from kiosk.domain import names
from kiosk.domain.errors import InvalidInput
from kiosk.domain.tokens import key_id_for
from kiosk.storage.models import Appointment, Host, TrustedKey, Visit, Visitor
from kiosk.sync.apply import apply_changes, current_cursor
from kiosk.sync.feed_schema import validate_change

ARRIVED = MONDAY_10AM.isoformat()
PUBLIC_KEY = bytes(range(32))


def change(entity: str, ref: str, **data: Any) -> dict[str, Any]:
    return {"id": 1, "entity": entity, "ref": ref, "data": data}


def visit(ref: str, **fields: Any) -> dict[str, Any]:
    data = {
        "state": "checked_in",
        "visitor_name": "Grace Good",
        "company": "Acme",
        "host_ref": "a0000000000000a1",
        "kiosk": "kiosk-elsewhere",
        "arrived_at": ARRIVED,
        **fields,
    }
    return change("visit", ref, **data)


def appointment(ref: str, **fields: Any) -> dict[str, Any]:
    data = {
        "visit_ref": f"v{ref[1:]}",
        "host_ref": "a0000000000000a1",
        "visitor_name": "Anna Eriksson",
        "starts_at": ARRIVED,
        "ends_at": MONDAY_10AM.replace(hour=12).isoformat(),
        **fields,
    }
    return change("appointment", ref, **data)


GOOD = [
    change(
        "host",
        "a0000000000000a1",
        name="Maria Schmidt",
        department="Engineering",
        channels=["mailtos://maria:secret@mail.example.com?to=maria@example.com&from=kiosk" * 3],
    ),
    change("key", key_id_for(PUBLIC_KEY), kind="badge", public_key=PUBLIC_KEY.hex(), owner="k2"),
    visit("1000000000000001"),
    appointment("p000000000000001"),
]

BAD = [
    ("visit", visit("2000000000000002", arrived_at=None), "data.arrived_at: is required"),
    (
        "visit",
        visit("2000000000000003", visitor_name="Eve\x00"),
        "data.visitor_name: contains a NUL",
    ),
    (
        "visit",
        visit("2000000000000004", visitor_name="Eve\x1b[2J"),
        "data.visitor_name: contains a control character (U+001B ESC)",
    ),
    ("visit", visit("2000000000000005", company="Acme\r"), "control character (U+000D CR)"),
    ("visit", visit("2000000000000006", arrived_at="yesterday"), "data.arrived_at: is not a time"),
    (
        "visit",
        visit("2000000000000007", arrived_at="2026-11-23T10:00:00"),
        "must carry its time zone",
    ),
    ("visit", visit("2000000000000008", state="teleported"), "data.state: is not a visit state"),
    ("visit", visit("2000000000000009", visitor_name=42), "data.visitor_name: must be text"),
    ("visit", visit("200000000000000a", escort_required="yes"), "must be true or false"),
    ("visit", {"entity": "visit", "ref": "200000000000000b", "data": "x"}, "must be an object"),
    ("visit", visit("x" * 65), "ref: is 65 characters long"),
    ("host", change("host", "b0000000000000b2", name=["Maria"]), "data.name: must be text"),
    ("host", change("host", "b0000000000000b3", name=""), "data.name: is required"),
    ("appointment", appointment("q000000000000002", starts_at=20261123), "ISO 8601"),
    ("appointment", appointment("q000000000000003", ends_at=None), "data.ends_at: is required"),
    (
        "key",
        change("key", "deadbeef", kind="badge", public_key=PUBLIC_KEY.hex()),
        "does not match the key row",
    ),
    ("key", change("key", "deadbeef", kind="badge", public_key="zz"), "is not hexadecimal"),
    ("link_response", change("link_response", "l1", visit="v1", action="rm"), "data.action"),
]


def test_a_bad_change_is_skipped_and_the_rest_of_the_page_applied(
    kiosk: Kiosk, caplog: pytest.LogCaptureFixture
) -> None:
    page = [GOOD[0], BAD[0][1], GOOD[1], *[bad for _, bad, _ in BAD[1:]], *GOOD[2:]]
    with caplog.at_level(logging.WARNING, logger="kiosk.sync.apply"), kiosk.db.atomic():
        report = apply_changes(page, 42, kiosk.kiosk_id, MONDAY_10AM)
    assert current_cursor() == 42  # past the bad rows: they are not pulled again
    assert report.applied == len(GOOD)
    assert len(report.skipped) == len(BAD)
    for (entity, bad, reason), (skipped_entity, skipped_ref, skipped_reason) in zip(
        BAD, report.skipped, strict=True
    ):
        assert skipped_entity == entity
        assert reason in skipped_reason, (skipped_reason, reason)
        assert skipped_ref.startswith(str(bad["ref"])[:60])
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == len(BAD)
    assert (
        "skipped the office's visit 2000000000000002: data.arrived_at: is required" in (warnings[0])
    )
    assert not any(c in "".join(warnings) for c in "\x00\x1b\r")  # logged safely
    # The good ones are all there; none of the bad ones is.
    assert Host.get(Host.ref == "a0000000000000a1").name == "Maria Schmidt"
    assert TrustedKey.get(TrustedKey.key_id == key_id_for(PUBLIC_KEY)).owner == "k2"
    assert Appointment.get(Appointment.ref == "p000000000000001").visitor_name == "Anna Eriksson"
    [mirrored] = Visit.select().where(Visit.ref.startswith("1"))
    assert (mirrored.state, mirrored.arrived_at) == ("checked_in", MONDAY_10AM)
    assert not Visit.select().where(Visit.ref.startswith("2")).exists()
    assert not Host.select().where(Host.ref.startswith("b")).exists()
    assert not Appointment.select().where(Appointment.ref.startswith("q")).exists()
    assert not Visitor.select().where(Visitor.name.contains("Eve")).exists()
    assert [e.visitor_name for e in kiosk.engine.on_site()] == ["Grace Good"]


def test_an_older_good_change_still_applies_when_a_later_one_of_the_page_is_bad(
    kiosk: Kiosk,
) -> None:
    ref = "3000000000000003"
    page = [visit(ref), visit(ref, state="checked_out", left_at="not a time")]
    with kiosk.db.atomic():
        apply_changes(page, 7, kiosk.kiosk_id, MONDAY_10AM)
    assert Visit.get(Visit.ref == ref).state == "checked_in"
    assert current_cursor() == 7


def test_a_page_of_only_bad_changes_still_moves_the_cursor(kiosk: Kiosk) -> None:
    with kiosk.db.atomic():
        report = apply_changes([BAD[0][1], BAD[3][1]], 9, kiosk.kiosk_id, MONDAY_10AM)
    assert (report.applied, len(report.skipped), current_cursor()) == (0, 2, 9)


def test_a_checkout_without_arrival_is_still_applied(kiosk: Kiosk) -> None:
    """Refusing it would leave the visitor on this kiosk's roll call forever."""
    ref = "4000000000000004"
    with kiosk.db.atomic():
        apply_changes([visit(ref)], 1, kiosk.kiosk_id, MONDAY_10AM)
        apply_changes(
            [visit(ref, state="checked_out", arrived_at=None, left_at=ARRIVED)],
            2,
            kiosk.kiosk_id,
            MONDAY_10AM,
        )
    assert Visit.get(Visit.ref == ref).state == "checked_out"
    assert kiosk.engine.on_site() == []


def test_optional_fields_sent_as_null_are_taken_as_absent(kiosk: Kiosk) -> None:
    ref = "5000000000000005"
    with kiosk.db.atomic():
        report = apply_changes(
            [visit(ref, company=None, kiosk=None, host_ref=None, method=None, left_at=None)],
            3,
            kiosk.kiosk_id,
            MONDAY_10AM,
        )
    assert report.skipped == []
    assert (Visit.get(Visit.ref == ref).company, Visit.get(Visit.ref == ref).kiosk_id) == ("", "")


@pytest.mark.parametrize(("entity", "bad", "reason"), BAD)
def test_validate_change_names_the_field_and_the_problem(
    entity: str, bad: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_change(entity, bad["ref"], bad["data"])
    assert reason in str(refused.value)


@pytest.mark.parametrize("name", ["\ufdfa" * 200, "爨" * 200, "x" * 200])
def test_the_longest_names_the_office_accepts_pass_with_their_keys(name: str) -> None:
    data = appointment(
        "p000000000000002",
        visitor_name=name,
        exact_key=names.exact_key(name),
        latin_key=names.latin_key(name),
    )["data"]
    validate_change("appointment", "p000000000000002", data)
    validate_change("watchlist", "w000000000000002", {"name": name, **data})


@pytest.mark.parametrize("good", GOOD)
def test_what_the_office_sends_passes(good: dict[str, Any]) -> None:
    assert validate_change(good["entity"], good["ref"], good["data"]) == (good["ref"], good["data"])
