"""Departure: a visit is checked out once and rated once. A second check-out (a badge
scanned again) raises AlreadyCheckedOut, carrying when the first was, and a second rating
AlreadyRated; neither records anything (kiosk.domain.errors).
"""

from __future__ import annotations

from peewee import SqliteDatabase

from kiosk.domain.clock import Clock
from kiosk.domain.errors import AlreadyCheckedOut, AlreadyRated, IllegalTransition, InvalidInput
from kiosk.domain.text import FREE_TEXT_MAX, check_text
from kiosk.domain.tokens import TokenKind, TokenVerifier
from kiosk.domain.values import VisitState
from kiosk.services.checkin.visits import VisitLedger, visit_by_ref
from kiosk.storage.db import storage_errors
from kiosk.storage.journal import append_audit, enqueue_event


class Departure:
    """Check-out (by badge or by name) and the visit's rating."""

    def __init__(
        self,
        *,
        db: SqliteDatabase,
        clock: Clock,
        ledger: VisitLedger,
        badge_verifier: TokenVerifier,
    ) -> None:
        self._db = db
        self._clock = clock
        self._ledger = ledger
        self._badge_verifier = badge_verifier

    def check_out_with_badge(self, text: str) -> str:
        """Check out by scanning the badge; an expired badge still checks its visitor out.
        Raises AlreadyCheckedOut (see check_out) for a badge whose visit has ended."""
        token = self._badge_verifier.verify(text, TokenKind.BADGE, allow_expired=True)
        self.check_out(token.subject_ref)
        return token.subject_ref

    def check_out(self, visit_ref: str, *, automatic: bool = False, by: str = "kiosk") -> None:
        """End the visit. A visit is checked out once: a second time (the badge scanned
        again at the door) records nothing and raises AlreadyCheckedOut with the time of
        the first, so the visitor is told, not asked to rate the visit again."""
        now = self._clock.now()
        with storage_errors(), self._db.atomic():
            visit = visit_by_ref(visit_ref)
            if visit.state == VisitState.CHECKED_OUT:
                raise AlreadyCheckedOut(visit.ref, visit.left_at)
            self._ledger.move(
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
            visit = visit_by_ref(visit_ref)
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
