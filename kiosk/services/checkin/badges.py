"""Badges: issuing one when a visit is checked in or approved (signed, with its validity
window), its content as the printer and the screen show it, and a guard's check of one at
the door, where a refused badge raises one security alert per badge within
BADGE_ALERT_QUIET.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from peewee import SqliteDatabase

from kiosk.config import KioskConfig
from kiosk.domain.clock import Clock
from kiosk.domain.errors import NotFound, RejectReason, TokenRejected
from kiosk.domain.tokens import TokenKind, TokenSigner, TokenVerifier
from kiosk.domain.values import ON_SITE_STATES, BadgeContent, VisitState
from kiosk.services.checkin.alerts import alerted_lately
from kiosk.services.checkin.rules import VisitRules
from kiosk.services.checkin.values import BadgeCheck
from kiosk.services.checkin.visits import visit_by_ref
from kiosk.services.schedule import SiteCalendar
from kiosk.storage.db import storage_errors
from kiosk.storage.journal import append_audit, enqueue_event
from kiosk.storage.models import Badge, RevokedToken, Visit, VisitPhoto


class Badges:
    """Issuing a visit's badge, what it shows, and a guard's check of one at the door."""

    def __init__(
        self,
        *,
        db: SqliteDatabase,
        config: KioskConfig,
        clock: Clock,
        calendar: SiteCalendar,
        rules: VisitRules,
        verifier: TokenVerifier,
        signer: TokenSigner,
        kiosk_id: str,
    ) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        self._calendar = calendar
        self._rules = rules
        self._verifier = verifier
        self._signer = signer
        self.kiosk_id = kiosk_id

    def _badge_window(self, visit: Visit, now: datetime) -> tuple[datetime, datetime]:
        hours = self._rules.visitor_type(visit.visitor_type).badge_valid_hours
        return now, min(now + timedelta(hours=hours), self._calendar.badge_deadline(now))

    def issue_badge(self, visit: Visit, now: datetime) -> BadgeContent:
        not_before, not_after = self._badge_window(visit, now)
        text, token = self._signer.sign_badge(
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
        visit = visit_by_ref(visit_ref)
        badge = Badge.select().where(Badge.visit == visit).order_by(Badge.id.desc()).first()
        if badge is None:
            raise NotFound(f"visit {visit_ref} has no badge")
        zone = self._calendar.zone
        kind = self._rules.visitor_type(visit.visitor_type)
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

    def verify_badge(self, text: str) -> BadgeCheck:
        """A guard's check: genuine, in date, not revoked, and its visit still on site."""
        token = self._verifier.verify(text, TokenKind.BADGE)
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
            if alerted_lately(now, "badge", digest):
                return
            # Name the visit only when the badge is genuine (expired, checked out...): a forged
            # one could name anybody's visit.
            try:
                genuine = self._verifier.verify(text, TokenKind.BADGE, allow_expired=True)
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
