"""The deliveries' part of the office's nightly purge (kiosk.office.retention calls it for
each site): once a parcel has been collected or returned for longer than the site's
`visitor_details_days`, who collected it and its waybill number are blanked, in the
parcel, its history and its `delivery.collected` events' payloads (each event keeps its
payload digest, so its kiosk's hash chain still verifies). The parcel itself stays, for
the reports' counts and times. Batches of their own transaction, and only rows not yet
purged: a purge stopped half-way is finished by the next, a second run changes nothing.
"""

from __future__ import annotations

import json
from datetime import datetime

from peewee import Database

from kiosk.dbkit.rows import rows_of
from kiosk.office.deliveries.models import Parcel, ParcelHistory
from kiosk.office.deliveries.rules import ParcelState
from kiosk.office.models import Event, Site
from kiosk.sync.wire import EventKind

#: The fields of a delivery that name a person or could be traced to one.
PERSONAL_PARCEL_FIELDS = ("collected_by", "waybill")


def purge_parcels(db: Database, site: Site, cutoff: datetime, now: datetime, batch: int) -> int:
    """Blank the personal fields of the site's parcels that ended before `cutoff`; how
    many parcels were anonymised."""
    ended_before = ((Parcel.state == ParcelState.COLLECTED) & (Parcel.collected_at < cutoff)) | (
        (Parcel.state == ParcelState.RETURNED) & (Parcel.returned_at < cutoff)
    )
    done = 0
    while True:
        with db.atomic():
            found = rows_of(
                Parcel.select(Parcel.id, Parcel.ref)
                .where(
                    (Parcel.site == site.id)
                    & ended_before
                    & ((Parcel.collected_by != "") | (Parcel.waybill != ""))
                )
                .order_by(Parcel.id)
                .limit(batch)
            )
            if not found:
                return done
            ids = [parcel_id for parcel_id, _ in found]
            Parcel.update(collected_by="", waybill="", updated_at=now).where(
                Parcel.id.in_(ids)
            ).execute()
            _blank_events(_blank_history(ids), now)
            done += len(found)


def _blank_history(parcel_ids: list[int]) -> list[str]:
    """Blank the names in these parcels' history; the ids of the events it came from."""
    events = []
    for line_id, text in rows_of(
        ParcelHistory.select(ParcelHistory.id, ParcelHistory.detail).where(
            ParcelHistory.parcel.in_(parcel_ids)
        )
    ):
        detail = json.loads(text or "{}")
        if isinstance(detail.get("event"), str):
            events.append(detail["event"])
        cleaned = {k: ("" if k in ("collected_by", "first_by") else v) for k, v in detail.items()}
        if cleaned != detail:
            ParcelHistory.update(detail=json.dumps(cleaned, ensure_ascii=False)).where(
                ParcelHistory.id == line_id
            ).execute()
    return events


def _blank_events(event_ids: list[str], now: datetime) -> None:
    if not event_ids:
        return
    for event_id, text in rows_of(
        Event.select(Event.id, Event.payload).where(
            Event.event_id.in_(event_ids)
            & Event.kind.in_([EventKind.DELIVERY_COLLECTED, EventKind.DELIVERY_LOGGED])
        )
    ):
        payload = json.loads(text)
        cleaned = {k: ("" if k in PERSONAL_PARCEL_FIELDS else v) for k, v in payload.items()}
        if cleaned != payload:
            # Marked anonymised: the chain's check then trusts the digest kept at ingest.
            Event.update(payload=json.dumps(cleaned, ensure_ascii=False), anonymised_at=now).where(
                Event.id == event_id
            ).execute()
