"""Arrival: the front desk's check-in. Three ways in, one transaction:
- `check_in_with_invitation(token)`: a signed QR invitation, verified offline and used up
  in the same transaction as the visit, so it can never admit two people;
- `check_in_appointment(...)`: an appointment found by `Lookup.match_identity`;
- `check_in_walk_in(...)`: no appointment; the host chosen with `Lookup.search_hosts`.

The transaction refuses what the site's rules refuse (after hours, the watchlist, an
expired document, a missing photo or signed agreement), says when the host is absent
(nothing recorded), opens the visit, queues the host's notification and issues the badge,
unless the host must approve a walk-in first.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from peewee import IntegrityError, SqliteDatabase

from kiosk.config import KioskConfig
from kiosk.domain import names
from kiosk.domain.clock import Clock
from kiosk.domain.errors import CheckInRefused, NotFound, RefusalReason, RejectReason, TokenRejected
from kiosk.domain.tokens import Token, TokenKind, TokenVerifier, new_ref
from kiosk.domain.values import CheckInMethod, HostAvailability, Purpose, VisitorLevel, VisitState
from kiosk.services.checkin.alerts import alerted_lately
from kiosk.services.checkin.badges import Badges
from kiosk.services.checkin.rules import VisitRules, recipient_for
from kiosk.services.checkin.values import (
    NOTHING_COLLECTED,
    CheckInResult,
    Collected,
    InvitationPreview,
    Outcome,
    Requirements,
    VisitorDetails,
    WalkIn,
)
from kiosk.services.checkin.visits import VisitLedger
from kiosk.services.recipients import audience_urls, host_urls
from kiosk.services.schedule import SiteCalendar
from kiosk.storage.db import storage_errors
from kiosk.storage.journal import enqueue_event
from kiosk.storage.models import (
    AgreementSignature,
    Appointment,
    Host,
    RevokedToken,
    UsedInvitation,
    Visit,
    Visitor,
    VisitPhoto,
    WatchlistEntry,
)
from kiosk.sync.wire import EventKind

#: What the visitor is told on a watchlist hit: nothing that reveals the list.
NEUTRAL_REFUSAL = "please see reception"


@dataclass
class _Context:
    """Everything decided before the check-in transaction starts."""

    visitor: VisitorDetails
    host: Host | None
    purpose: str
    level: str
    visitor_type: str
    method: CheckInMethod
    appointment: Appointment | None = None
    invitation: Token | None = None
    sales_class: str = ""
    extra_audit: dict[str, str] = field(default_factory=dict)


class Arrival:
    """The three ways in (an invitation, an appointment, a walk-in) and the one check-in
    transaction they share."""

    def __init__(
        self,
        *,
        db: SqliteDatabase,
        config: KioskConfig,
        clock: Clock,
        calendar: SiteCalendar,
        rules: VisitRules,
        ledger: VisitLedger,
        badges: Badges,
        invitation_verifier: TokenVerifier,
        kiosk_id: str,
    ) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        self._calendar = calendar
        self._rules = rules
        self._ledger = ledger
        self._badges = badges
        self._invitations = invitation_verifier
        self.kiosk_id = kiosk_id

    def _verify_invitation(self, text: str) -> tuple[Token, Appointment | None]:
        token = self._invitations.verify(text, TokenKind.INVITATION)
        if RevokedToken.get_or_none(RevokedToken.token_id == token.token_id):
            raise TokenRejected(RejectReason.REVOKED, "cancelled")
        used = UsedInvitation.get_or_none(UsedInvitation.token_id == token.token_id)
        if used is not None:
            self._alert_invitation_used_twice(token.token_id, used)
            raise TokenRejected(RejectReason.REPLAYED, "already used")
        appointment = Appointment.get_or_none(Appointment.ref == token.subject_ref)
        if appointment is not None and appointment.cancelled_at is not None:
            raise TokenRejected(RejectReason.REVOKED, "appointment cancelled")
        return token, appointment

    def _alert_invitation_used_twice(self, token_id: str, used: UsedInvitation) -> None:
        """Someone shows an invitation that already admitted a visitor: the guard's screen
        and the security channel are told, once per invitation within BADGE_ALERT_QUIET
        (a visitor trying it three times raises one alert)."""
        now = self._clock.now()
        with storage_errors(), self._db.atomic():
            if alerted_lately(now, "invitation", token_id):
                return
            visit_ref = used.visit.ref if used.visit else ""
            payload = {
                "reason": "invitation_used_twice",
                "invitation": token_id,
                "visit": visit_ref,
                "kiosk": self.kiosk_id,
            }
            enqueue_event(now, EventKind.SECURITY_ALERT, visit_ref, payload)

    def preview_invitation(self, text: str) -> InvitationPreview:
        """Verify an invitation without using it up: what the kiosk shows before signing."""
        token, appointment = self._verify_invitation(text)
        host = appointment.host if appointment else Host.get_or_none(Host.ref == token.host_ref)
        visitor_type = appointment.visitor_type if appointment else "visitor"
        return InvitationPreview(
            token=token,
            visitor_name=appointment.visitor_name if appointment else (token.visitor_name or ""),
            host_name=host.name if host else "",
            host_available=recipient_for(host)[1] != "absent",
            requirements=self._rules.requirements(visitor_type),
        )

    def check_in_with_invitation(
        self,
        text: str,
        collected: Collected = NOTHING_COLLECTED,
        *,
        visitor: VisitorDetails | None = None,
        if_host_absent: Literal["ask", "proceed"] = "ask",
    ) -> CheckInResult:
        """Check in with a signed invitation. The invitation is used up in the same
        transaction as the visit, so it can never admit two people."""
        token, appointment = self._verify_invitation(text)
        if appointment is not None:
            host = appointment.host
            details = visitor or VisitorDetails(
                name=appointment.visitor_name,
                company=appointment.company,
                phone=appointment.phone,
                email=appointment.email,
            )
            context = _Context(
                visitor=details,
                host=host,
                purpose=appointment.purpose,
                level=appointment.level,
                visitor_type=appointment.visitor_type,
                method=CheckInMethod.INVITATION,
                appointment=appointment,
                invitation=token,
            )
        else:
            # Signed at the office and not synced here yet: the token carries enough.
            token_host = Host.get_or_none(Host.ref == token.host_ref)
            context = _Context(
                visitor=visitor or VisitorDetails(name=token.visitor_name or "?"),
                host=token_host,
                purpose=Purpose.VISIT_PERSON,
                level=VisitorLevel.ORDINARY,
                visitor_type="visitor",
                method=CheckInMethod.INVITATION,
                invitation=token,
                extra_audit={"appointment": "not yet synced"},
            )
        return self._check_in(context, collected, if_host_absent)

    def check_in_appointment(
        self,
        appointment_ref: str,
        visitor: VisitorDetails,
        collected: Collected = NOTHING_COLLECTED,
        *,
        if_host_absent: Literal["ask", "proceed"] = "ask",
    ) -> CheckInResult:
        """Check in against an appointment found by `match_identity`."""
        appointment = Appointment.get_or_none(Appointment.ref == appointment_ref)
        if appointment is None:
            raise NotFound(f"no appointment {appointment_ref}")
        if appointment.cancelled_at is not None:
            raise CheckInRefused(RefusalReason.APPOINTMENT_CANCELLED)
        context = _Context(
            visitor=visitor,
            host=appointment.host,
            purpose=appointment.purpose,
            level=appointment.level,
            visitor_type=appointment.visitor_type,
            method=CheckInMethod.IDENTITY,
            appointment=appointment,
        )
        return self._check_in(context, collected, if_host_absent)

    def check_in_walk_in(
        self,
        walk_in: WalkIn,
        collected: Collected = NOTHING_COLLECTED,
        *,
        if_host_absent: Literal["ask", "proceed"] = "ask",
    ) -> CheckInResult:
        now = self._clock.now()
        if not self._calendar.is_open(now) and self._config.site.after_hours != "open":
            raise CheckInRefused(RefusalReason.AFTER_HOURS, "walk-ins only during opening hours")
        host = Host.get_or_none((Host.ref == walk_in.host_ref) & Host.active)
        if host is None:
            raise CheckInRefused(RefusalReason.HOST_UNKNOWN, walk_in.host_ref)
        context = _Context(
            visitor=walk_in.visitor,
            host=host,
            purpose=Purpose(walk_in.purpose),
            level=VisitorLevel(walk_in.level),
            visitor_type=walk_in.visitor_type,
            method=CheckInMethod.WALK_IN,
            sales_class=walk_in.sales_class or "",
        )
        return self._check_in(context, collected, if_host_absent)

    def _watchlist_hit(self, visitor: VisitorDetails) -> WatchlistEntry | None:
        condition = WatchlistEntry.exact_key == names.exact_key(visitor.name)
        latin = names.latin_key(visitor.name)
        if latin:
            condition |= WatchlistEntry.latin_key == latin
        if visitor.document_hash:
            condition |= WatchlistEntry.document_hash == visitor.document_hash
        return WatchlistEntry.select().where(WatchlistEntry.active & condition).first()

    def _check_in(
        self, context: _Context, collected: Collected, if_host_absent: Literal["ask", "proceed"]
    ) -> CheckInResult:
        now = self._clock.now()
        visitor = context.visitor.validated()
        collected = collected.validated()
        rules = self._rules.requirements(context.visitor_type)
        visitor_type = self._rules.visitor_type(context.visitor_type)
        is_open = self._calendar.is_open(now)
        if not is_open and self._config.site.after_hours == "closed":
            raise CheckInRefused(RefusalReason.AFTER_HOURS, "reception is closed")
        if context.appointment is not None:
            existing = Visit.get_or_none(Visit.appointment == context.appointment)
            if existing is not None and existing.state != VisitState.EXPECTED:
                raise CheckInRefused(RefusalReason.ALREADY_CHECKED_IN, f"visit is {existing.state}")

        hit = self._watchlist_hit(visitor)
        if hit is not None:
            self._deny_for_watchlist(context, visitor, hit, now)
            raise CheckInRefused(RefusalReason.WATCHLIST, NEUTRAL_REFUSAL)
        if visitor.document_expired and visitor_type.reject_expired_documents:
            raise CheckInRefused(
                RefusalReason.DOCUMENT_EXPIRED, "the identity document has expired"
            )
        if rules.photo and not collected.photo_jpeg:
            raise CheckInRefused(RefusalReason.REQUIREMENT_MISSING, "a photo is required")
        if rules.agreement and not (collected.agreement_accepted and collected.signature_png):
            raise CheckInRefused(
                RefusalReason.REQUIREMENT_MISSING,
                f"the signed {rules.agreement_id} agreement is required",
            )

        recipient, party = recipient_for(context.host)
        if party == "absent" and if_host_absent == "ask":
            return CheckInResult(
                outcome=Outcome.HOST_ABSENT,
                visit_ref=None,
                host_name=context.host.name if context.host else "",
                requirements=rules,
            )
        if party == "absent":
            party = "reception"
        needs_approval = context.method is CheckInMethod.WALK_IN and bool(
            visitor_type.walk_in_needs_approval
            or (context.host and (context.host.walk_in_needs_approval or context.host.is_senior))
        )
        if needs_approval and context.host is not None and context.host.is_senior:
            # Senior managers: their assistant (the delegate) is told, as the procedures say.
            delegate = context.host.delegate
            if delegate is not None and delegate.availability == HostAvailability.IN:
                recipient, party = delegate, "delegate"

        with storage_errors(), self._db.atomic():
            visit = self._open_visit(
                context, visitor, rules, collected, now, is_open, needs_approval
            )
            if context.invitation is not None:
                try:
                    UsedInvitation.create(
                        token_id=context.invitation.token_id,
                        used_at=now,
                        visit=visit,
                        kiosk_id=self.kiosk_id,
                    )
                except IntegrityError as err:  # a concurrent check-in used it first
                    raise TokenRejected(RejectReason.REPLAYED, "already used") from err
            self._notify(visit, recipient, party, now, approval=needs_approval)
            badge = None if needs_approval else self._badges.issue_badge(visit, now)
        return CheckInResult(
            outcome=Outcome.AWAITING_APPROVAL if needs_approval else Outcome.CHECKED_IN,
            visit_ref=visit.ref,
            host_name=context.host.name if context.host else "",
            notified=party,
            badge=badge,
            requirements=rules,
        )

    def _open_visit(
        self,
        context: _Context,
        visitor: VisitorDetails,
        rules: Requirements,
        collected: Collected,
        now: datetime,
        is_open: bool,
        needs_approval: bool,
    ) -> Visit:
        person = _new_visitor(visitor, now, email=visitor.email)
        visit = _appointment_visit(context)
        fields = dict(
            visitor=person,
            host=context.host,
            method=context.method,
            purpose=context.purpose,
            sales_class=context.sales_class,
            level=context.level,
            visitor_type=context.visitor_type,
            company=visitor.company,
            companions=collected.companions,
            companion_names=collected.companion_names,
            items_declared=collected.items_declared,
            escort_required=rules.escort,
            needs_approval=needs_approval,
            after_hours=not is_open,
            arrived_at=now,
            kiosk_id=self.kiosk_id,
        )
        if visit is None:
            visit = Visit(
                ref=new_ref(), state=None, created_at=now, appointment=context.appointment
            )
        invitation = {"invitation": context.invitation.token_id} if context.invitation else None
        self._ledger.move(
            visit, VisitState.CHECKED_IN, now, "kiosk", context.extra_audit, invitation, **fields
        )
        if collected.photo_jpeg:
            VisitPhoto.create(visit=visit, jpeg=collected.photo_jpeg, taken_at=now)
        if rules.agreement is not None and rules.agreement_id is not None:
            language = collected.agreement_language
            text = rules.agreement.text.get(language) or next(iter(rules.agreement.text.values()))  # type: ignore[call-overload]
            AgreementSignature.create(
                visit=visit,
                agreement=rules.agreement_id,
                version=rules.agreement.version,
                document_sha256=_sha256(text),
                language=language,
                signer_name=visitor.name,
                signature_png=collected.signature_png,
                signed_at=now,
            )
        return visit

    def _notify(
        self, visit: Visit, recipient: Host | None, party: str, now: datetime, *, approval: bool
    ) -> None:
        """Queue the host notification (store and forward) and mark the visit as waiting."""
        enqueue_event(
            now,
            (
                EventKind.NOTIFICATION_APPROVAL_REQUEST
                if approval
                else EventKind.NOTIFICATION_VISITOR_ARRIVED
            ),
            visit.ref,
            {
                "visit": visit.ref,
                "recipient": recipient.ref if recipient else None,
                "party": party,
                "host": visit.host.ref if visit.host else None,
                "level": visit.level,
                "kiosk": self.kiosk_id,
            },
        )
        if visit.level == VisitorLevel.VIP:
            enqueue_event(now, EventKind.NOTIFICATION_VIP_ARRIVED, visit.ref, {"visit": visit.ref})
        if not host_urls(recipient) and not audience_urls(self._config, "reception"):
            # Neither the host nor reception has a channel: the guard's screen is told, so
            # that someone really knows a visitor is waiting (and the visitor is told so).
            enqueue_event(
                now,
                EventKind.SECURITY_ALERT,
                visit.ref,
                {"visit": visit.ref, "reason": "nobody_to_notify", "kiosk": self.kiosk_id},
            )
        self._ledger.move(
            visit,
            VisitState.AWAITING_HOST,
            now,
            "kiosk",
            host_notified_at=now,
            notified_party=party,
        )

    def _deny_for_watchlist(
        self, context: _Context, visitor: VisitorDetails, hit: WatchlistEntry, now: datetime
    ) -> None:
        with storage_errors(), self._db.atomic():
            # A refused visitor's e-mail is not kept: the least that records the refusal.
            person = _new_visitor(visitor, now, email="")
            visit = _appointment_visit(context)
            if visit is None:
                visit = Visit(
                    ref=new_ref(), state=None, created_at=now, appointment=context.appointment
                )
            self._ledger.move(
                visit,
                VisitState.DENIED,
                now,
                "kiosk",
                visitor=person,
                host=context.host,
                method=context.method,
                purpose=context.purpose,
                level=context.level,
                visitor_type=context.visitor_type,
                company=visitor.company,
                arrived_at=now,
                denied_reason="watchlist",
                kiosk_id=self.kiosk_id,
            )
            enqueue_event(
                now,
                EventKind.SECURITY_ALERT,
                visit.ref,
                {
                    "visit": visit.ref,
                    "reason": "watchlist",
                    "watchlist_entry": hit.ref,
                    "kiosk": self.kiosk_id,
                },
            )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _new_visitor(visitor: VisitorDetails, now: datetime, *, email: str) -> Visitor:
    """The visitor's row: what they gave, the document only as its keyed hash and last four."""
    return Visitor.create(
        name=visitor.name,
        company=visitor.company,
        phone=visitor.phone,
        email=email,
        document_hash=visitor.document_hash,
        document_last4=visitor.document_last4,
        created_at=now,
    )


def _appointment_visit(context: _Context) -> Visit | None:
    """The expected visit of the appointment being checked in, if any."""
    if context.appointment is None:
        return None
    return Visit.get_or_none(Visit.appointment == context.appointment)
