"""Cases in the office's nightly purge (kiosk.office.retention): a case closed longer ago
than the site's `visitor_details_days` loses its reporter's name, unit and phone and its
photo, here and in the `case.opened` event that brought it (the event keeps its digest, so
its kiosk's chain still verifies). The case itself, its times, kind, category, place and
history stay: the reports count them. Batched and idempotent, as the rest of the purge."""

from __future__ import annotations

import json
from datetime import datetime

from peewee import Database

from kiosk.office.cases.models import Case
from kiosk.office.models import Event
from kiosk.sync.wire import EventKind

CONTACT_FIELDS = ("reporter_name", "reporter_unit", "reporter_phone", "photo_jpeg_b64")


def purge_case_contacts(
    db: Database, site_id: int, cutoff: datetime, now: datetime, batch: int = 500
) -> int:
    """Blank the contact details and photos of the site's cases closed before `cutoff`;
    how many cases changed."""
    changed = 0
    has_contact = (
        (Case.reporter_name != "") | (Case.reporter_unit != "") | (Case.reporter_phone != "")
        | (Case.photo_jpeg_b64 != "")
    )  # fmt: skip
    while True:
        with db.atomic():
            refs = [
                case.ref
                for case in Case.select(Case.ref)
                .where((Case.site == site_id) & (Case.closed_at < cutoff) & has_contact)
                .limit(batch)
            ]
            if not refs:
                return changed
            Case.update(dict.fromkeys(CONTACT_FIELDS, ""), updated_at=now).where(
                Case.ref.in_(refs)
            ).execute()
            for event in Event.select(Event.id, Event.payload).where(
                (Event.kind == EventKind.CASE_OPENED) & Event.subject_ref.in_(refs)
            ):
                payload = json.loads(event.payload)
                payload["reporter"] = {key: "" for key in payload.get("reporter") or {}}
                payload["photo_jpeg_b64"] = ""
                Event.update(payload=json.dumps(payload, ensure_ascii=False)).where(
                    Event.id == event.id
                ).execute()
            changed += len(refs)
