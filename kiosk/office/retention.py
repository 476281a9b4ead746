"""The office's nightly purge (`kiosk office purge`, kiosk-office-nightly.timer): personal
data goes when its period is over, the counts and the kiosks' hash chains stay.

For each site, with its SiteSettings:
- past `visitor_details_days` after a visit ended, the visit's name, company and search
  keys are blanked, and so are the personal fields of its events' payloads (the visitor,
  a rating's comment) and of its row in the change feed; an event keeps its payload
  digest, so its kiosk's chain still verifies;
- appointments whose time ended that long ago lose the visitor's name, company, e-mail and
  phone (here and in the change feed);
- past `events_days`, no event keeps personal data, whatever its visit (messages left for
  absent hosts, events of visits that never ended);
- audit entries older than `audit_days` are deleted.
And for the whole office: expired sessions and request nonces too old to matter.

Event rows and visit rows are never deleted: the reports count them. Every step works in
batches of its own transaction and only touches rows not yet purged, so a purge stopped
half-way is finished by the next, and a second run changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from peewee import Database, fn

from kiosk.dbkit.rows import rows_of
from kiosk.domain.values import VisitState
from kiosk.office.cases.retention import purge_case_contacts
from kiosk.office.deliveries.retention import purge_parcels
from kiosk.office.models import (
    AuditEntry,
    ChangeLog,
    Event,
    Kiosk,
    OfficeAppointment,
    OfficeVisit,
    RequestNonce,
    Site,
    StaffSession,
)
from kiosk.office.settings import load_site_settings
from kiosk.office.store import NONCE_LIFETIME_MS
from kiosk.sync.wire import EventKind

ENDED = (VisitState.CHECKED_OUT.value, VisitState.DENIED.value, VisitState.NO_SHOW.value)
BATCH = 500
MESSAGE_KINDS = (EventKind.NOTIFICATION_MESSAGE_LEFT,)
#: Payload fields that name or describe a person, by where they sit in an event's payload.
PERSONAL_PAYLOAD_FIELDS = (
    "visitor", "company", "contact", "text", "comment", "reporter", "photo_jpeg_b64"
)  # fmt: skip
APPOINTMENT_FEED_FIELDS = ("visitor_name", "exact_key", "latin_key", "company", "email", "phone")
VISIT_FEED_FIELDS = ("visitor_name", "company")


@dataclass
class PurgeReport:
    visits_anonymised: int = 0
    events_anonymised: int = 0
    appointments_anonymised: int = 0
    feed_rows_anonymised: int = 0
    audit_entries_deleted: int = 0
    sessions_deleted: int = 0
    nonces_deleted: int = 0
    parcels_anonymised: int = 0  # kiosk.office.deliveries.retention
    cases_anonymised: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def add(self, other: PurgeReport) -> None:
        for name, value in other.as_dict().items():
            setattr(self, name, getattr(self, name) + value)


def anonymise_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload without what identifies a person; everything else (refs, states, times,
    the rating) stays."""
    cleaned = dict(payload)
    for name in PERSONAL_PAYLOAD_FIELDS:
        if name not in cleaned:
            continue
        value = cleaned[name]
        if isinstance(value, dict):
            cleaned[name] = {key: "" for key in value}
        elif value:
            cleaned[name] = ""
    return cleaned


def purge(db: Database, now: datetime, *, batch: int = BATCH) -> PurgeReport:
    """Purge every site by its own settings, then what is office-wide."""
    report = PurgeReport()
    with db.connection_context():
        sites = list(Site.select())
    for site in sites:
        report.add(purge_site(db, site, now, batch=batch))
    with db.connection_context():
        with db.atomic():
            report.sessions_deleted = (
                StaffSession.delete().where(StaffSession.expires_at < now).execute()
            )
        with db.atomic():
            report.nonces_deleted = (
                RequestNonce.delete()
                .where(RequestNonce.seen_at < now - timedelta(milliseconds=NONCE_LIFETIME_MS))
                .execute()
            )
    return report


def purge_site(db: Database, site: Site, now: datetime, *, batch: int = BATCH) -> PurgeReport:
    report = PurgeReport()
    with db.connection_context():
        settings = load_site_settings(site)
        details_cutoff = now - timedelta(days=settings.visitor_details_days)
        events_cutoff = now - timedelta(days=settings.events_days)
        _purge_visits(db, site, now, details_cutoff, batch, report)
        _purge_appointments(db, site, details_cutoff, batch, report)
        report.parcels_anonymised = purge_parcels(db, site, details_cutoff, now, batch)
        # A message left for an absent host is personal data of its own, with the visit's
        # period; past events_days no event keeps any.
        _purge_old_events(db, site, now, details_cutoff, batch, report, MESSAGE_KINDS)
        _purge_old_events(db, site, now, events_cutoff, batch, report)
        report.cases_anonymised = purge_case_contacts(db, site.id, details_cutoff, now, batch)
        with db.atomic():
            report.audit_entries_deleted = (
                AuditEntry.delete()
                .where(
                    (AuditEntry.site == site.id)
                    & (AuditEntry.at < now - timedelta(days=settings.audit_days))
                )
                .execute()
            )
            if any(report.as_dict().values()):
                AuditEntry.create(
                    site=site, at=now, actor="system", action="retention.purge",
                    detail=json.dumps(report.as_dict()),
                )  # fmt: skip
    return report


def _purge_visits(
    db: Database, site: Site, now: datetime, cutoff: datetime, batch: int, report: PurgeReport
) -> None:
    ended_at = fn.COALESCE(OfficeVisit.left_at, OfficeVisit.updated_at)
    while True:
        with db.atomic():
            found = rows_of(
                OfficeVisit.select(OfficeVisit.id, OfficeVisit.ref)
                .where(
                    (OfficeVisit.site == site.id)
                    & OfficeVisit.state.in_(ENDED)
                    & (
                        ended_at < int(cutoff.timestamp() * 1000)
                    )  # an expression: no field converts
                    & OfficeVisit.anonymised_at.is_null()
                )
                .order_by(OfficeVisit.id)
                .limit(batch)
            )
            if not found:
                return
            refs = [ref for _, ref in found]
            OfficeVisit.update(visitor_name="", company="", name_key="", anonymised_at=now).where(
                OfficeVisit.id.in_([row_id for row_id, _ in found])
            ).execute()
            report.visits_anonymised += len(found)
            events = Event.select(Event.id, Event.payload).where(
                Event.subject_ref.in_(refs) & Event.anonymised_at.is_null()
            )
            report.events_anonymised += _anonymise_events(rows_of(events), now)
            report.feed_rows_anonymised += _anonymise_feed(site, "visit", refs, VISIT_FEED_FIELDS)


def _purge_appointments(
    db: Database, site: Site, cutoff: datetime, batch: int, report: PurgeReport
) -> None:
    personal = (
        (OfficeAppointment.visitor_name != "")
        | (OfficeAppointment.company != "")
        | (OfficeAppointment.email != "")
        | (OfficeAppointment.phone != "")
        # A digest of what an imported calendar event said of the visitor, their name too.
        | (OfficeAppointment.import_digest != "")
    )
    while True:
        with db.atomic():
            found = rows_of(
                OfficeAppointment.select(OfficeAppointment.id, OfficeAppointment.ref)
                .where(
                    (OfficeAppointment.site == site.id)
                    & (OfficeAppointment.ends_at < cutoff)
                    & personal
                )
                .order_by(OfficeAppointment.id)
                .limit(batch)
            )
            if not found:
                return
            OfficeAppointment.update(
                visitor_name="", company="", email="", phone="", import_digest=""
            ).where(OfficeAppointment.id.in_([row_id for row_id, _ in found])).execute()
            report.appointments_anonymised += len(found)
            report.feed_rows_anonymised += _anonymise_feed(
                site, "appointment", [ref for _, ref in found], APPOINTMENT_FEED_FIELDS
            )


def _purge_old_events(
    db: Database,
    site: Site,
    now: datetime,
    cutoff: datetime,
    batch: int,
    report: PurgeReport,
    kinds: tuple[str, ...] = (),
) -> None:
    """The personal fields of events older than `cutoff` (of these kinds) go."""
    kiosks = Kiosk.select(Kiosk.id).where(Kiosk.site == site.id)
    wanted = Event.kind.in_(kinds) if kinds else Event.kind.is_null(False)
    last_id = 0
    while True:
        with db.atomic():
            found = rows_of(
                Event.select(Event.id, Event.payload)
                .where(
                    Event.kiosk.in_(kiosks)
                    & wanted
                    & (Event.occurred_at < cutoff)
                    & Event.anonymised_at.is_null()
                    & (Event.id > last_id)
                )
                .order_by(Event.id)
                .limit(batch)
            )
            if not found:
                return
            last_id = found[-1][0]
            report.events_anonymised += _anonymise_events(found, now)


def _anonymise_events(rows: list[tuple[Any, ...]], now: datetime) -> int:
    """Blank the personal fields of these events' payloads; the digest column keeps the
    hash of the original payload, which the chain covers. Returns how many changed."""
    changed = 0
    for event_id, text in rows:
        payload = json.loads(text)
        cleaned = anonymise_payload(payload) if isinstance(payload, dict) else payload
        update: dict[Any, Any] = {Event.anonymised_at: now}
        if cleaned != payload:
            update[Event.payload] = json.dumps(cleaned, ensure_ascii=False)
            changed += 1
        Event.update(update).where(Event.id == event_id).execute()
    return changed


def _anonymise_feed(site: Site, entity: str, refs: list[str], fields: tuple[str, ...]) -> int:
    """Blank personal fields in the change feed's rows of these entities, in place: kiosks
    purge their own copies on their own schedule, so nothing new needs sending."""
    rows = rows_of(
        ChangeLog.select(ChangeLog.id, ChangeLog.data).where(
            (ChangeLog.site == site.id) & (ChangeLog.entity == entity) & ChangeLog.ref.in_(refs)
        )
    )
    changed = 0
    for row_id, text in rows:
        data = json.loads(text)
        cleaned = {**data, **{name: "" for name in fields if data.get(name)}}
        if cleaned != data:
            ChangeLog.update(data=json.dumps(cleaned, ensure_ascii=False)).where(
                ChangeLog.id == row_id
            ).execute()
            changed += 1
    return changed
