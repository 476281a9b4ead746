"""After the check-in: the host's answers (acknowledged, a walk-in approved with its badge
issued, or denied) and, when the host is away, the visitor's message recorded for them
(delivered like a notification).
"""

from __future__ import annotations

from datetime import datetime

from peewee import SqliteDatabase

from kiosk.domain.clock import Clock
from kiosk.domain.errors import IllegalTransition, NotFound
from kiosk.domain.text import FREE_TEXT_MAX, check_text
from kiosk.domain.tokens import new_ref
from kiosk.domain.values import BadgeContent, CheckInMethod, Purpose, VisitState
from kiosk.services.checkin.badges import Badges
from kiosk.services.checkin.values import VisitorDetails
from kiosk.services.checkin.visits import VisitLedger, visit_by_ref
from kiosk.storage.db import storage_errors
from kiosk.storage.journal import append_audit, enqueue_event
from kiosk.storage.models import Appointment, Host, HostMessage, Visit, Visitor


class HostResponses:
    """The host's answers to a visit, and the message left when they are away."""

    def __init__(
        self,
        *,
        db: SqliteDatabase,
        clock: Clock,
        ledger: VisitLedger,
        badges: Badges,
        kiosk_id: str,
    ) -> None:
        self._db = db
        self._clock = clock
        self._ledger = ledger
        self._badges = badges
        self.kiosk_id = kiosk_id

    def acknowledge(self, visit_ref: str, *, by: str = "host", at: datetime | None = None) -> float:
        """The host answered; returns the response time in seconds (the 1-minute figure).
        `at`: when the host answered, if that was elsewhere (a link used at the office)."""
        now = self._clock.now()
        answered = min(at or now, now)
        with storage_errors(), self._db.atomic():
            visit = visit_by_ref(visit_ref)
            self._ledger.move(
                visit, VisitState.HOST_ACKNOWLEDGED, now, by, host_acknowledged_at=answered
            )
        return (answered - visit.arrived_at).total_seconds()

    def decide_approval(
        self, visit_ref: str, approved: bool, *, by: str = "host", at: datetime | None = None
    ) -> BadgeContent | None:
        """The host approves (badge issued, counts as acknowledged) or denies a walk-in.
        `at`: when the host decided, if that was elsewhere (a link used at the office)."""
        now = self._clock.now()
        answered = min(at or now, now)
        with storage_errors(), self._db.atomic():
            visit = visit_by_ref(visit_ref)
            if not visit.needs_approval or visit.state != VisitState.AWAITING_HOST:
                raise IllegalTransition(f"visit {visit_ref} is not waiting for approval")
            if not approved:
                self._ledger.move(
                    visit, VisitState.DENIED, now, by, denied_reason="host declined",
                    left_at=answered,
                )  # fmt: skip
                return None
            self._ledger.move(
                visit, VisitState.HOST_ACKNOWLEDGED, now, by, host_acknowledged_at=answered
            )
            return self._badges.issue_badge(visit, now)

    def leave_message(
        self,
        host_ref: str,
        visitor: VisitorDetails,
        *,
        contact: str,
        purpose: Purpose = Purpose.VISIT_PERSON,
        message: str = "",
        appointment_ref: str | None = None,
    ) -> str:
        """The host is away: record the visitor's contact, the time and the purpose as a
        message for the host (delivered like a notification), and the visit as such."""
        now = self._clock.now()
        visitor = visitor.validated()
        check_text(contact, "contact", max_length=200, required=True)
        check_text(message, "message", max_length=FREE_TEXT_MAX, multiline=True)
        host = Host.get_or_none(Host.ref == host_ref)
        if host is None:
            raise NotFound(f"no host {host_ref}")
        with storage_errors(), self._db.atomic():
            visit = self._visit_for_message(appointment_ref, visitor, host, purpose, now)
            record = HostMessage.create(
                ref=new_ref(),
                host=host,
                visit=visit,
                visitor_name=visitor.name,
                contact=contact,
                purpose=str(purpose),
                message=message,
                left_at=now,
            )
            enqueue_event(
                now,
                "notification.message_left",
                record.ref,
                {
                    "message": record.ref,
                    "host": host.ref,
                    "visit": visit.ref,
                    "visitor": visitor.name,
                    "company": visitor.company,
                    "contact": contact,
                    "purpose": str(purpose),
                    "text": message,
                    "left_at": now.isoformat(),
                },
            )
        return record.ref

    def _visit_for_message(
        self,
        appointment_ref: str | None,
        visitor: VisitorDetails,
        host: Host,
        purpose: Purpose,
        now: datetime,
    ) -> Visit:
        """The visit a message is left for, in the caller's transaction: the appointment's,
        marked as its host being away, else a walk-in's, checked in and out at once."""
        appointment = (
            Appointment.get_or_none(Appointment.ref == appointment_ref) if appointment_ref else None
        )
        person = Visitor.create(
            name=visitor.name,
            company=visitor.company,
            phone=visitor.phone,
            email=visitor.email,
            created_at=now,
        )
        visit = Visit.get_or_none(Visit.appointment == appointment) if appointment else None
        if visit is not None:
            # The appointment stays open: the visitor may come back while it is valid.
            visit.host_absent = True
            visit.updated_at = now
            visit.save()
            append_audit(now, "kiosk", "visit.host_absent", visit.ref, {"message": True})
        else:
            visit = Visit(ref=new_ref(), state=None, created_at=now)
            self._ledger.move(
                visit,
                VisitState.CHECKED_IN,
                now,
                "kiosk",
                visitor=person,
                host=host,
                method=CheckInMethod.WALK_IN,
                purpose=purpose,
                company=visitor.company,
                host_absent=True,
                arrived_at=now,
                kiosk_id=self.kiosk_id,
            )
            self._ledger.move(visit, VisitState.CHECKED_OUT, now, "kiosk", left_at=now)
        return visit
