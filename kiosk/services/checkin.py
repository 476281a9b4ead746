"""The check-in engine: the front-desk procedures as code.

A receptionist greets, asks for the appointment, verifies identity, checks the watchlist,
has the visitor sign what the visit needs, hands over a badge and calls the host; when the
host is out, takes a message. `CheckInEngine` does the same, and every change of a visit's
state writes, in the same transaction, an outbox event for the office and an audit entry.

Three ways in:
- `check_in_with_invitation(token)`: a signed QR invitation, verified offline;
- `match_identity(name, document_hash)` then `check_in_appointment(...)`: an identity
  document or a typed name, matched against today's appointments;
- `check_in_walk_in(...)`: no appointment; the host is chosen with `search_hosts`.

A visit is checked out once and rated once: a second check-out (a badge scanned again)
raises AlreadyCheckedOut, carrying when the first was, and a second rating AlreadyRated;
neither records anything (kiosk.domain.errors).

Nothing here imports a UI or a device: the kiosk screens, the CLI and the tests all drive
the same engine.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, cast

from peewee import JOIN, IntegrityError, SqliteDatabase, fn
from rapidfuzz import fuzz, process

from kiosk.config import AgreementConfig, KioskConfig, VisitorTypeConfig
from kiosk.domain import names
from kiosk.domain.clock import Clock
from kiosk.domain.errors import (
    AlreadyCheckedOut,
    AlreadyRated,
    CheckInRefused,
    IllegalTransition,
    InvalidInput,
    NotFound,
    RefusalReason,
    RejectReason,
    TokenRejected,
)
from kiosk.domain.text import (
    COMPANY_MAX,
    FREE_TEXT_MAX,
    check_email,
    check_name,
    check_optional,
    check_phone,
    check_text,
    stored_text,
)
from kiosk.domain.tokens import Token, TokenKind, TokenSigner, TokenVerifier, new_ref
from kiosk.domain.values import (
    ON_SITE_STATES,
    BadgeContent,
    CheckInMethod,
    HostAvailability,
    OnSiteEntry,
    Purpose,
    SalesClass,
    TodaySummary,
    VisitorLevel,
    VisitState,
    can_transition,
)
from kiosk.services.recipients import audience_urls, host_urls
from kiosk.services.schedule import SiteCalendar
from kiosk.storage.db import storage_errors
from kiosk.storage.journal import append_audit, enqueue_event
from kiosk.storage.models import (
    AgreementSignature,
    Appointment,
    Badge,
    Host,
    HostMessage,
    OutboxEvent,
    RevokedToken,
    UsedInvitation,
    Visit,
    Visitor,
    VisitPhoto,
    WatchlistEntry,
)

JPEG_SIGNATURE = b"\xff\xd8\xff"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: What the visitor is told on a watchlist hit: nothing that reveals the list.
NEUTRAL_REFUSAL = "please see reception"
#: A badge refused at the door again within this time raises no second security alert.
BADGE_ALERT_QUIET = timedelta(minutes=10)


@dataclass(frozen=True)
class VisitorDetails:
    """Who the visitor says they are. Checked by `validated()` before anything is stored."""

    name: str
    company: str = ""
    phone: str = ""
    email: str = ""
    document_hash: str | None = None
    document_last4: str = ""
    document_expired: bool = False

    def validated(self) -> VisitorDetails:
        """These details checked, with the name as people read it (`names.display_name`:
        "carol white" is stored, printed and shown as "Carol White")."""
        check_name(self.name)
        check_optional(self.company, "company", COMPANY_MAX)
        check_phone(self.phone)
        check_email(self.email)
        check_optional(self.document_last4, "document_last4", 4)
        if self.document_hash is not None and len(self.document_hash) != 64:
            raise InvalidInput("document_hash", "is not a salted document hash")
        return replace(self, name=names.display_name(self.name))


@dataclass(frozen=True)
class Collected:
    """What the kiosk collected during the flow: photo, signed agreement, declarations."""

    photo_jpeg: bytes | None = None
    agreement_accepted: bool = False
    signature_png: bytes | None = None
    agreement_language: str = "en"
    companions: int = 0
    companion_names: str = ""
    items_declared: str = ""

    def validated(self) -> Collected:
        if self.photo_jpeg is not None and not self.photo_jpeg.startswith(JPEG_SIGNATURE):
            raise InvalidInput("photo", "is not a JPEG picture")
        if self.signature_png is not None and not self.signature_png.startswith(PNG_SIGNATURE):
            raise InvalidInput("signature", "is not a PNG picture")
        if not 0 <= self.companions <= 50:
            raise InvalidInput("companions", "must be between 0 and 50")
        check_text(
            self.companion_names, "companion_names", max_length=FREE_TEXT_MAX, multiline=True
        )
        check_text(self.items_declared, "items_declared", max_length=FREE_TEXT_MAX, multiline=True)
        return self


@dataclass(frozen=True)
class WalkIn:
    visitor: VisitorDetails
    host_ref: str
    purpose: Purpose = Purpose.VISIT_PERSON
    visitor_type: str = "visitor"
    level: VisitorLevel = VisitorLevel.ORDINARY
    sales_class: SalesClass | None = None


@dataclass(frozen=True)
class Requirements:
    """What a visit needs before its badge is printed, from its visitor type."""

    visitor_type: str
    photo: bool
    agreement_id: str | None
    agreement: AgreementConfig | None
    escort: bool


class Outcome(StrEnum):
    CHECKED_IN = "checked_in"  # badge issued, host (or delegate, or reception) notified
    AWAITING_APPROVAL = "awaiting_approval"  # a walk-in the host must approve first
    HOST_ABSENT = "host_absent"  # nothing recorded: offer to leave a message


@dataclass(frozen=True)
class CheckInResult:
    outcome: Outcome
    visit_ref: str | None
    host_name: str
    notified: str = ""  # host | delegate | reception
    badge: BadgeContent | None = None
    requirements: Requirements | None = None


@dataclass(frozen=True)
class AppointmentMatch:
    appointment_ref: str
    visitor_name: str
    host_name: str
    starts_at: datetime
    how: Literal["document", "exact", "latin", "fuzzy"]
    score: float


@dataclass(frozen=True)
class HostSummary:
    ref: str
    name: str
    department: str
    availability: HostAvailability
    #: Nobody would be told of a visitor now: neither the host nor their delegate is in.
    absent: bool = False


@dataclass(frozen=True)
class InvitationPreview:
    token: Token
    visitor_name: str
    host_name: str
    host_available: bool
    requirements: Requirements


@dataclass(frozen=True)
class BadgeCheck:
    """What a guard sees for a valid badge."""

    visit_ref: str
    visitor_name: str
    company: str
    host_name: str
    arrived_at: datetime | None
    expires_at: datetime
    state: VisitState
    escort_required: bool
    photo_jpeg: bytes | None = None


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


class CheckInEngine:
    def __init__(
        self,
        *,
        db: SqliteDatabase,
        config: KioskConfig,
        clock: Clock,
        invitation_verifier: TokenVerifier,
        badge_verifier: TokenVerifier,
        badge_signer: TokenSigner,
        kiosk_id: str,
    ) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        self._invitations = invitation_verifier
        self._badges = badge_verifier
        self._badge_signer = badge_signer
        self.kiosk_id = kiosk_id
        self.calendar = SiteCalendar(config.site)

    # ----------------------------------------------------------------- rules and lookups

    def requirements(self, visitor_type: str) -> Requirements:
        kind = self._visitor_type(visitor_type)
        agreement = self._config.agreements.get(kind.agreement) if kind.agreement else None
        return Requirements(
            visitor_type=visitor_type,
            photo=kind.photo_required,
            agreement_id=kind.agreement,
            agreement=agreement,
            escort=kind.escort_required,
        )

    def _visitor_type(self, name: str) -> VisitorTypeConfig:
        try:
            return self._config.visitor_types[name]
        except KeyError as err:
            known = ", ".join(sorted(self._config.visitor_types))
            raise InvalidInput("visitor_type", f"{name!r} is not one of {known}") from err

    def is_open(self) -> bool:
        return self.calendar.is_open(self._clock.now())

    def search_hosts(self, query: str, limit: int = 8) -> list[HostSummary]:
        """Hosts by name, pinyin, initials or department; best first."""
        needle = names.exact_key(query)
        if not needle:
            return []
        compact = needle.replace(" ", "")
        candidates = (
            Host.select()
            .where(
                Host.active & (Host.search_key.contains(needle) | Host.search_key.contains(compact))
            )
            .order_by(Host.name)
            .limit(200)
        )

        def rank(host: Host) -> tuple[int, str]:
            keys = host.search_key.split("|")
            if needle in keys or compact in keys:
                return (0, host.name)
            if any(key.startswith(needle) or key.startswith(compact) for key in keys):
                return (1, host.name)
            return (2, host.name)

        ranked = sorted(candidates, key=rank)[:limit]
        return [
            HostSummary(
                h.ref,
                h.name,
                h.department,
                HostAvailability(h.availability),
                absent=self._recipient(h)[1] == "absent",
            )
            for h in ranked
        ]

    def match_identity(self, name: str, document_hash: str | None = None) -> list[AppointmentMatch]:
        """Today's expected appointments for this person: by document, exact name, pinyin or
        Latin spelling, then fuzzily. Returns the best tier only, so one result is a match and
        several mean the visitor must choose (by host).

        Each tier is one indexed lookup (key, then day); only the fuzzy tier reads the whole
        day, and only its Latin keys, which rapidfuzz scores in C."""
        check_name(name)
        start, end = self.calendar.day_bounds(self._clock.now())
        today = (
            (Appointment.starts_at >= start)
            & (Appointment.starts_at < end)
            & Appointment.cancelled_at.is_null()
        )
        tiers: list[tuple[str, Any]] = []
        if document_hash:
            tiers.append(("document", Appointment.document_hash == document_hash))
        tiers.append(("exact", Appointment.exact_key == names.exact_key(name)))
        latin = names.latin_key(name)
        if latin:
            tiers.append(("latin", Appointment.latin_key == latin))
        for how, condition in tiers:
            found = self._still_expected(Appointment.select().where(condition & today))
            if found:
                return [self._match(a, how, 100.0) for a in found]
        # The raw cursor: peewee's row objects would cost more than the scoring itself.
        day = cast(
            "list[tuple[int, str]]",
            self._db.execute(
                Appointment.select(Appointment.id, Appointment.latin_key).where(today)
            ).fetchall(),
        )
        scored = process.extract(
            latin,
            [key for _id, key in day],
            scorer=fuzz.token_sort_ratio,
            score_cutoff=self._config.matching.fuzzy_threshold,
            limit=10,
        )
        scores = {day[index][0]: score for _key, score, index in scored}
        candidates = Appointment.select().where(Appointment.id.in_(list(scores)))
        found = sorted(self._still_expected(candidates), key=lambda a: -scores[a.id])
        return [self._match(a, "fuzzy", scores[a.id]) for a in found[:5]]

    @staticmethod
    def _still_expected(query: Any) -> list[Appointment]:
        """The appointments of `query` whose visit nobody has checked in to yet."""
        appointments = list(query)
        if not appointments:
            return []
        # The state is compared here, not in SQL: with it there, SQLite would walk the
        # state index (every future appointment is "expected") instead of the unique
        # appointment index.
        states = Visit.select(Visit.appointment, Visit.state).where(
            Visit.appointment.in_([a.id for a in appointments])
        )
        rows = cast("list[tuple[int, str]]", list(states.tuples()))
        expected = {appointment for appointment, state in rows if state == VisitState.EXPECTED}
        return [a for a in appointments if a.id in expected]

    @staticmethod
    def _match(appointment: Appointment, how: str, score: float) -> AppointmentMatch:
        return AppointmentMatch(
            appointment_ref=appointment.ref,
            visitor_name=appointment.visitor_name,
            host_name=appointment.host.name,
            starts_at=appointment.starts_at,
            how=how,  # type: ignore[arg-type]
            score=score,
        )

    # ----------------------------------------------------------------- invitations

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
            if _alerted_lately(now, "invitation", token_id):
                return
            visit_ref = used.visit.ref if used.visit else ""
            payload = {
                "reason": "invitation_used_twice",
                "invitation": token_id,
                "visit": visit_ref,
                "kiosk": self.kiosk_id,
            }
            enqueue_event(now, "security.alert", visit_ref, payload)

    def preview_invitation(self, text: str) -> InvitationPreview:
        """Verify an invitation without using it up: what the kiosk shows before signing."""
        token, appointment = self._verify_invitation(text)
        host = appointment.host if appointment else Host.get_or_none(Host.ref == token.host_ref)
        visitor_type = appointment.visitor_type if appointment else "visitor"
        return InvitationPreview(
            token=token,
            visitor_name=appointment.visitor_name if appointment else (token.visitor_name or ""),
            host_name=host.name if host else "",
            host_available=self._recipient(host)[1] != "absent",
            requirements=self.requirements(visitor_type),
        )

    def check_in_with_invitation(
        self,
        text: str,
        collected: Collected = Collected(),
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

    # ----------------------------------------------------------------- identity and walk-in

    def check_in_appointment(
        self,
        appointment_ref: str,
        visitor: VisitorDetails,
        collected: Collected = Collected(),
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
        collected: Collected = Collected(),
        *,
        if_host_absent: Literal["ask", "proceed"] = "ask",
    ) -> CheckInResult:
        now = self._clock.now()
        if not self.calendar.is_open(now) and self._config.site.after_hours != "open":
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

    # ----------------------------------------------------------------- the transaction

    def _recipient(self, host: Host | None) -> tuple[Host | None, str]:
        """Who is told of the visitor: the host, else their delegate, else nobody (absent)."""
        if host is None:
            return None, "reception"
        if host.availability == HostAvailability.IN:
            return host, "host"
        delegate = host.delegate
        if (
            delegate is not None
            and delegate.active
            and delegate.availability == HostAvailability.IN
        ):
            return delegate, "delegate"
        return None, "absent"

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
        rules = self.requirements(context.visitor_type)
        visitor_type = self._visitor_type(context.visitor_type)
        is_open = self.calendar.is_open(now)
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

        recipient, party = self._recipient(context.host)
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
            badge = None if needs_approval else self._issue_badge(visit, now)
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
        person = Visitor.create(
            name=visitor.name,
            company=visitor.company,
            phone=visitor.phone,
            email=visitor.email,
            document_hash=visitor.document_hash,
            document_last4=visitor.document_last4,
            created_at=now,
        )
        visit = None
        if context.appointment is not None:
            visit = Visit.get_or_none(Visit.appointment == context.appointment)
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
        self._move(
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
            "notification.approval_request" if approval else "notification.visitor_arrived",
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
            enqueue_event(now, "notification.vip_arrived", visit.ref, {"visit": visit.ref})
        if not host_urls(recipient) and not audience_urls(self._config, "reception"):
            # Neither the host nor reception has a channel: the guard's screen is told, so
            # that someone really knows a visitor is waiting (and the visitor is told so).
            enqueue_event(
                now,
                "security.alert",
                visit.ref,
                {"visit": visit.ref, "reason": "nobody_to_notify", "kiosk": self.kiosk_id},
            )
        self._move(
            visit,
            VisitState.AWAITING_HOST,
            now,
            "kiosk",
            host_notified_at=now,
            notified_party=party,
        )

    def _badge_window(self, visit: Visit, now: datetime) -> tuple[datetime, datetime]:
        hours = self._visitor_type(visit.visitor_type).badge_valid_hours
        return now, min(now + timedelta(hours=hours), self.calendar.badge_deadline(now))

    def _issue_badge(self, visit: Visit, now: datetime) -> BadgeContent:
        not_before, not_after = self._badge_window(visit, now)
        text, token = self._badge_signer.sign_badge(
            visit_ref=visit.ref, not_before=not_before, not_after=not_after
        )
        Badge.create(
            visit=visit,
            token_id=token.token_id,
            token=text,
            key_id=token.key_id,
            issued_at=now,
            expires_at=not_after,
        )
        append_audit(
            now, "kiosk", "badge.issued", visit.ref, {"token": token.token_id, "expires": not_after}
        )
        return self.badge_content(visit.ref)

    def badge_content(self, visit_ref: str, language: str = "") -> BadgeContent:
        """The latest badge of a visit, as the printer and the screen show it, in the site's
        badge language, else `language` (the visitor's), else the site's default."""
        visit = self._visit(visit_ref)
        badge = Badge.select().where(Badge.visit == visit).order_by(Badge.id.desc()).first()
        if badge is None:
            raise NotFound(f"visit {visit_ref} has no badge")
        zone = self.calendar.zone
        kind = self._visitor_type(visit.visitor_type)
        site = self._config.site
        language = site.badge_language or language or site.default_language
        photo = VisitPhoto.get_or_none(VisitPhoto.visit == visit)
        return BadgeContent(
            visit_ref=visit.ref,
            visitor_name=visit.visitor.name if visit.visitor else "",
            company=visit.company,
            host_name=visit.host.name if visit.host else "",
            visitor_type_label=kind.label.get(language, visit.visitor_type),  # type: ignore[call-overload]
            issued_at=badge.issued_at.astimezone(zone),
            expires_at=badge.expires_at.astimezone(zone),
            escort_required=visit.escort_required,
            token=badge.token,
            inverse_band=kind.band == "inverse",
            photo_jpeg=photo.jpeg if photo else None,
            site_name=self._config.site.name,
            language=language,
        )

    def _deny_for_watchlist(
        self, context: _Context, visitor: VisitorDetails, hit: WatchlistEntry, now: datetime
    ) -> None:
        with storage_errors(), self._db.atomic():
            person = Visitor.create(
                name=visitor.name,
                company=visitor.company,
                phone=visitor.phone,
                document_hash=visitor.document_hash,
                document_last4=visitor.document_last4,
                created_at=now,
            )
            visit = None
            if context.appointment is not None:
                visit = Visit.get_or_none(Visit.appointment == context.appointment)
            if visit is None:
                visit = Visit(
                    ref=new_ref(), state=None, created_at=now, appointment=context.appointment
                )
            self._move(
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
                "security.alert",
                visit.ref,
                {
                    "visit": visit.ref,
                    "reason": "watchlist",
                    "watchlist_entry": hit.ref,
                    "kiosk": self.kiosk_id,
                },
            )

    def _move(
        self,
        visit: Visit,
        target: VisitState,
        now: datetime,
        actor: str,
        audit_details: dict[str, str] | None = None,
        event_extra: dict[str, str] | None = None,
        **fields: object,
    ) -> None:
        """Change a visit's state with its outbox event and audit entry; call in a transaction.

        `event_extra` adds to the event what the visit row does not hold (the invitation
        used, which the office needs to refuse it at every other kiosk)."""
        current = VisitState(visit.state) if visit.state else None
        if not can_transition(current, target):
            raise IllegalTransition(f"visit {visit.ref} cannot go from {current} to {target}")
        for name, value in fields.items():
            setattr(visit, name, value)
        visit.state = target
        visit.updated_at = now
        visit.save(force_insert=visit.id is None)
        payload = {**self._visit_payload(visit), **(event_extra or {})}
        enqueue_event(now, f"visit.{target.value}", visit.ref, payload)
        details = {
            "from": current.value if current else None,
            "to": target.value,
            **(audit_details or {}),
        }
        append_audit(now, actor, "visit.state", visit.ref, details)

    def _visit_payload(self, visit: Visit) -> dict[str, object]:
        def stamp(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "visit": visit.ref,
            "state": visit.state,
            "kiosk": self.kiosk_id,
            "appointment": visit.appointment.ref if visit.appointment else None,
            "host": visit.host.ref if visit.host else None,
            "visitor": {"name": visit.visitor.name, "company": visit.visitor.company}
            if visit.visitor
            else None,
            "method": visit.method,
            "purpose": visit.purpose,
            "level": visit.level,
            "visitor_type": visit.visitor_type,
            "escort_required": visit.escort_required,
            "after_hours": visit.after_hours,
            "host_absent": visit.host_absent,
            "arrived_at": stamp(visit.arrived_at),
            "host_notified_at": stamp(visit.host_notified_at),
            "host_acknowledged_at": stamp(visit.host_acknowledged_at),
            "left_at": stamp(visit.left_at),
            "auto_checked_out": visit.auto_checked_out,
            "satisfaction": visit.satisfaction,
        }

    def _visit(self, visit_ref: str) -> Visit:
        visit = Visit.get_or_none(Visit.ref == visit_ref)
        if visit is None:
            raise NotFound(f"no visit {visit_ref}")
        return visit

    # ----------------------------------------------------------------- after check-in

    def acknowledge(self, visit_ref: str, *, by: str = "host", at: datetime | None = None) -> float:
        """The host answered; returns the response time in seconds (the 1-minute figure).
        `at`: when the host answered, if that was elsewhere (a link used at the office)."""
        now = self._clock.now()
        answered = min(at or now, now)
        with storage_errors(), self._db.atomic():
            visit = self._visit(visit_ref)
            self._move(visit, VisitState.HOST_ACKNOWLEDGED, now, by, host_acknowledged_at=answered)
        return (answered - visit.arrived_at).total_seconds()

    def decide_approval(
        self, visit_ref: str, approved: bool, *, by: str = "host", at: datetime | None = None
    ) -> BadgeContent | None:
        """The host approves (badge issued, counts as acknowledged) or denies a walk-in.
        `at`: when the host decided, if that was elsewhere (a link used at the office)."""
        now = self._clock.now()
        answered = min(at or now, now)
        with storage_errors(), self._db.atomic():
            visit = self._visit(visit_ref)
            if not visit.needs_approval or visit.state != VisitState.AWAITING_HOST:
                raise IllegalTransition(f"visit {visit_ref} is not waiting for approval")
            if not approved:
                self._move(
                    visit, VisitState.DENIED, now, by, denied_reason="host declined",
                    left_at=answered,
                )  # fmt: skip
                return None
            self._move(visit, VisitState.HOST_ACKNOWLEDGED, now, by, host_acknowledged_at=answered)
            return self._issue_badge(visit, now)

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
            appointment = (
                Appointment.get_or_none(Appointment.ref == appointment_ref)
                if appointment_ref
                else None
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
                self._move(
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
                self._move(visit, VisitState.CHECKED_OUT, now, "kiosk", left_at=now)
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

    # ----------------------------------------------------------------- badges and check-out

    def verify_badge(self, text: str) -> BadgeCheck:
        """A guard's check: genuine, in date, not revoked, and its visit still on site."""
        token = self._badges.verify(text, TokenKind.BADGE)
        if RevokedToken.get_or_none(RevokedToken.token_id == token.token_id):
            raise TokenRejected(RejectReason.REVOKED, "badge revoked")
        visit = Visit.get_or_none(Visit.ref == token.subject_ref)
        if visit is None:
            raise TokenRejected(RejectReason.UNKNOWN_VISIT, "not a visit this kiosk knows")
        if visit.state not in ON_SITE_STATES:
            raise TokenRejected(RejectReason.CHECKED_OUT, f"visit is {visit.state}")
        photo = VisitPhoto.get_or_none(VisitPhoto.visit == visit)
        return BadgeCheck(
            visit_ref=visit.ref,
            visitor_name=visit.visitor.name if visit.visitor else "",
            company=visit.company,
            host_name=visit.host.name if visit.host else "",
            arrived_at=visit.arrived_at,
            expires_at=token.not_after,
            state=VisitState(visit.state),
            escort_required=visit.escort_required,
            photo_jpeg=photo.jpeg if photo else None,
        )

    def check_badge_at_door(self, text: str, *, by: str = "guard") -> BadgeCheck:
        """A guard's scan (verify_badge). A badge refused at the door is a security alert
        for the security channel: once per badge within BADGE_ALERT_QUIET, so a guard
        scanning the same forged card three times raises one alert, not three."""
        try:
            return self.verify_badge(text)
        except TokenRejected as err:
            self._alert_badge_refused(text, err, by)
            raise

    def _alert_badge_refused(self, text: str, err: TokenRejected, by: str) -> None:
        now = self._clock.now()
        # The badge's own text is not kept (it could be replayed); its digest tells repeats.
        digest = hashlib.sha256(text.strip().encode("utf-8", "replace")).hexdigest()[:32]
        with storage_errors(), self._db.atomic():
            if _alerted_lately(now, "badge", digest):
                return
            # Name the visit only when the badge is genuine (expired, checked out...): a forged
            # one could name anybody's visit.
            try:
                genuine = self._badges.verify(text, TokenKind.BADGE, allow_expired=True)
                known = Visit.get_or_none(Visit.ref == genuine.subject_ref)
            except TokenRejected:
                known = None
            payload = {
                "reason": "badge_rejected",
                "detail": err.reason.value,
                "badge": digest,
                "visit": known.ref if known else "",
                "kiosk": self.kiosk_id,
                "by": by,
            }
            enqueue_event(now, "security.alert", payload["visit"], payload)
            append_audit(now, by, "badge.refused", payload["visit"], {"reason": err.reason.value})

    def check_out_with_badge(self, text: str) -> str:
        """Check out by scanning the badge; an expired badge still checks its visitor out.
        Raises AlreadyCheckedOut (see check_out) for a badge whose visit has ended."""
        token = self._badges.verify(text, TokenKind.BADGE, allow_expired=True)
        self.check_out(token.subject_ref)
        return token.subject_ref

    def check_out(self, visit_ref: str, *, automatic: bool = False, by: str = "kiosk") -> None:
        """End the visit. A visit is checked out once: a second time (the badge scanned
        again at the door) records nothing and raises AlreadyCheckedOut with the time of
        the first, so the visitor is told, not asked to rate the visit again."""
        now = self._clock.now()
        with storage_errors(), self._db.atomic():
            visit = self._visit(visit_ref)
            if visit.state == VisitState.CHECKED_OUT:
                raise AlreadyCheckedOut(visit.ref, visit.left_at)
            self._move(
                visit, VisitState.CHECKED_OUT, now, by, left_at=now, auto_checked_out=automatic
            )

    def rate_visit(self, visit_ref: str, score: int, comment: str = "") -> None:
        """Satisfaction, 1 to 5, with an optional comment (the procedures' 满意度), once per
        visit: a second rating stores nothing and raises AlreadyRated (the first stands)."""
        if not 1 <= score <= 5:
            raise InvalidInput("satisfaction", "must be from 1 to 5")
        check_text(comment, "comment", max_length=FREE_TEXT_MAX, multiline=True)
        now = self._clock.now()
        with storage_errors(), self._db.atomic():
            visit = self._visit(visit_ref)
            if visit.state != VisitState.CHECKED_OUT:
                raise IllegalTransition("a visit is rated at check-out")
            if visit.satisfaction is not None:
                raise AlreadyRated(visit.ref, visit.satisfaction)
            visit.satisfaction = score
            visit.feedback = comment
            visit.updated_at = now
            visit.save()
            enqueue_event(
                now,
                "visit.rated",
                visit.ref,
                {"visit": visit.ref, "satisfaction": score, "comment": comment},
            )
            append_audit(now, "visitor", "visit.rated", visit.ref, {"score": score})

    def record_device_problem(self, device: str, message: str, subject_ref: str = "") -> None:
        """A printer or camera failed: an event for the office and the guards, and an audit
        entry. The visit it concerns (if any) is untouched: a failed print loses nothing."""
        now = self._clock.now()
        with storage_errors(), self._db.atomic():
            enqueue_event(
                now,
                "device.problem",
                subject_ref,
                {
                    "device": device,
                    "message": message,
                    "visit": subject_ref,
                    "kiosk": self.kiosk_id,
                },
            )
            append_audit(now, "kiosk", "device.problem", subject_ref, {"device": device})

    def recent_alerts(self, since: datetime) -> list[dict[str, Any]]:
        """Security alerts and device problems since `since`, newest first: the guard's list."""
        rows = (
            OutboxEvent.select()
            .where(
                OutboxEvent.kind.in_(["security.alert", "device.problem"])
                & (OutboxEvent.occurred_at >= since)
            )
            .order_by(OutboxEvent.id.desc())
        )
        return [
            {"kind": row.kind, "at": row.occurred_at, **json.loads(row.payload)} for row in rows
        ]

    def find_on_site(self, name: str) -> list[OnSiteEntry]:
        """Visitors on site whose name resembles `name`: check-out without a badge."""
        wanted = names.latin_key(name)
        return [
            entry
            for entry in self.on_site()
            if names.similarity(wanted, names.latin_key(entry.visitor_name))
            >= self._config.matching.fuzzy_threshold
            or names.exact_key(name) in names.exact_key(entry.visitor_name)
        ]

    # ----------------------------------------------------------------- the day

    def close_day(self) -> dict[str, int]:
        """End of day: check out whoever is still on site (flagged automatic) and mark
        today's appointments nobody came to as no-shows."""
        now = self._clock.now()
        checked_out = 0
        no_shows = 0
        with storage_errors(), self._db.atomic():
            # Only this kiosk's own visitors: those checked in elsewhere are that kiosk's to close.
            on_site = Visit.state.in_([s.value for s in ON_SITE_STATES])
            own_on_site = Visit.select().where(on_site & (Visit.kiosk_id == self.kiosk_id))
            for visit in own_on_site:
                self._move(
                    visit, VisitState.CHECKED_OUT, now, "system", left_at=now, auto_checked_out=True
                )
                checked_out += 1
            overdue = (
                Visit.select(Visit)
                .join(Appointment)
                .where((Visit.state == VisitState.EXPECTED) & (Appointment.ends_at < now))
            )
            for visit in overdue:
                self._move(visit, VisitState.NO_SHOW, now, "system")
                no_shows += 1
        return {"checked_out": checked_out, "no_shows": no_shows}

    def on_site(self) -> list[OnSiteEntry]:
        """Everyone in the building now, from this kiosk's own records (no network)."""
        unsent = {
            row.subject_ref
            for row in OutboxEvent.select(OutboxEvent.subject_ref).where(
                OutboxEvent.sent_at.is_null()
            )
        }
        # Outer joins: a visit whose visitor row is missing (mirrored without a name, or
        # anonymised) is still someone inside, and the roll call must count them.
        visits = (
            Visit.select(Visit, Visitor, Host)
            .join(Visitor, join_type=JOIN.LEFT_OUTER)
            .switch(Visit)
            .join(Host, join_type=JOIN.LEFT_OUTER)
            .where(Visit.state.in_([s.value for s in ON_SITE_STATES]))
            .order_by(Visit.arrived_at)
        )
        entries = []
        for visit in visits:
            badge = (
                Badge.select(Badge.expires_at)
                .where(Badge.visit == visit)
                .order_by(Badge.id.desc())
                .first()
            )
            entries.append(
                OnSiteEntry(
                    visit_ref=visit.ref,
                    visitor_name=stored_text(visit.visitor.name if visit.visitor else None),
                    company=stored_text(visit.company),
                    host_name=stored_text(visit.host.name if visit.host else None),
                    arrived_at=visit.arrived_at,
                    badge_expires_at=badge.expires_at if badge else None,
                    state=VisitState(visit.state),
                    synced=visit.ref not in unsent,
                )
            )
        return entries

    def today_summary(self) -> TodaySummary:
        now = self._clock.now()
        start, end = self.calendar.day_bounds(now)
        # `state || ''` keeps SQLite off the state index, which would walk every future
        # appointment; the day's range on appointments is the selective one.
        expected = (
            Visit.select()
            .join(Appointment)
            .where(
                ((Visit.state + "") == VisitState.EXPECTED)
                & (Appointment.starts_at >= start)
                & (Appointment.starts_at < end)
            )
            .count()
        )
        counts = (
            Visit.select(Visit.state, fn.COUNT(Visit.id))
            .where(Visit.arrived_at >= start, Visit.arrived_at < end)
            .group_by(Visit.state)
            .tuples()
        )
        rows = cast("list[tuple[str, int]]", list(counts))  # peewee types .tuples() loosely
        states = dict(rows)
        on_site = Visit.select().where(Visit.state.in_([s.value for s in ON_SITE_STATES])).count()
        return TodaySummary(
            expected=expected,
            on_site=on_site,
            checked_out=states.get(VisitState.CHECKED_OUT.value, 0),
            awaiting_host=Visit.select().where(Visit.state == VisitState.AWAITING_HOST).count(),
            is_open=self.calendar.is_open(now),
        )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _alerted_lately(now: datetime, key: str, value: str) -> bool:
    """A security alert whose payload has `key` = `value` was raised within
    BADGE_ALERT_QUIET: the same badge or invitation shown again raises no second one."""
    recent = (
        OutboxEvent.select(OutboxEvent.payload)
        .where(
            (OutboxEvent.kind == "security.alert")
            & (OutboxEvent.occurred_at >= now - BADGE_ALERT_QUIET)
        )
        .order_by(OutboxEvent.id.desc())
        .limit(200)
    )
    return any(json.loads(row.payload).get(key) == value for row in recent)
