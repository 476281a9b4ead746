"""The visitor's journey through the screens, and what each refusal is called.

`Journey` is the navigation state of one visitor: how they identified themselves, what
they typed, what was collected, and the steps still to come. The App keeps one and
drops it at the end, on "cancel" and on the idle timeout (nothing typed survives).

Messages are English source strings marked with `N_` for Babel and translated when
shown, so a visitor who switches language mid-way sees every sentence switch too. None
names an internal: no reason code, key id or stack trace reaches the screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from kiosk.domain.errors import RefusalReason, RejectReason
from kiosk.domain.values import Purpose, VisitorLevel
from kiosk.ui.services import Captured, Steps, VisitorForm


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


Way = Literal["invitation", "appointment", "walk_in"]


@dataclass
class Journey:
    way: Way = "walk_in"
    token: str = ""
    appointment_ref: str = ""
    form: VisitorForm = field(default_factory=VisitorForm)
    captured: Captured = field(default_factory=Captured)
    steps: Steps = field(default_factory=lambda: Steps("visitor"))
    #: Screens still to visit before the check-in is submitted.
    pending: list[str] = field(default_factory=list)
    proceed_if_absent: bool = False
    visit_ref: str = ""
    host_name: str = ""
    #: Report an issue: the purposes offered are the issue-type ones.
    issue: bool = False

    def plan(self) -> None:
        """The per-visitor-type steps, in the order a receptionist would take them."""
        self.pending = []
        if self.steps.agreement_id:
            self.pending.append("agreement")
        if self.steps.photo:
            self.pending.append("photo")
        if self.steps.escort:
            self.pending.append("escort")


#: Purposes offered when a visitor reports an issue rather than visits someone.
ISSUE_PURPOSES = (
    Purpose.COMPLAINT,
    Purpose.REPAIR,
    Purpose.SUGGESTION,
    Purpose.ASSISTANCE,
    Purpose.INQUIRY,
    Purpose.PAID_SERVICE,
)

PURPOSE_LABELS = {
    Purpose.VISIT_PERSON: N_("Visit a person"),
    Purpose.INQUIRY: N_("Inquiry"),
    Purpose.ERRAND: N_("Business errand"),
    Purpose.ASSISTANCE: N_("Ask for help"),
    Purpose.PAID_SERVICE: N_("Paid service"),
    Purpose.SUGGESTION: N_("Suggestion"),
    Purpose.COMPLAINT: N_("Complaint"),
    Purpose.REPAIR: N_("Repair request"),
    Purpose.MOVE_IN: N_("Moving in"),
    Purpose.TOUR: N_("Tour"),
    Purpose.DELIVERY: N_("Delivery"),
    Purpose.INTERVIEW: N_("Interview"),
}

LEVEL_LABELS = {
    VisitorLevel.ORDINARY: N_("Ordinary"),
    VisitorLevel.SENIOR: N_("Senior"),
    VisitorLevel.VIP: N_("VIP"),
}

SEE_RECEPTION = N_("Please see reception")

#: (title, body) for an invitation that cannot be used.
INVITATION_REJECTED: dict[RejectReason, tuple[str, str]] = {
    RejectReason.MALFORMED: (
        N_("We could not read this code"),
        N_("Please hold your invitation flat and steady inside the frame."),
    ),
    RejectReason.TRUNCATED: (
        N_("We could not read this code"),
        N_("Please hold your invitation flat and steady inside the frame."),
    ),
    RejectReason.UNSUPPORTED_VERSION: (
        N_("This invitation cannot be read here"),
        N_("Please ask reception to check you in."),
    ),
    RejectReason.WRONG_KIND: (
        N_("This is a visitor badge"),
        N_("To leave the building, choose Check out on the first screen."),
    ),
    RejectReason.UNKNOWN_KEY: (
        N_("We could not confirm this invitation"),
        N_("Please ask reception to check you in."),
    ),
    RejectReason.KEY_REVOKED: (
        N_("We could not confirm this invitation"),
        N_("Please ask reception to check you in."),
    ),
    RejectReason.BAD_SIGNATURE: (
        N_("We could not confirm this invitation"),
        N_("Please ask reception to check you in."),
    ),
    RejectReason.NOT_YET_VALID: (
        N_("Your invitation is not valid yet"),
        N_("Please come back closer to the time of your appointment, or see reception."),
    ),
    RejectReason.EXPIRED: (
        N_("Your invitation has expired"),
        N_("Please ask your host for a new invitation, or see reception."),
    ),
    RejectReason.REPLAYED: (
        N_("This invitation has already been used"),
        N_("If you have already checked in today, please see reception."),
    ),
    RejectReason.REVOKED: (
        N_("This invitation has been cancelled"),
        N_("Please contact your host, or see reception."),
    ),
    RejectReason.CHECKED_OUT: (
        N_("We could not confirm this invitation"),
        N_("Please ask reception to check you in."),
    ),
    RejectReason.UNKNOWN_VISIT: (
        N_("We could not confirm this invitation"),
        N_("Please ask reception to check you in."),
    ),
}

#: (title, body) for a check-in the engine refused. The watchlist gets the same neutral
#: words as any other reason to see reception.
CHECK_IN_REFUSED: dict[RefusalReason, tuple[str, str]] = {
    RefusalReason.WATCHLIST: (SEE_RECEPTION, N_("A member of staff will help you.")),
    RefusalReason.AFTER_HOURS: (
        N_("Reception is closed"),
        N_("Visitors without an appointment can check in during opening hours."),
    ),
    RefusalReason.NO_MATCH: (
        N_("We could not find your appointment"),
        N_("You can check in as a visitor without an appointment."),
    ),
    RefusalReason.HOST_UNKNOWN: (
        N_("We could not find that person"),
        N_("Please choose the person you are visiting again."),
    ),
    RefusalReason.REQUIREMENT_MISSING: (SEE_RECEPTION, N_("A member of staff will help you.")),
    RefusalReason.DOCUMENT_EXPIRED: (
        N_("Your identity document has expired"),
        N_("Please see reception with another document."),
    ),
    RefusalReason.APPOINTMENT_CANCELLED: (
        N_("This appointment has been cancelled"),
        N_("Please contact your host, or see reception."),
    ),
    RefusalReason.ALREADY_CHECKED_IN: (
        N_("You are already checked in"),
        N_("If you have lost your badge, please see reception."),
    ),
}

#: What a guard is told about a badge that is not valid.
BADGE_INVALID: dict[RejectReason, str] = {
    RejectReason.EXPIRED: N_("Badge expired"),
    RejectReason.CHECKED_OUT: N_("Visitor has checked out"),
    RejectReason.BAD_SIGNATURE: N_("Forged or altered badge"),
    RejectReason.UNKNOWN_KEY: N_("Forged or altered badge"),
    RejectReason.KEY_REVOKED: N_("Badge key withdrawn"),
    RejectReason.REVOKED: N_("Badge revoked"),
    RejectReason.UNKNOWN_VISIT: N_("Badge unknown to this kiosk"),
    RejectReason.NOT_YET_VALID: N_("Badge not valid yet"),
    RejectReason.WRONG_KIND: N_("Not a badge: an invitation"),
    RejectReason.MALFORMED: N_("Not a badge"),
    RejectReason.TRUNCATED: N_("Not a badge"),
    RejectReason.UNSUPPORTED_VERSION: N_("Not a badge"),
    RejectReason.REPLAYED: N_("Badge revoked"),
}

#: Which field a visitor should look at again, by the engine's field name.
FIELD_LABELS = {
    "name": N_("Name"),
    "company": N_("Company"),
    "phone": N_("Phone"),
    "contact": N_("Phone or e-mail"),
    "message": N_("Message"),
    "comment": N_("Comment"),
    "items_declared": N_("Items you are bringing in"),
    "id_number": N_("Identity number"),
}
