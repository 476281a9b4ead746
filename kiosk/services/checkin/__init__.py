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

The package: `engine` (the facade, `CheckInEngine`) over one module per concern, `lookup`,
`arrival`, `responses`, `badges`, `departure`, `alerts` and `day`, which share `rules` (what
a visit requires) and `visits` (the visits' state machine); `values` holds the dataclasses
that cross the engine's boundary. This module only re-exports.
"""

from __future__ import annotations

from kiosk.services.checkin.alerts import BADGE_ALERT_QUIET
from kiosk.services.checkin.arrival import NEUTRAL_REFUSAL
from kiosk.services.checkin.engine import CheckInEngine
from kiosk.services.checkin.values import (
    JPEG_SIGNATURE,
    NOTHING_COLLECTED,
    PNG_SIGNATURE,
    AppointmentMatch,
    BadgeCheck,
    CheckInResult,
    Collected,
    HostSummary,
    InvitationPreview,
    Outcome,
    Requirements,
    VisitorDetails,
    WalkIn,
)

__all__ = [
    "BADGE_ALERT_QUIET",
    "JPEG_SIGNATURE",
    "NEUTRAL_REFUSAL",
    "NOTHING_COLLECTED",
    "PNG_SIGNATURE",
    "AppointmentMatch",
    "BadgeCheck",
    "CheckInEngine",
    "CheckInResult",
    "Collected",
    "HostSummary",
    "InvitationPreview",
    "Outcome",
    "Requirements",
    "VisitorDetails",
    "WalkIn",
]
