"""What the case screens (issue 19) need from the rest of the kiosk: plain values and one
protocol, as `kiosk.ui.services` is for the visitor's screens.

The composition root's `kiosk.case_screen_services.CaseScreenServices` adapts the case
desk and the slip printer to `CaseServices`. Errors are the domain's own: InvalidInput with
the field (the screen says which step to look at again), TokenRejected for a receipt that is
not one, NotFound for a case the kiosk does not know yet, IllegalTransition for a follow-up
that cannot be taken now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

#: The kinds in the order the screen offers them.
CASE_KINDS = ("complaint", "repair", "suggestion", "inquiry")


@dataclass
class CaseForm:
    """What the reporter chose and typed; `submission_key` is the form's own id, made once
    when the flow starts, so a second tap of "Send" finds the case the first one made."""

    submission_key: str
    kind: str = ""
    building: str = ""
    floor: str = ""
    unit: str = ""
    description: str = ""
    category: str = ""
    photo_agreed: bool = False
    photo_jpeg: bytes | None = None
    name: str = ""
    contact_unit: str = ""
    phone: str = ""
    #: The UI's language code (zh_Hans, zh_Hant, en): the slip is printed in it.
    language: str = "en"


@dataclass(frozen=True)
class CaseOpenedView:
    ref: str
    number: str
    kind: str
    #: The promised response time, local to the site: "14:30", or "12-08 14:30" when not today.
    respond_by: str
    unit_known: bool
    #: False when the form's id had already made this case (a double tap).
    new: bool
    #: Reception was closed when the case was opened: when it opens (the response time is
    #: counted from then), in respond_by's form; "" when it was open.
    opens: str = ""


@dataclass(frozen=True)
class CaseStatusView:
    """What a receipt's scan shows: no names, no description, no phone (times local)."""

    ref: str
    number: str
    kind: str
    state: str
    opened_at: datetime
    response_due_at: datetime
    resolved_at: datetime | None
    followup_due_at: datetime | None
    followed_up: bool
    can_follow_up: bool


class CaseServices(Protocol):
    """The case screens' calls; each returns quickly, on the UI thread, except the print's
    `on_done(printed)`, which runs on the print queue's thread."""

    def case_categories(self) -> list[str]:
        """The site's repair categories, as configured (water, electricity, ...)."""
        ...

    def case_units(self) -> list[str]:
        """The site's units; a unit typed that is not one is allowed (flagged)."""
        ...

    def case_reception_opens(self) -> str:
        """When reception opens if it is closed now ("09:00", "12-08 09:00"), else ""."""
        ...

    def open_case(self, form: CaseForm) -> CaseOpenedView: ...

    def print_case_receipt(
        self, case_ref: str, on_done: Callable[[bool], None], language: str = "en"
    ) -> None: ...

    def show_case_receipt(self, scanned: str) -> CaseStatusView: ...

    def follow_up_case(self, case_ref: str, outcome: str, note: str = "") -> CaseStatusView: ...
