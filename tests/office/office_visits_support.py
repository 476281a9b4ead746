"""Visits at the office as kiosks report them: a stand-in kiosk that sends visit events
through the office's real ingest (shared by the on-site, visit log, report and retention
tests)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from kiosk.office.models import Site
from kiosk.office.settings import SiteSettings, save_site_settings
from kiosk.office.store import OfficeStore


def in_shanghai(store: OfficeStore, site: Site) -> None:
    """The test site's settings: its time zone is Shanghai's, like the kiosks'."""
    with store.db.connection_context():
        save_site_settings(site, SiteSettings(timezone="Asia/Shanghai"), store.clock.now())


class FakeKiosk:
    """Enrolled at the office with made-up keys; sends events as a kiosk's sync would."""

    def __init__(self, store: OfficeStore, site: str, kiosk_id: str, name: str = "") -> None:
        self.store = store
        self.kiosk_id = kiosk_id
        code = store.enrolment_code(site)
        self.record = store.enrol(
            code,
            kiosk_id=kiosk_id,
            name=name or kiosk_id,
            auth_public_key=uuid.uuid4().hex * 2,
            badge_public_key=uuid.uuid4().hex * 2,
        )
        self.seq = 0

    def send(self, kind: str, subject: str, payload: dict[str, Any], at: datetime) -> None:
        self.seq += 1
        event = {
            "event_id": uuid.uuid4().hex,
            "seq": self.seq,
            "kind": kind,
            "subject_ref": subject,
            "occurred_at": at.isoformat(),
            "payload": payload,
        }
        with self.store.db.connection_context():
            report = self.store.ingest(self.record, [event])
        assert report.count("stored") == 1, report.results

    def visit(
        self,
        name: str,
        *,
        state: str = "checked_in",
        arrived: datetime | None,
        host: str = "",
        company: str = "",
        acknowledged: datetime | None = None,
        left: datetime | None = None,
        purpose: str = "visit_person",
        level: str = "ordinary",
        method: str = "walk_in",
        escort: bool = False,
        appointment: str = "",
        ref: str = "",
        at: datetime | None = None,
    ) -> str:
        ref = ref or uuid.uuid4().hex[:16]

        def stamp(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        payload: dict[str, Any] = {
            "visit": ref,
            "state": state,
            "kiosk": self.kiosk_id,
            "host": host or None,
            "appointment": appointment or None,
            "visitor": {"name": name, "company": company},
            "method": method,
            "purpose": purpose,
            "level": level,
            "visitor_type": "visitor",
            "escort_required": escort,
            "arrived_at": stamp(arrived),
            "host_notified_at": stamp(arrived),
            "host_acknowledged_at": stamp(acknowledged),
            "left_at": stamp(left),
        }
        moment = at or left or acknowledged or arrived
        assert moment is not None
        self.send(f"visit.{state}", ref, payload, moment)
        return ref

    def rate(self, ref: str, score: int, at: datetime, comment: str = "") -> None:
        self.send("visit.rated", ref, {"visit": ref, "satisfaction": score, "comment": comment}, at)
