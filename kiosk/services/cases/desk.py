"""The kiosk's case desk (issue 19): open a case, show it from its receipt, take the
reporter's follow-up, and purge closed cases' contact details.

Opening writes the case, its audit entry, the `case.opened` event for the office and the
`notification.case_opened` event for the duty staff in ONE transaction (kiosk.storage.journal),
so a case is never half recorded and never reaches the office without its notice or the
other way round. A second submission with the same key returns the first case unchanged.

The receipt's QR is a CASE_RECEIPT token signed by this kiosk's badge key; any kiosk of the
site verifies it with the badge keys it already trusts (its own and its peers').
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from peewee import SqliteDatabase

from kiosk.config import KioskConfig
from kiosk.domain.clock import Clock
from kiosk.domain.errors import IllegalTransition, InvalidInput, NotFound
from kiosk.domain.tokens import KeyRing, TokenKind, TokenSigner, TokenVerifier, new_ref
from kiosk.services.cases.deadlines import next_opening, promised_response
from kiosk.services.cases.form import (
    FOLLOW_UP_OUTCOMES,
    NOTE_MAX,
    CaseReport,
    check_description,
    check_photo,
    check_report,
    unit_known,
)
from kiosk.services.cases.models import CaseFollowUp, CaseStatus, KioskCase
from kiosk.services.cases.numbering import next_number
from kiosk.storage.db import storage_errors
from kiosk.storage.journal import append_audit, enqueue_event
from kiosk.sync.wire import EventKind

RESOLVED_STATES = ("resolved",)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def receipt_token_of(scanned: str) -> str:
    """The token of a scanned receipt: the part after the last "/c/", or the bare token."""
    text = scanned.strip()
    return text.rpartition("/c/")[2] if "/c/" in text else text


class ReceiptKeys(KeyRing):
    """A receipt is signed by a kiosk's badge key: trust for CASE_RECEIPT what `badges`
    trusts for BADGE (revocations included)."""

    def __init__(self, badges: KeyRing) -> None:
        super().__init__()
        self._badges = badges

    def lookup(self, kind: TokenKind, key_id: str) -> Any:
        if kind is TokenKind.CASE_RECEIPT:
            return self._badges.lookup(TokenKind.BADGE, key_id)
        return None


@dataclass(frozen=True)
class OpenedCase:
    ref: str
    number: str
    kind: str
    opened_at: datetime
    response_due_at: datetime
    receipt_token: str
    receipt_qr: str
    unit_known: bool
    #: False when this submission key had already made the case (a double tap).
    new: bool


@dataclass(frozen=True)
class CaseView:
    """What a receipt's scan shows: no names, no description, no phone."""

    ref: str
    number: str
    kind: str
    state: str
    opened_at: datetime
    response_due_at: datetime
    resolved_at: datetime | None
    followup_due_at: datetime | None
    followed_up: bool

    @property
    def can_follow_up(self) -> bool:
        return self.state in RESOLVED_STATES and not self.followed_up


class CaseDesk:
    def __init__(
        self,
        *,
        db: SqliteDatabase,
        config: KioskConfig,
        clock: Clock,
        signer: TokenSigner,
        badge_keys: KeyRing,
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.signer = signer
        self.verifier = TokenVerifier(ReceiptKeys(badge_keys), clock.now)

    # ------------------------------------------------------------------ opening

    def response_due(self, kind: str, urgency: str, opened_at: datetime) -> datetime:
        """The site's deadline (the office's last word), from the next opening after hours."""
        return promised_response(self.config, kind, urgency, opened_at)[0]

    def reception_opens(self) -> datetime | None:
        """When reception next opens if it is closed now (a case's clock starts then)."""
        opens = next_opening(self.config.site, self.clock.now())
        return None if opens is None or opens <= self.clock.now() else opens

    def receipt_qr(self, token: str) -> str:
        base = self.config.office.url.rstrip("/")
        return f"{base}/c/{token}" if base else token

    def open(self, report: CaseReport) -> OpenedCase:
        check_report(report, self.config.cases)
        with storage_errors(), self.db.atomic():
            existing = KioskCase.get_or_none(KioskCase.submission_key == report.submission_key)
            if existing is not None:
                return self._opened(existing, new=False)
            case = self._write(report)
        return self._opened(case, new=True)

    def _write(self, report: CaseReport) -> KioskCase:
        now = self.clock.now()
        day = now.astimezone(self.config.site.zone).date()
        ref = new_ref()
        token, _ = self.signer.sign_subject(
            TokenKind.CASE_RECEIPT,
            subject_ref=ref,
            not_before=now,
            not_after=now + timedelta(days=self.config.cases.receipt_valid_days),
        )
        photo = check_photo(report)
        case = KioskCase.create(
            ref=ref,
            number=next_number(report.kind, self.config.kiosk.station, day),
            submission_key=report.submission_key,
            kind=report.kind,
            urgency=report.urgency,
            category=report.category if report.kind == "repair" else "",
            building=report.place.building.strip(),
            floor=report.place.floor.strip(),
            unit=report.place.unit.strip(),
            place_text=report.place.text.strip(),
            unit_known=unit_known(report.place.unit, self.config.cases),
            description=report.description.strip(),
            reporter_name=report.reporter.name.strip(),
            reporter_unit=report.reporter.unit.strip(),
            reporter_phone=report.reporter.phone.strip(),
            language=report.language,
            photo_jpeg=photo,
            receipt_token=token,
            opened_at=now,
            response_due_at=self.response_due(report.kind, report.urgency, now),
        )
        append_audit(now, "kiosk", EventKind.CASE_OPENED, ref, {"number": case.number})
        enqueue_event(now, EventKind.CASE_OPENED, ref, opened_payload(case))
        enqueue_event(now, EventKind.NOTIFICATION_CASE_OPENED, ref, notice_payload(case))
        return case

    def _opened(self, case: KioskCase, *, new: bool) -> OpenedCase:
        return OpenedCase(
            ref=case.ref,
            number=case.number,
            kind=case.kind,
            opened_at=case.opened_at,
            response_due_at=case.response_due_at,
            receipt_token=case.receipt_token,
            receipt_qr=self.receipt_qr(case.receipt_token),
            unit_known=case.unit_known,
            new=new,
        )

    # ------------------------------------------------------------------ showing

    def case_ref_of_receipt(self, scanned: str) -> str:
        """The case a scanned receipt names; TokenRejected if forged, expired or not a receipt."""
        return self.verifier.verify(receipt_token_of(scanned), TokenKind.CASE_RECEIPT).subject_ref

    def show(self, case_ref: str) -> CaseView:
        status = CaseStatus.get_or_none(CaseStatus.case_ref == case_ref)
        case = KioskCase.get_or_none(KioskCase.ref == case_ref)
        if status is None and case is None:
            raise NotFound("this case is not known here yet; it will be after the next sync")
        resolved_at = status.resolved_at if status else None
        answered = (
            resolved_at is not None
            and CaseFollowUp.get_or_none(
                (CaseFollowUp.case_ref == case_ref) & (CaseFollowUp.resolved_at == resolved_at)
            )
            is not None
        )
        source: Any = status or case
        return CaseView(
            ref=case_ref,
            number=source.number,
            kind=source.kind,
            state=status.state if status else "received",
            opened_at=source.opened_at,
            response_due_at=source.response_due_at,
            resolved_at=resolved_at,
            followup_due_at=status.followup_due_at if status else None,
            followed_up=answered,
        )

    def show_receipt(self, scanned: str) -> CaseView:
        return self.show(self.case_ref_of_receipt(scanned))

    # ------------------------------------------------------------------ following up

    def follow_up(self, case_ref: str, outcome: str, note: str = "") -> CaseView:
        """Record the reporter's answer: refused before resolution, once per resolution."""
        if outcome not in FOLLOW_UP_OUTCOMES:
            raise InvalidInput("outcome", f"must be one of {', '.join(FOLLOW_UP_OUTCOMES)}")
        check_description(note, "note", NOTE_MAX)
        with storage_errors(), self.db.atomic():
            view = self.show(case_ref)
            if view.followed_up:
                raise IllegalTransition("You have already answered for this case; thank you")
            if view.state not in RESOLVED_STATES or view.resolved_at is None:
                raise IllegalTransition("This case is not resolved yet")
            now = self.clock.now()
            CaseFollowUp.create(
                case_ref=case_ref,
                resolved_at=view.resolved_at,
                outcome=outcome,
                note=note.strip(),
                at=now,
            )
            CaseStatus.update(state="followed_up", updated_at=now).where(
                CaseStatus.case_ref == case_ref
            ).execute()
            append_audit(now, "kiosk", EventKind.CASE_FOLLOWED_UP, case_ref, {"outcome": outcome})
            enqueue_event(
                now,
                EventKind.CASE_FOLLOWED_UP,
                case_ref,
                {
                    "case_ref": case_ref,
                    "outcome": outcome,
                    "note": note.strip(),
                    "at": iso(now),
                    "channel": "kiosk",
                },
            )
        return self.show(case_ref)

    # ------------------------------------------------------------------ retention

    def purge_contacts(self) -> int:
        """Blank the contact and photo of cases closed more than `[cases] contact_days` ago."""
        with storage_errors(), self.db.atomic():
            return purge_case_contacts(self.clock.now(), self.config.cases.contact_days)


def purge_case_contacts(now: datetime, days: int) -> int:
    """Blank reporters' contacts and photos of cases closed `days` before `now` (the case,
    its kind, times and number stay for the counts); call inside a transaction."""
    closed = CaseStatus.select(CaseStatus.case_ref).where(
        (CaseStatus.state == "closed") & (CaseStatus.updated_at < now - timedelta(days=days))
    )
    return int(
        KioskCase.update(
            reporter_name="", reporter_unit="", reporter_phone="", photo_jpeg=None, purged_at=now
        )
        .where(KioskCase.ref.in_(closed) & KioskCase.purged_at.is_null())
        .execute()
    )


def opened_payload(case: KioskCase) -> dict[str, Any]:
    """The `case.opened` event, exactly as the cases contract lists its fields."""
    photo = base64.b64encode(case.photo_jpeg).decode("ascii") if case.photo_jpeg else ""
    return {
        "case_ref": case.ref,
        "number": case.number,
        "kind": case.kind,
        "urgency": case.urgency,
        "category": case.category,
        "place": {
            "building": case.building,
            "floor": case.floor,
            "unit": case.unit,
            "text": case.place_text,
        },
        "unit_known": bool(case.unit_known),
        "description": case.description,
        "reporter": {
            "name": case.reporter_name,
            "unit": case.reporter_unit,
            "phone": case.reporter_phone,
        },
        "language": case.language,
        "channel": "kiosk",
        "opened_at": iso(case.opened_at),
        "response_due_at": iso(case.response_due_at),
        "photo_jpeg_b64": photo,
    }


def notice_payload(case: KioskCase) -> dict[str, Any]:
    """What the duty staff are told: number, kind, place, urgency, due time; no phone."""
    place = " ".join(
        part for part in (case.building, case.floor, case.unit, case.place_text) if part
    )
    return {
        "case_ref": case.ref,
        "number": case.number,
        "kind": case.kind,
        "category": case.category,
        "urgency": case.urgency,
        "place": place,
        "response_due_at": iso(case.response_due_at),
    }
