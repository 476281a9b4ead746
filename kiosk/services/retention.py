"""The scheduled purge: personal data goes when its period is over, the counts stay.

What is removed or blanked, each after its own period from `[retention]`:
- visitor details (name, company, phone, e-mail, document hash) of visits that ended;
  the visit row keeps its purpose, level, times and rating, so reports still add up;
- visit photos;
- agreement signature pictures and signer names (the version and document hash stay, as
  the record that an agreement was signed);
- messages left for absent hosts;
- outbox events already delivered to the office;
- the notifier's finished deliveries and their triggers (kiosk.notify.retention).
Events not yet delivered are never purged: losing them would lose a visit.
The audit chain holds no personal data and is kept whole.

Each query finds its rows through an index of what it may still change (migration 9,
kiosk.storage.purge_indexes), so a night's purge costs a day's rows, not the kiosk's age.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from peewee import SQL, Expression, SqliteDatabase

from kiosk.config import RetentionConfig
from kiosk.domain.clock import Clock
from kiosk.domain.values import VisitState
from kiosk.notify.retention import purge_notifications
from kiosk.services.cases.desk import purge_case_contacts
from kiosk.services.deliveries.feed import purge_parcels
from kiosk.storage.db import storage_errors
from kiosk.storage.journal import append_audit
from kiosk.storage.models import (
    AgreementSignature,
    Appointment,
    HostMessage,
    OutboxEvent,
    UsedInvitation,
    Visit,
    Visitor,
    VisitPhoto,
)
from kiosk.storage.purge_indexes import (
    APPOINTMENT_NAMED,
    SIGNATURE_NOT_BLANKED,
    VISIT_HAS_TYPED_TEXT,
)

_ENDED = (VisitState.CHECKED_OUT.value, VisitState.DENIED.value, VisitState.NO_SHOW.value)
#: Replay records outlive any invitation's validity window by far.
USED_INVITATION_DAYS = 30


@dataclass
class PurgeReport:
    visitors_anonymised: int = 0
    appointments_anonymised: int = 0
    photos_deleted: int = 0
    signatures_blanked: int = 0
    messages_deleted: int = 0
    events_deleted: int = 0
    replay_records_deleted: int = 0
    case_contacts_purged: int = 0
    parcels_anonymised: int = 0
    notifications_deleted: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def purge(
    db: SqliteDatabase, retention: RetentionConfig, clock: Clock, *, case_contact_days: int = 365
) -> PurgeReport:
    now = clock.now()
    details_cutoff = now - timedelta(days=retention.visitor_details_days)
    report = PurgeReport()
    with storage_errors(), db.atomic():
        ended = Visit.state.in_(_ENDED) & (Visit.updated_at < details_cutoff)
        # From the visitors not anonymised yet (an index of them) to their visits.
        people = (
            Visitor.select(Visitor.id)
            .join(Visit, on=(Visit.visitor == Visitor.id))
            .where(Visitor.anonymised_at.is_null() & ended)
        )
        report.visitors_anonymised = (
            Visitor.update(
                name="",
                company="",
                phone="",
                email="",
                document_hash=None,
                document_last4="",
                anonymised_at=now,
            )
            .where(Visitor.id.in_(people))
            .execute()
        )
        _blank_visits(ended)
        report.appointments_anonymised = (
            Appointment.update(
                visitor_name="",
                exact_key="",
                latin_key="",
                company="",
                email="",
                phone="",
                document_hash=None,
            )
            .where((Appointment.ends_at < details_cutoff) & SQL(APPOINTMENT_NAMED))
            .execute()
        )
        report.photos_deleted = (
            VisitPhoto.delete()
            .where(VisitPhoto.taken_at < now - timedelta(days=retention.photos_days))
            .execute()
        )
        report.signatures_blanked = (
            AgreementSignature.update(signature_png=None, signer_name="")
            .where(
                (AgreementSignature.signed_at < now - timedelta(days=retention.signatures_days))
                & SQL(SIGNATURE_NOT_BLANKED)
            )
            .execute()
        )
        report.messages_deleted = (
            HostMessage.delete()
            .where(HostMessage.left_at < now - timedelta(days=retention.messages_days))
            .execute()
        )
        report.events_deleted = (
            OutboxEvent.delete()
            .where(
                OutboxEvent.sent_at.is_null(False)
                & (OutboxEvent.sent_at < now - timedelta(days=retention.sent_events_days))
            )
            .execute()
        )
        report.replay_records_deleted = (
            UsedInvitation.delete()
            .where(UsedInvitation.used_at < now - timedelta(days=USED_INVITATION_DAYS))
            .execute()
        )
        report.case_contacts_purged = purge_case_contacts(now, case_contact_days)
        report.parcels_anonymised = purge_parcels(now, retention.parcels_days)
        report.notifications_deleted = purge_notifications(now, retention.sent_events_days)
        append_audit(now, "system", "retention.purge", "", report.as_dict())
    return report


def _blank_visits(ended: Expression) -> None:
    """The typed text of the ended visits, blanked; only visits not blanked yet, since
    rewriting every ended visit each night cost a year's kiosk a full rewrite of its
    visits, nightly (make growth); found through the index of visits with typed text."""
    Visit.update(company="", companion_names="", items_declared="", feedback="").where(
        ended & SQL(VISIT_HAS_TYPED_TEXT)
    ).execute()
