"""The reader's words for the codes stored with visits, appointments, hosts and accounts.

A stored value is never a message to translate: Jinja's `_()` reads its message as a
%-format and marks what it returns as safe HTML, so a kiosk that sent the level `%(x)s`
took pages down, and one that sent `<b>` would have had it rendered. Instead each kind of
code has a fixed table here from the code to a literal message (marked with `N_`, so
`make i18n` extracts it), and pages show a code with `label(kind, code)`
(`Translator.label`): the table's words in the reader's language, or, for a code the table
does not know (a newer kiosk's, or a forged one), the code itself, which Jinja escapes.
Free text that people typed (names, companies, departments) is shown as it is.
"""

from __future__ import annotations

from collections.abc import Mapping

from kiosk.domain.values import (
    CheckInMethod,
    HostAvailability,
    Purpose,
    VisitorLevel,
    VisitState,
)
from kiosk.notify.i18n import N_

#: The kinds of code, each a table from the stored code to its English words. The visit
#: log, the on-site list and the reports use the short words ("visit person"); the
#: appointment pages use the booking form's ("Visit a person").
LABELS: Mapping[str, Mapping[str, str]] = {
    "state": {
        VisitState.EXPECTED: N_("expected"),
        VisitState.CHECKED_IN: N_("checked in"),
        VisitState.AWAITING_HOST: N_("awaiting host"),
        VisitState.HOST_ACKNOWLEDGED: N_("host acknowledged"),
        VisitState.CHECKED_OUT: N_("checked out"),
        VisitState.DENIED: N_("denied"),
        VisitState.NO_SHOW: N_("no show"),
    },
    "purpose": {
        Purpose.VISIT_PERSON: N_("visit person"),
        Purpose.INQUIRY: N_("inquiry"),
        Purpose.ERRAND: N_("errand"),
        Purpose.ASSISTANCE: N_("assistance"),
        Purpose.PAID_SERVICE: N_("paid service"),
        Purpose.SUGGESTION: N_("suggestion"),
        Purpose.COMPLAINT: N_("complaint"),
        Purpose.REPAIR: N_("repair"),
        Purpose.MOVE_IN: N_("move in"),
        Purpose.TOUR: N_("tour"),
        Purpose.DELIVERY: N_("delivery"),
        Purpose.INTERVIEW: N_("interview"),
        Purpose.WORKS: N_("works"),
    },
    "level": {
        VisitorLevel.ORDINARY: N_("ordinary"),
        VisitorLevel.SENIOR: N_("senior"),
        VisitorLevel.VIP: N_("vip"),
    },
    "method": {
        CheckInMethod.INVITATION: N_("invitation"),
        CheckInMethod.IDENTITY: N_("identity"),
        CheckInMethod.WALK_IN: N_("walk in"),
    },
    "role": {
        "admin": N_("admin"),
        "reception": N_("reception"),
        "security": N_("security"),
        "host": N_("host"),
    },
    "availability": {
        HostAvailability.IN: N_("In"),
        HostAvailability.OUT: N_("Away"),
        HostAvailability.IN_MEETING: N_("In a meeting"),
    },
    "booking_purpose": {
        Purpose.VISIT_PERSON: N_("Visit a person"),
        Purpose.INQUIRY: N_("Inquiry"),
        Purpose.ERRAND: N_("Business / errand"),
        Purpose.ASSISTANCE: N_("Assistance request"),
        Purpose.PAID_SERVICE: N_("Paid service request"),
        Purpose.SUGGESTION: N_("Suggestion"),
        Purpose.COMPLAINT: N_("Complaint"),
        Purpose.REPAIR: N_("Repair request"),
        Purpose.MOVE_IN: N_("Move-in"),
        Purpose.TOUR: N_("Tour"),
        Purpose.DELIVERY: N_("Delivery"),
        Purpose.INTERVIEW: N_("Interview"),
        Purpose.WORKS: N_("Building or repair work"),
    },
    "booking_level": {
        VisitorLevel.ORDINARY: N_("Ordinary"),
        VisitorLevel.SENIOR: N_("Senior"),
        VisitorLevel.VIP: N_("VIP"),
    },
    #: The shipped visitor types (kiosk/config/defaults.toml, bookings.visitor_types).
    "visitor_type": {
        "visitor": N_("Visitor"),
        "contractor": N_("Contractor"),
        "interview": N_("Interview"),
        "delivery": N_("Delivery"),
    },
    #: A booking's repetition (bookings.FREQUENCIES, and "" for none).
    "repeat": {
        "": N_("Does not repeat"),
        "daily": N_("Every day"),
        "weekdays": N_("Every weekday"),
        "weekly": N_("Every week"),
    },
}


def codes(kind: str) -> list[str]:
    """The codes a table knows, in its order: the choices of a form's select."""
    return [str(code) for code in LABELS[kind]]
