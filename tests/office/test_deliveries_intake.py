"""Delivery events at the office, on SQLite and PostgreSQL: a parcel logged and collected
per the contract (over a real enrolled kiosk's signed push, and through the intake), the
"parcel" entity in the change feed, idempotence, a second collection kept as a duplicate,
bad input refused field by field with nothing stored, and another site's parcel or host
refused with a security alert."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from conftest import SITE, KioskFactory, Office
from deliveries_support import ParcelKiosk, collected_payload, logged_payload, parcel_kiosk
from test_cross_site import OTHER_SITE
from test_sync import signed_post
from tests_support import MONDAY_10AM

from kiosk.domain.clock import ManualClock
from kiosk.domain.tokens import new_ref
from kiosk.office.deliveries.models import Parcel, ParcelHistory
from kiosk.office.deliveries.rules import save_rules
from kiosk.office.models import ChangeLog, Event
from kiosk.office.store import OfficeStore, open_office_database
from kiosk.sync.wire import EventKind

FEED_KEYS = {
    "parcel_ref", "pickup_code", "host_ref", "company", "kind", "carrier", "items", "shelf",
    "state", "logged_at", "collected_at", "token_id",
}  # fmt: skip


@pytest.fixture
def store(office_db_url: str) -> Iterator[OfficeStore]:
    store = OfficeStore(open_office_database(office_db_url), clock=ManualClock(MONDAY_10AM))
    yield store
    store.db.close()


@pytest.fixture
def lobby(store: OfficeStore) -> ParcelKiosk:
    return parcel_kiosk(store, SITE)


def parcel(store: OfficeStore, ref: str) -> Parcel:
    with store.db.connection_context():
        return Parcel.get(Parcel.ref == ref)


def feed_rows(store: OfficeStore, ref: str) -> list[tuple[str, dict[str, Any]]]:
    with store.db.connection_context():
        rows = ChangeLog.select().where(ChangeLog.ref == ref).order_by(ChangeLog.id)
        return [(row.entity, json.loads(row.data)) for row in rows]


def history(store: OfficeStore, ref: str) -> list[str]:
    with store.db.connection_context():
        rows = ParcelHistory.select().join(Parcel).where(Parcel.ref == ref)
        return [row.action for row in rows.order_by(ParcelHistory.id)]


def test_a_kiosks_signed_push_logs_a_parcel_and_the_feed_carries_it(
    office: Office, kiosks: KioskFactory
) -> None:
    kiosk, client = kiosks.new()
    host = office.store.add_host(SITE, "李娜", email="li.na@example.com")
    ref, token = new_ref(), new_ref()
    payload = logged_payload(ref, MONDAY_10AM, host_ref=host.ref, token_id=token, items=2)
    event = {
        "event_id": "d" * 32, "seq": 1, "kind": EventKind.DELIVERY_LOGGED.value,
        "subject_ref": ref, "occurred_at": MONDAY_10AM.isoformat(), "payload": payload,
    }  # fmt: skip

    answer = signed_post(office, kiosk, "/v1/events", {"events": [event]})

    assert answer.status_code == 200, answer.text
    assert answer.json()["results"] == [{"event_id": "d" * 32, "status": "stored", "error": ""}]
    stored = parcel(office.store, ref)
    assert (stored.state, stored.host_ref, stored.items, stored.carrier, stored.waybill) == (
        "waiting", host.ref, 2, "sf", "SF1402345678901",
    )  # fmt: skip
    [(entity, data)] = feed_rows(office.store, ref)
    assert entity == "parcel" and set(data) == FEED_KEYS
    assert (data["state"], data["token_id"], data["collected_at"]) == ("waiting", token, None)
    assert data["logged_at"] == MONDAY_10AM.isoformat() or data["logged_at"].startswith(
        "2026-11-23T02:00"
    )
    # The same push again (a lost answer): a duplicate, nothing twice.
    again = signed_post(office, kiosk, "/v1/events", {"events": [event]})
    assert again.json()["results"][0]["status"] == "duplicate"
    assert history(office.store, ref) == ["logged"]
    assert client.run_once().pulled >= 1  # the kiosk pulls the feed with the parcel in it


def test_collection_then_a_second_collection_changes_nothing(
    store: OfficeStore, lobby: ParcelKiosk
) -> None:
    ref, logged = lobby.log(company="Acme Trading")
    first = lobby.collect(ref, at=MONDAY_10AM + timedelta(hours=3), collected_by="Zhang Wei")
    second = lobby.collect(ref, at=MONDAY_10AM + timedelta(hours=5), collected_by="Mallory")

    assert (logged.status, first.status, second.status) == ("stored", "stored", "duplicate")
    got = parcel(store, ref)
    assert (got.state, got.collected_by, got.collected_method, got.signed) == (
        "collected", "Zhang Wei", "qr", True,
    )  # fmt: skip
    assert got.collected_at == MONDAY_10AM + timedelta(hours=3)
    assert history(store, ref) == ["logged", "collected", "second_collection"]
    [(_, data)] = feed_rows(store, ref)  # the latest row only, with the first collection
    assert data["state"] == "collected"
    assert data["collected_at"].startswith("2026-11-23T05:00")
    with store.db.connection_context():  # the duplicate is kept as evidence
        assert Event.select().where(Event.kind == EventKind.DELIVERY_COLLECTED).count() == 2


def test_a_collection_pushed_before_its_logging_is_kept(store: OfficeStore) -> None:
    lobby, garage = parcel_kiosk(store, SITE), parcel_kiosk(store, SITE)
    ref = new_ref()
    assert garage.collect(ref, collected_by="王芳", method="code").status == "stored"
    assert feed_rows(store, ref) == []  # nothing a kiosk could use yet
    _, result = lobby.log(ref=ref, company="Acme", at=MONDAY_10AM - timedelta(hours=1))
    assert result.status == "stored"
    got = parcel(store, ref)
    assert (got.state, got.logged, got.company, got.collected_by) == (
        "collected",
        True,
        "Acme",
        "王芳",
    )
    assert got.logged_at == MONDAY_10AM - timedelta(hours=1)
    [(_, data)] = feed_rows(store, ref)
    assert data["state"] == "collected" and data["pickup_code"] == "482913"


BAD_LOGGED = [
    ({"waybill": "SF123\x1b[2J"}, "payload.waybill: contains a control character"),
    ({"waybill": "9" * 200}, "payload.waybill: is 200 characters long; at most 64 fit"),
    ({"waybill": "SF 123\t45"}, "payload.waybill: contains a control character"),
    ({"carrier": "acme"}, "payload.carrier: unknown carrier 'acme'"),
    ({"carrier": "SF; DROP"}, "payload.carrier: is not a carrier key"),
    ({"kind": "weapon"}, "payload.kind: is not a kind of delivery ('weapon')"),
    ({"items": 0}, "payload.items: must be a whole number from 1 to 99"),
    ({"items": 100}, "payload.items: must be a whole number from 1 to 99"),
    ({"items": True}, "payload.items: must be a whole number from 1 to 99"),
    ({"pickup_code": "000000"}, "payload.pickup_code: must be 6 digits, not 000000"),
    ({"pickup_code": "12345"}, "payload.pickup_code: must be 6 digits, not 000000"),
    ({"company": ""}, "payload.host_ref: name a host or a company, one of the two"),
    ({"host_ref": "a" * 16}, "payload.host_ref: name a host or a company, one of the two"),
    ({"company": "X" * 121}, "payload.company: is 121 characters long; at most 120 fit"),
    ({"shelf": "S" * 33}, "payload.shelf: is 33 characters long; at most 32 fit"),
    ({"recipient_left": "no"}, "payload.recipient_left: must be true or false"),
    ({"logged_at": "yesterday"}, "payload.logged_at"),
    ({"token_id": "forged"}, "payload.token_id: must be the pickup token's id"),
    ({"parcel_ref": "../../etc"}, "payload.parcel_ref: must be 16 lower-case hex digits"),
]


@pytest.mark.parametrize(("changes", "reason"), BAD_LOGGED, ids=[r for _, r in BAD_LOGGED])
def test_a_bad_logging_is_refused_with_its_reason_and_stores_nothing(
    store: OfficeStore, lobby: ParcelKiosk, changes: dict[str, Any], reason: str
) -> None:
    ref = new_ref()
    bad = lobby.raw(EventKind.DELIVERY_LOGGED,
                    logged_payload(ref, MONDAY_10AM, **{"company": "Acme", **changes}))  # fmt: skip
    good_ref = new_ref()
    good = lobby.raw(
        EventKind.DELIVERY_LOGGED, logged_payload(good_ref, MONDAY_10AM, company="Acme")
    )

    results = lobby.push(bad, good)

    assert results[0].status == "rejected" and reason in results[0].error, results[0]
    assert results[1].status == "stored"  # the rest of the batch goes on
    with store.db.connection_context():
        assert not Parcel.select().where(Parcel.ref == ref).exists()
        assert not Event.select().where(Event.event_id == bad["event_id"]).exists()
        assert Parcel.select().where(Parcel.ref == good_ref).exists()


BAD_COLLECTED = [
    ({"method": "teleport"}, "payload.method: must be qr, code or guard"),
    ({"collected_by": ""}, "payload.collected_by: is required"),
    ({"collected_by": "N" * 81}, "payload.collected_by: is 81 characters long; at most 80 fit"),
    ({"collected_by": "Eve\x07"}, "payload.collected_by: contains a control character"),
    ({"signed": 1}, "payload.signed: must be true or false"),
    ({"collected_at": None}, "payload.collected_at: is required"),
]


@pytest.mark.parametrize(("changes", "reason"), BAD_COLLECTED, ids=[r for _, r in BAD_COLLECTED])
def test_a_bad_collection_is_refused_and_the_parcel_still_waits(
    store: OfficeStore, lobby: ParcelKiosk, changes: dict[str, Any], reason: str
) -> None:
    ref, _ = lobby.log(company="Acme")
    result = lobby.push(
        lobby.raw(EventKind.DELIVERY_COLLECTED, collected_payload(ref, MONDAY_10AM, **changes))
    )[0]
    assert result.status == "rejected" and reason in result.error, result
    assert parcel(store, ref).state == "waiting"


def test_a_forged_event_kind_is_refused(lobby: ParcelKiosk) -> None:
    event = lobby.raw("delivery.stolen", logged_payload(new_ref(), MONDAY_10AM, company="Acme"))
    [result] = lobby.push(event)
    assert result.status == "rejected" and "unknown event kind 'delivery.stolen'" in result.error


def test_a_carrier_the_site_adds_is_accepted(store: OfficeStore, lobby: ParcelKiosk) -> None:
    with store.db.connection_context():
        save_rules(store.site(SITE), {"carriers": ["sf", "acme-express"]}, MONDAY_10AM)
    assert lobby.log(company="Acme", carrier="acme-express")[1].status == "stored"
    refused = lobby.log(company="Acme", carrier="jd")[1]  # no longer one of this site's
    assert refused.status == "rejected" and "this site's are acme-express, sf" in refused.error


def alerts(store: OfficeStore) -> list[dict[str, Any]]:
    with store.db.connection_context():
        rows = Event.select().where(Event.kind == EventKind.SECURITY_ALERT).order_by(Event.id)
        return [json.loads(row.payload) for row in rows]


def test_another_sites_parcel_or_host_is_refused_with_a_security_alert(
    store: OfficeStore, lobby: ParcelKiosk
) -> None:
    intruder = parcel_kiosk(store, OTHER_SITE)
    host = store.add_host(SITE, "李娜", email="li.na@example.com")
    ref, _ = lobby.log(host_ref=host.ref)

    stolen = intruder.collect(ref, collected_by="Mallory")
    named = intruder.log(host_ref=host.ref)[1]
    relogged = intruder.log(ref=ref, company="Mallory Ltd")[1]

    assert (
        stolen.status == "rejected"
        and f"the parcel {ref} is not of this kiosk's site" in stolen.error
    )
    assert (
        named.status == "rejected"
        and f"the host {host.ref} is not of this kiosk's site" in named.error
    )
    assert relogged.status == "rejected"
    assert [a["reason"] for a in alerts(store)] == ["foreign_site_ref"] * 3
    assert alerts(store)[0]["kiosk"] == intruder.kiosk.kiosk_id
    got = parcel(store, ref)
    assert (got.state, got.company, got.collected_by) == ("waiting", "", "")
    with store.db.connection_context():
        other = store.site(OTHER_SITE)
        assert (
            not ChangeLog.select()
            .where((ChangeLog.site == other) & (ChangeLog.entity == "parcel"))
            .exists()
        )


def test_a_collection_after_the_office_returned_it_wins(
    store: OfficeStore, lobby: ParcelKiosk
) -> None:
    """A kiosk offline at the time handed it over: what happened at the desk is the truth,
    and the parcel's history keeps that it had been marked returned."""
    from kiosk.office.deliveries import ledger

    ref, _ = lobby.log(company="Acme")
    with store.db.connection_context():
        ledger.mark_returned(store.feed, ledger.Viewer(store.site(SITE).id), ref, "desk",
                             MONDAY_10AM + timedelta(hours=1))  # fmt: skip
    assert lobby.collect(ref, at=MONDAY_10AM + timedelta(minutes=30)).status == "stored"
    assert parcel(store, ref).state == "collected"
    assert history(store, ref) == ["logged", "returned", "collected"]


def test_the_nightly_purge_blanks_who_collected_a_parcel(
    store: OfficeStore, lobby: ParcelKiosk
) -> None:
    from kiosk.office import reporting
    from kiosk.office.retention import purge

    old, _ = lobby.log(company="Acme", waybill="SF9000000000001")
    lobby.collect(old, collected_by="张伟")
    recent, _ = lobby.log(company="Acme", waybill="SF9000000000002")
    waiting, _ = lobby.log(company="Acme", waybill="SF9000000000003")
    later = MONDAY_10AM + timedelta(days=80)
    lobby.collect(recent, at=later, collected_by="王芳")

    report = purge(store.db, MONDAY_10AM + timedelta(days=91))  # 90 days by default
    again = purge(store.db, MONDAY_10AM + timedelta(days=91))

    assert (report.parcels_anonymised, again.parcels_anonymised) == (1, 0)
    assert (parcel(store, old).collected_by, parcel(store, old).waybill) == ("", "")
    assert parcel(store, old).collected_at is not None  # the reports' times stay
    assert parcel(store, recent).collected_by == "王芳"
    assert parcel(store, waiting).waybill == "SF9000000000003"
    with store.db.connection_context():
        payloads = [e.payload for e in Event.select().where(Event.payload.contains(old))]
        assert payloads and not any("张伟" in p or "SF9000000000001" in p for p in payloads)
        details = [h.detail for h in ParcelHistory.select().join(Parcel).where(Parcel.ref == old)]
        assert not any("张伟" in d for d in details)
        checks = reporting.verify_site_chains(store.site(SITE).id)
    assert all(check.broken_seq is None and not check.problem for check in checks), checks
