"""The desk's work beyond visits, kiosk and office together over HTTP on loopback (both
storage backends): a repair reported at a kiosk reaches the office, is assigned and resolved
there, comes back down the feed, is followed up at the kiosk by its receipt and counts at the
office; the receipt's QR opens the office's public page. A parcel logged at a kiosk reaches
the office; one collected at the kiosk shows collected there; one the office returns to
sender is refused at the kiosk's pickup."""

from __future__ import annotations

import uuid

import httpx
import pytest
from conftest import SITE, KioskFactory, Office

from kiosk.app import build_case_desk
from kiosk.delivery_parts import build_delivery_desk
from kiosk.office.cases.desk import Actor
from kiosk.office.cases.desk import CaseDesk as OfficeCaseDesk
from kiosk.office.cases.models import Case
from kiosk.office.cases.parts import CaseSettings
from kiosk.office.deliveries.ledger import Viewer, mark_returned
from kiosk.office.deliveries.models import Parcel
from kiosk.services.cases.form import CaseReport, Place, Reporter
from kiosk.services.deliveries.values import NewParcel, PickupRefused


def office_desk(office: Office) -> OfficeCaseDesk:
    return OfficeCaseDesk(office.store.db, office.store.clock, office.store.feed, CaseSettings())


def test_a_repair_goes_round_kiosk_office_kiosk_office(
    office: Office, kiosks: KioskFactory
) -> None:
    kiosk, client = kiosks.new()
    client.run_once()
    desk = build_case_desk(kiosk)
    with kiosk.using():
        opened = desk.open(
            CaseReport(
                submission_key=uuid.uuid4().hex,
                kind="repair",
                category="water",
                description="Water dripping from the ceiling by the lifts",
                place=Place(building="A", floor="3", unit="3-1201"),
                reporter=Reporter(name="Wang Fang", unit="3-1201", phone="13800000000"),
            )
        )
    client.run_once()
    with office.store.db.connection_context():
        case = Case.get(Case.ref == opened.ref)
        assert (case.number, case.state, case.kind) == (opened.number, "received", "repair")
        site_id = case.site_id

    # The receipt's QR opens the public page: the kiosk's signature checked by the office.
    token = opened.receipt_qr.rsplit("/c/", 1)[-1]
    public = httpx.get(f"{office.url}/c/{token}")
    assert public.status_code == 200 and opened.number in public.text
    assert "Wang Fang" not in public.text and "13800000000" not in public.text
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert httpx.get(f"{office.url}/c/{forged}").status_code == 404

    # Not resolved yet: the kiosk refuses the follow-up with a clear message.
    with kiosk.using(), pytest.raises(Exception, match="not resolved yet"):
        desk.follow_up(opened.ref, "satisfied")

    reception = Actor(site_id=site_id, role="reception", name="Li Ming")
    office_cases = office_desk(office)
    with office.store.db.connection_context():
        office_cases.add_department(office.store.site(SITE), "Engineering")
        office_cases.act(reception, opened.number, "assign", department="Engineering")
        office_cases.act(reception, opened.number, "start")
        office_cases.act(reception, opened.number, "resolve", note="Pipe joint replaced")
    client.run_once()
    with kiosk.using():
        shown = desk.show_receipt(opened.receipt_qr)
        assert shown.state == "resolved" and shown.followup_due_at is not None
        desk.follow_up(opened.ref, "satisfied", "Fixed the same day")
    client.run_once()
    with office.store.db.connection_context():
        assert Case.get(Case.ref == opened.ref).state == "followed_up"


def test_parcels_go_round_kiosk_office_kiosk(office: Office, kiosks: KioskFactory) -> None:
    host = office.store.add_host(SITE, "Li Na", email="li.na@example.com", department="Admin")
    kiosk, client = kiosks.new()
    client.run_once()
    desk = build_delivery_desk(kiosk)
    with kiosk.using():
        kept = desk.log_parcel(NewParcel(kind="parcel", carrier="sf", items=2, host_ref=host.ref))
        sent_back = desk.log_parcel(NewParcel(kind="documents", carrier="ems", host_ref=host.ref))
        collected = desk.collect_with_code(kept.pickup_code, "Li Na")
        assert collected.state == "collected"
    client.run_once()
    with office.store.db.connection_context():
        rows = {
            p.ref: p
            for p in Parcel.select().where(Parcel.ref << [kept.parcel_ref, sent_back.parcel_ref])
        }
        assert rows[kept.parcel_ref].state == "collected"
        assert rows[kept.parcel_ref].collected_by == "Li Na"
        assert rows[sent_back.parcel_ref].state == "waiting"
        mark_returned(
            office.store.feed, Viewer(rows[sent_back.parcel_ref].site_id), sent_back.parcel_ref,
            "Li Ming", office.store.clock.now(),
        )  # fmt: skip
    client.run_once()
    with kiosk.using(), pytest.raises(PickupRefused, match="return"):
        desk.collect_with_code(sent_back.pickup_code, "Li Na")
