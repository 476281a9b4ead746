"""The visitor's journey through the screens, and what each refusal is called.

`Journey` is the navigation state of one visitor: how they identified themselves, what
they typed, what was collected, and the steps still to come. The App keeps one and
drops it at the end, on "cancel" and on the idle timeout (nothing typed survives).

Messages are English source strings marked with `N_` for Babel and translated when
shown, so a visitor who switches language mid-way sees every sentence switch too. None
names an internal: no reason code, key id or stack trace reaches the screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from kiosk.domain import values
from kiosk.domain.errors import RefusalReason, RejectReason
from kiosk.domain.values import Purpose
from kiosk.ui.deliveries import DeliveryOrder, PickupAttempt
from kiosk.ui.services import Captured, HostNotice, Setting, Steps, VisitorForm


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


class Phrase(str):
    """An argument of a sentence that is itself UI text, translated with it ("by e-mail");
    a plain str argument (a name) is shown as it is."""

    __slots__ = ()


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
    #: A courier's parcel, or a collection (kiosk.ui.screens.deliveries).
    delivery: DeliveryOrder = field(default_factory=DeliveryOrder)
    pickup: PickupAttempt = field(default_factory=PickupAttempt)

    def plan(self) -> None:
        """The per-visitor-type steps, in the order a receptionist would take them."""
        self.pending = []
        if self.steps.agreement_id:
            self.pending.append("agreement")
        if self.steps.photo:
            self.pending.append("photo")
        if self.steps.escort:
            self.pending.append("escort")


#: Every purpose of a visit: the site's common ones first, these under "More". Not a
#: delivery: a courier logs the parcel ("Delivery" on the welcome screen), not a visit.
VISIT_PURPOSES = tuple(p for p in values.VISIT_PURPOSES if p is not Purpose.DELIVERY)

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
    Purpose.WORKS: N_("Building or repair work"),
}

SEE_RECEPTION = N_("Please see reception")

#: How someone was told, as the middle of a sentence ("Li Na has been told by e-mail").
CHANNEL_WORDS = {
    "email": N_("by e-mail"),
    "wecom": N_("on WeCom"),
    "dingtalk": N_("on DingTalk"),
    "feishu": N_("on Feishu"),
    "sms": N_("by text message"),
    "chat": N_("by chat message"),
    "webhook": N_("by message"),
    "": N_("by message"),
}

#: A sentence of the done screen: (tone, title, body, args). Args of `N_` strings are
#: translated where shown (NoticeScreen.on_language), like the sentence itself.
Words = tuple[str, str, str, dict[str, str]]

_TAKE_A_SEAT = N_("Please take your badge and take a seat.")


def arrival_words(notice: HostNotice, host_name: str) -> Words:
    """What the done screen says about who was told of a visitor's arrival: only what
    happened (HostNotice), never "notified" before anything was sent."""
    channel = Phrase(CHANNEL_WORDS[notice.channel])
    reception = notice.party == "reception"
    args = {"who": notice.name or host_name, "host": host_name, "channel": channel}
    if notice.state == "nobody":
        return (
            "warn",
            N_("We could not reach {host}"),
            N_("The guard has been alerted and will look after you. Please take your badge."),
            {"host": host_name or Phrase(N_("reception"))},
        )
    if notice.state == "sent":
        if reception:
            return "ok", N_("Reception has been told {channel}"), _TAKE_A_SEAT, args
        if notice.party == "delegate":
            return (
                "ok",
                N_("{who} has been told {channel}"),
                N_(
                    "{who} looks after visitors for {host}. Please take your badge and take a seat."
                ),
                args,
            )
        return "ok", N_("{who} has been told {channel}"), _TAKE_A_SEAT, args
    if notice.state == "retrying":
        return (
            "info",
            N_("Reception will be told {channel} once the network is back")
            if reception
            else N_("{who} will be told {channel} once the network is back"),
            N_("Please take your badge and take a seat. Reception can help you meanwhile."),
            args,
        )
    return (
        "info",
        N_("Telling reception {channel}…") if reception else N_("Telling {who} {channel}…"),
        _TAKE_A_SEAT,
        args,
    )


def approval_words(notice: HostNotice, host_name: str) -> Words:
    """What a walk-in waiting for approval is told about the request."""
    channel = Phrase(CHANNEL_WORDS[notice.channel])
    who = notice.name or (Phrase(N_("reception")) if notice.party == "reception" else host_name)
    args = {"who": who, "host": host_name, "channel": channel}
    if notice.state == "nobody":
        return (
            "warn",
            SEE_RECEPTION,
            N_("We could not reach {host} to confirm your visit. The guard has been alerted."),
            args,
        )
    body = {
        "sent": N_(
            "We have asked {who} {channel} to confirm your visit. Reception will call you "
            "and hand you your badge."
        ),
        "retrying": N_(
            "{who} will be asked to confirm your visit once the network is back. Reception "
            "will call you and hand you your badge."
        ),
        "sending": N_(
            "We are asking {who} {channel} to confirm your visit. Reception will call you "
            "and hand you your badge."
        ),
    }[notice.state]
    return "info", N_("Please take a seat"), body, args


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

#: The admin's summary of the settings: each line's label, and the words for values that
#: are the UI's own rather than the site's.
SETTING_LABELS = {
    "site": N_("Site"),
    "timezone": N_("Time zone"),
    "hours": N_("Opening hours"),
    "after_hours": N_("Outside opening hours"),
    "office": N_("Office"),
    "printer": N_("Printer"),
    "camera": N_("Camera"),
    "reception": N_("Reception is told by"),
    "security": N_("Security is told by"),
    "visitor_details_days": N_("Visitor details kept"),
    "photos_days": N_("Photos kept"),
    "guard_pin": N_("Guard PIN"),
    "admin_pin": N_("Administrator PIN"),
}
AFTER_HOURS_WORDS = {
    "closed": N_("nobody checks in"),
    "appointments_only": N_("invitations and appointments only"),
    "open": N_("everyone checks in"),
}


def setting_words(setting: Setting, translate: Callable[[str], str]) -> str:
    """One line of the admin's summary, in the screen's language."""
    label, value = translate(SETTING_LABELS.get(setting.key, setting.key)), setting.value
    if setting.key == "after_hours":
        value = translate(AFTER_HOURS_WORDS.get(value, value))
    elif setting.key == "office" and not value:
        value = translate(N_("none (this kiosk works on its own)"))
    elif setting.key in ("reception", "security") and not value:
        value = translate(N_("no channel"))
    elif setting.key.endswith("_days"):
        value = translate(N_("{count} days")).format(count=value)
    elif setting.key.endswith("_pin"):
        value = translate(N_("set") if value else N_("not set"))
    return translate(N_("{label}: {value}")).format(label=label, value=value)


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
