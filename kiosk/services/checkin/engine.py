"""`CheckInEngine`: the check-in engine's one entry point, a thin facade over one controller
per concern (as Mopidy's `Core` holds one controller per concern):

    lookup     Lookup          hosts and today's appointments, before a check-in
    arrival    Arrival         invitations, appointments and walk-ins checked in
    responses  HostResponses   the host's answers, and messages for an absent host
    badges     Badges          badges issued, their content, a guard's check at the door
    departure  Departure       check-out and the visit's rating
    alerts     Alerts          device problems recorded, alerts listed for the guard
    day        SiteDay         who is on site, today's figures, closing the day

They share the site's rules (`VisitRules`) and the visits' state machine (`VisitLedger`).
Callers (the kiosk's services, the CLI, the notifier, the sync, the tests) call the engine's
methods as before; each forwards to its controller, where its contract is documented.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from peewee import SqliteDatabase

from kiosk.config import KioskConfig
from kiosk.domain.clock import Clock
from kiosk.domain.tokens import TokenSigner, TokenVerifier
from kiosk.domain.values import BadgeContent, OnSiteEntry, Purpose, TodaySummary
from kiosk.services.checkin.alerts import Alerts
from kiosk.services.checkin.arrival import Arrival
from kiosk.services.checkin.badges import Badges
from kiosk.services.checkin.day import SiteDay
from kiosk.services.checkin.departure import Departure
from kiosk.services.checkin.lookup import Lookup
from kiosk.services.checkin.responses import HostResponses
from kiosk.services.checkin.rules import VisitRules
from kiosk.services.checkin.values import (
    NOTHING_COLLECTED,
    AppointmentMatch,
    BadgeCheck,
    CheckInResult,
    Collected,
    HostSummary,
    InvitationPreview,
    Requirements,
    VisitorDetails,
    WalkIn,
)
from kiosk.services.checkin.visits import VisitLedger
from kiosk.services.schedule import SiteCalendar


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
        # The verifiers keep their names: a test reloads the badge verifier's key ring.
        self._badges = badge_verifier
        self._badge_signer = badge_signer
        self.kiosk_id = kiosk_id
        self.calendar = calendar = SiteCalendar(config.site)
        self.rules = rules = VisitRules(config=config, clock=clock, calendar=calendar)
        ledger = VisitLedger(kiosk_id=kiosk_id)
        self.lookup = Lookup(db=db, config=config, clock=clock, calendar=calendar)
        self.badges = badges = Badges(
            db=db,
            config=config,
            clock=clock,
            calendar=calendar,
            rules=rules,
            verifier=badge_verifier,
            signer=badge_signer,
            kiosk_id=kiosk_id,
        )
        self.arrival = Arrival(
            db=db,
            config=config,
            clock=clock,
            calendar=calendar,
            rules=rules,
            ledger=ledger,
            badges=badges,
            invitation_verifier=invitation_verifier,
            kiosk_id=kiosk_id,
        )
        self.responses = HostResponses(
            db=db, clock=clock, ledger=ledger, badges=badges, kiosk_id=kiosk_id
        )
        self.departure = Departure(db=db, clock=clock, ledger=ledger, badge_verifier=badge_verifier)
        self.alerts = Alerts(db=db, clock=clock, kiosk_id=kiosk_id)
        self.day = SiteDay(
            db=db, config=config, clock=clock, calendar=calendar, ledger=ledger, kiosk_id=kiosk_id
        )

    # ----------------------------------------------------------------- rules and lookups

    def requirements(self, visitor_type: str) -> Requirements:
        return self.rules.requirements(visitor_type)

    def is_open(self) -> bool:
        return self.rules.is_open()

    def search_hosts(self, query: str, limit: int = 8) -> list[HostSummary]:
        """Hosts by name, pinyin, initials or department; best first (Lookup)."""
        return self.lookup.search_hosts(query, limit)

    def match_identity(self, name: str, document_hash: str | None = None) -> list[AppointmentMatch]:
        """Today's expected appointments for this person, best tier only (Lookup)."""
        return self.lookup.match_identity(name, document_hash)

    # ----------------------------------------------------------------- arrival

    def preview_invitation(self, text: str) -> InvitationPreview:
        """Verify an invitation without using it up (Arrival)."""
        return self.arrival.preview_invitation(text)

    def check_in_with_invitation(
        self,
        text: str,
        collected: Collected = NOTHING_COLLECTED,
        *,
        visitor: VisitorDetails | None = None,
        if_host_absent: Literal["ask", "proceed"] = "ask",
    ) -> CheckInResult:
        """Check in with a signed invitation, used up in the same transaction (Arrival)."""
        return self.arrival.check_in_with_invitation(
            text, collected, visitor=visitor, if_host_absent=if_host_absent
        )

    def check_in_appointment(
        self,
        appointment_ref: str,
        visitor: VisitorDetails,
        collected: Collected = NOTHING_COLLECTED,
        *,
        if_host_absent: Literal["ask", "proceed"] = "ask",
    ) -> CheckInResult:
        """Check in against an appointment found by `match_identity` (Arrival)."""
        return self.arrival.check_in_appointment(
            appointment_ref, visitor, collected, if_host_absent=if_host_absent
        )

    def check_in_walk_in(
        self,
        walk_in: WalkIn,
        collected: Collected = NOTHING_COLLECTED,
        *,
        if_host_absent: Literal["ask", "proceed"] = "ask",
    ) -> CheckInResult:
        """Check in a visitor without an appointment (Arrival)."""
        return self.arrival.check_in_walk_in(walk_in, collected, if_host_absent=if_host_absent)

    # ----------------------------------------------------------------- the host's answers

    def acknowledge(self, visit_ref: str, *, by: str = "host", at: datetime | None = None) -> float:
        """The host answered; the response time in seconds (HostResponses)."""
        return self.responses.acknowledge(visit_ref, by=by, at=at)

    def decide_approval(
        self, visit_ref: str, approved: bool, *, by: str = "host", at: datetime | None = None
    ) -> BadgeContent | None:
        """The host approves (the badge issued) or denies a walk-in (HostResponses)."""
        return self.responses.decide_approval(visit_ref, approved, by=by, at=at)

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
        """The host is away: the visitor's message for them; its ref (HostResponses)."""
        return self.responses.leave_message(
            host_ref,
            visitor,
            contact=contact,
            purpose=purpose,
            message=message,
            appointment_ref=appointment_ref,
        )

    # ----------------------------------------------------------------- badges

    def badge_content(self, visit_ref: str, language: str = "") -> BadgeContent:
        """The latest badge of a visit, as the printer and the screen show it (Badges)."""
        return self.badges.badge_content(visit_ref, language)

    def verify_badge(self, text: str) -> BadgeCheck:
        """A guard's check: genuine, in date, not revoked, still on site (Badges)."""
        return self.badges.verify_badge(text)

    def check_badge_at_door(self, text: str, *, by: str = "guard") -> BadgeCheck:
        """A guard's scan; a refused badge is a security alert, once (Badges)."""
        return self.badges.check_badge_at_door(text, by=by)

    # ----------------------------------------------------------------- departure

    def check_out_with_badge(self, text: str) -> str:
        """Check out by scanning the badge, even an expired one; the visit's ref (Departure)."""
        return self.departure.check_out_with_badge(text)

    def check_out(self, visit_ref: str, *, automatic: bool = False, by: str = "kiosk") -> None:
        """End the visit, once; AlreadyCheckedOut a second time (Departure)."""
        self.departure.check_out(visit_ref, automatic=automatic, by=by)

    def rate_visit(self, visit_ref: str, score: int, comment: str = "") -> None:
        """Satisfaction, 1 to 5, once per visit; AlreadyRated a second time (Departure)."""
        self.departure.rate_visit(visit_ref, score, comment)

    # ----------------------------------------------------------------- alerts and the day

    def record_device_problem(self, device: str, message: str, subject_ref: str = "") -> None:
        """A printer or camera failed: an event and an audit entry (Alerts)."""
        self.alerts.record_device_problem(device, message, subject_ref)

    def recent_alerts(self, since: datetime) -> list[dict[str, Any]]:
        """Security alerts and device problems since `since`, newest first (Alerts)."""
        return self.alerts.recent_alerts(since)

    def find_on_site(self, name: str) -> list[OnSiteEntry]:
        """Visitors on site whose name resembles `name` (SiteDay)."""
        return self.day.find_on_site(name)

    def on_site(self) -> list[OnSiteEntry]:
        """Everyone in the building now, from this kiosk's own records (SiteDay)."""
        return self.day.on_site()

    def today_summary(self) -> TodaySummary:
        return self.day.today_summary()

    def close_day(self) -> dict[str, int]:
        """End of day: the rest checked out, the absent marked no-shows (SiteDay)."""
        return self.day.close_day()
