"""The values that cross the check-in engine's boundary: what the visitor says and the kiosk
collected, what a visit requires, and what a check-in, a lookup or a badge check returns.
Frozen dataclasses; what comes in from outside is checked by its `validated()` before
anything is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Literal

from kiosk.config import AgreementConfig
from kiosk.domain import names
from kiosk.domain.errors import InvalidInput
from kiosk.domain.text import (
    COMPANY_MAX,
    FREE_TEXT_MAX,
    check_email,
    check_name,
    check_optional,
    check_phone,
    check_text,
)
from kiosk.domain.tokens import Token
from kiosk.domain.values import (
    BadgeContent,
    HostAvailability,
    Purpose,
    SalesClass,
    VisitorLevel,
    VisitState,
)

JPEG_SIGNATURE = b"\xff\xd8\xff"


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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


#: The check-ins' default `collected`: nothing. Frozen, so one instance serves every call.
NOTHING_COLLECTED = Collected()


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
