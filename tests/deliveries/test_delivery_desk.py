"""The deliveries engine on a real SQLite kiosk: a parcel logged with its events in one
transaction, a recipient who left (the desk told), bad input refused with clear words and
nothing written, and every pickup refusal of the contract (forged, expired, revoked, another
site's, already collected, returned), then the office's feed and the retention purge."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.app import Kiosk, build_delivery_desk
from kiosk.domain.errors import InvalidInput
from kiosk.domain.tokens import TokenKind, TokenSigner
from kiosk.services.deliveries import (
    AmbiguousCode,
    DeliveryDesk,
    NewParcel,
    PickupRefusal,
    PickupRefused,
)
from kiosk.services.retention import purge
from kiosk.storage.models import Host, OutboxEvent
from kiosk.storage.parcels import PARCEL_MODELS, Parcel
from kiosk.sync.apply import apply_changes


@pytest.fixture
def desk(kiosk: Kiosk) -> DeliveryDesk:
    return build_delivery_desk(kiosk)


def events(kind: str) -> list[dict]:  # type: ignore[type-arg]
    rows = OutboxEvent.select().where(OutboxEvent.kind == kind).order_by(OutboxEvent.id)
    return [json.loads(row.payload) for row in rows]


def test_the_migrated_schema_matches_the_parcel_models(kiosk: Kiosk) -> None:
    for model in PARCEL_MODELS:
        table = model._meta.table_name
        rows = kiosk.db.execute_sql(f'PRAGMA table_info("{table}")').fetchall()
        assert {row[1] for row in rows} == {f.column_name for f in model._meta.sorted_fields}


def test_a_parcel_is_logged_with_its_events_in_one_go(
    kiosk: Kiosk, hosts: dict[str, str], desk: DeliveryDesk
) -> None:
    view = desk.log_parcel(
        NewParcel(kind="parcel", carrier="sf", items=2, host_ref=hosts["李娜"], waybill="SF1234567")
    )
    assert len(view.pickup_code) == 6 and view.pickup_code.isdigit()
    assert view.pickup_code != "000000"
    assert view.recipient == "李娜" and view.shelf == "A1" and not view.recipient_left
    [logged] = events("delivery.logged")
    assert logged["parcel_ref"] == view.parcel_ref and logged["items"] == 2
    assert logged["carrier"] == "sf" and logged["waybill"] == "SF1234567"
    assert logged["token_id"] == view.token_id and logged["logged_at"].endswith("+00:00")
    [told] = events("notification.delivery_waiting")
    assert told["audience"] == "host"
    # The next parcel goes on the emptiest shelf.
    second = desk.log_parcel(NewParcel(kind="food", carrier="meituan", company="Acme Ltd"))
    assert second.shelf == "A2" and second.recipient == "Acme Ltd"
    assert second.pickup_code != view.pickup_code


def test_a_recipient_who_left_is_logged_and_the_desk_told(
    kiosk: Kiosk, hosts: dict[str, str], desk: DeliveryDesk
) -> None:
    Host.update(active=False).where(Host.ref == hosts["王强"]).execute()
    view = desk.log_parcel(NewParcel(kind="documents", carrier="ems", host_ref=hosts["王强"]))
    assert view.recipient_left
    assert events("delivery.logged")[0]["recipient_left"] is True
    assert events("notification.delivery_waiting")[0]["audience"] == "reception"


@pytest.mark.parametrize(
    ("parcel", "field", "words"),
    [
        (NewParcel(kind="parcel", carrier="pigeon", company="A"), "carrier", "unknown carrier"),
        (NewParcel(kind="parcel", carrier="sf", company="A", waybill="X" * 200), "waybill", "200"),
        (
            NewParcel(kind="parcel", carrier="sf", company="A", waybill="SF\x1b[2J"),
            "waybill",
            "ESC",
        ),
        (NewParcel(kind="parcel", carrier="sf", company="A", items=0), "items", "between 1 and 99"),
        (NewParcel(kind="parcel", carrier="sf", company="A", items=100), "items", "1 and 99"),
        (NewParcel(kind="pizza", carrier="sf", company="A"), "kind", "not a kind"),
        (NewParcel(kind="parcel", carrier="sf"), "recipient", "one of the two"),
    ],
)
def test_bad_input_is_refused_clearly_and_nothing_is_written(
    desk: DeliveryDesk, parcel: NewParcel, field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        desk.log_parcel(parcel)
    assert caught.value.field == field and words in caught.value.message
    assert Parcel.select().count() == 0 and OutboxEvent.select().count() == 0


def test_pickup_by_qr_records_who_and_a_second_scan_is_refused(
    kiosk: Kiosk, hosts: dict[str, str], desk: DeliveryDesk
) -> None:
    view = desk.log_parcel(NewParcel(kind="parcel", carrier="jd", host_ref=hosts["李娜"]))
    done = desk.collect_with_token(view.token, "李娜")
    assert done.state == "collected" and done.method == "qr"
    [collected] = events("delivery.collected")
    assert collected == {
        "parcel_ref": view.parcel_ref,
        "collected_by": "李娜",
        "method": "qr",
        "signed": False,
        "collected_at": collected["collected_at"],
    }
    with pytest.raises(PickupRefused) as again:
        desk.collect_with_token(view.token, "someone")
    assert again.value.reason is PickupRefusal.ALREADY_COLLECTED
    assert "李娜" in again.value.detail
    with pytest.raises(PickupRefused) as typed:
        desk.collect_with_code(view.pickup_code, "someone")
    assert typed.value.reason is PickupRefusal.ALREADY_COLLECTED
    assert len(events("delivery.collected")) == 1


def test_forged_expired_revoked_and_foreign_tokens_are_refused(
    kiosk: Kiosk,
    hosts: dict[str, str],
    desk: DeliveryDesk,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    view = desk.log_parcel(NewParcel(kind="parcel", carrier="sf", host_ref=hosts["李娜"]))
    forged = view.token[:-6] + ("AAAAAA" if not view.token.endswith("AAAAAA") else "BBBBBB")
    foreign, _ = TokenSigner(Ed25519PrivateKey.generate()).sign_subject(
        TokenKind.PARCEL_PICKUP,
        subject_ref=view.parcel_ref,
        not_before=clock.now(),
        not_after=clock.now() + timedelta(days=1),
    )
    cases = {forged: PickupRefusal.FORGED, foreign: PickupRefusal.OTHER_SITE}
    for text, reason in cases.items():
        with pytest.raises(PickupRefused) as caught:
            desk.parcel_for_token(text)
        assert caught.value.reason is reason
    kiosk.directory.revoke_token(view.token_id, TokenKind.PARCEL_PICKUP, "lost phone")
    with pytest.raises(PickupRefused) as revoked:
        desk.parcel_for_token(view.token)
    assert revoked.value.reason is PickupRefusal.REVOKED
    later = desk.log_parcel(NewParcel(kind="parcel", carrier="sf", host_ref=hosts["李娜"]))
    clock.advance(timedelta(days=31))
    with pytest.raises(PickupRefused) as expired:
        desk.parcel_for_token(later.token)
    assert expired.value.reason is PickupRefusal.EXPIRED
    assert Parcel.get(Parcel.ref == later.parcel_ref).state == "waiting"


def test_a_typed_code_shared_by_two_parcels_asks_which_recipient(
    kiosk: Kiosk, hosts: dict[str, str], desk: DeliveryDesk
) -> None:
    one = desk.log_parcel(NewParcel(kind="parcel", carrier="sf", host_ref=hosts["李娜"]))
    other = desk.log_parcel(NewParcel(kind="parcel", carrier="sf", company="Acme"))
    Parcel.update(pickup_code=one.pickup_code).where(Parcel.ref == other.parcel_ref).execute()
    with pytest.raises(AmbiguousCode) as caught:
        desk.collect_with_code(one.pickup_code, "Li")
    assert {ref for ref, _ in caught.value.choices} == {one.parcel_ref, other.parcel_ref}
    done = desk.collect_with_code(one.pickup_code, "Li", parcel_ref=other.parcel_ref)
    assert done.parcel_ref == other.parcel_ref and done.method == "code"
    with pytest.raises(InvalidInput):
        desk.collect_with_code("12ab", "Li")


def test_a_site_asking_for_signatures_gets_one_and_a_guard_returns_a_parcel(
    kiosk: Kiosk, hosts: dict[str, str]
) -> None:
    config = kiosk.config.model_copy(
        update={"deliveries": kiosk.config.deliveries.model_copy(update={"signature": True})}
    )
    desk = build_delivery_desk(Kiosk(config, *[getattr(kiosk, f) for f in
                                               ("db", "clock", "keys", "kiosk_id", "engine", "directory")]))  # fmt: skip
    view = desk.log_parcel(NewParcel(kind="flowers", carrier="other", host_ref=hosts["李娜"]))
    with pytest.raises(InvalidInput, match="signature"):
        desk.collect_by_guard(view.parcel_ref, "Guard Wu")
    signed = desk.collect_by_guard(view.parcel_ref, "李娜", signature_png=b"\x89PNG strokes")
    assert signed.method == "guard" and events("delivery.collected")[0]["signed"] is True
    returned = desk.mark_returned(
        desk.log_parcel(NewParcel(kind="parcel", carrier="ups", company="X")).parcel_ref
    )
    with pytest.raises(PickupRefused) as caught:
        desk.parcel_for_token(returned.token)
    assert caught.value.reason in (PickupRefusal.RETURNED, PickupRefusal.REVOKED)
    with pytest.raises(PickupRefused, match="returned to sender on"):
        desk.parcels_for_code(returned.pickup_code)


def test_the_offices_parcel_rows_are_applied_and_only_move_forward(
    kiosk: Kiosk,
    desk: DeliveryDesk,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    data = {
        "parcel_ref": "00000000000000aa", "pickup_code": "123456", "host_ref": "", "company": "Acme",
        "kind": "parcel", "carrier": "dhl", "items": 1, "shelf": "B2", "state": "waiting",
        "logged_at": "2026-11-23T01:00:00+00:00", "collected_at": None, "token_id": "00000000000000bb",
    }  # fmt: skip
    row = {"id": 1, "entity": "parcel", "ref": "00000000000000aa", "data": data}
    bad = {"id": 2, "entity": "parcel", "ref": "00000000000000cc", "data": {**data, "items": 500}}
    with kiosk.db.atomic():
        report = apply_changes([row, bad], 2, kiosk.kiosk_id, clock.now())
    assert report.applied == 1 and report.skipped
    assert [p.recipient for p in desk.parcels_for_code("123456")] == ["Acme"]
    returned = {**row, "data": {**data, "state": "returned"}}
    with kiosk.db.atomic():
        apply_changes([returned], 3, kiosk.kiosk_id, clock.now())
        apply_changes([row], 4, kiosk.kiosk_id, clock.now())  # an older row pulled late
    with pytest.raises(PickupRefused) as caught:
        desk.parcels_for_code("123456")
    assert caught.value.reason is PickupRefusal.RETURNED


def test_collected_parcels_names_are_purged_after_the_retention_period(
    kiosk: Kiosk,
    desk: DeliveryDesk,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    view = desk.log_parcel(NewParcel(kind="parcel", carrier="sf", company="Secret Co"))
    desk.collect_with_code(view.pickup_code, "Zhang Wei")
    waiting = desk.log_parcel(NewParcel(kind="parcel", carrier="sf", company="Still Here"))
    clock.advance(timedelta(days=91))
    report = purge(kiosk.db, kiosk.config.retention, kiosk.clock)
    assert report.parcels_anonymised == 1
    purged = Parcel.get(Parcel.ref == view.parcel_ref)
    assert (purged.company, purged.collected_by, purged.state) == ("", "", "collected")
    assert Parcel.get(Parcel.ref == waiting.parcel_ref).company == "Still Here"
