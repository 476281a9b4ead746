"""What the screens need from the rest of the kiosk, as one protocol and plain values.

The composition root (`kiosk.app.KioskServices`) adapts the check-in engine, the directory
and the devices to `KioskServices`; tests may pass small fakes. Screens call these and
nothing below them: no storage, network or device driver is imported under `kiosk.ui`.

Errors: the services raise the domain's own errors (`kiosk.domain.errors`): TokenRejected
with a RejectReason, CheckInRefused with a RefusalReason, InvalidInput with the field, and
NotFound. The screens turn each into a polite, specific sentence and never show the detail.

Threads: every method is called on the UI thread and returns quickly (one small
transaction), except those taking a callback, whose callback runs on a device thread; the
UI hands it over with `Clock.schedule_once` before touching a widget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from kiosk.domain.values import OnSiteEntry, Purpose, TodaySummary

CodeKind = Literal[
    "invitation", "badge", "case_receipt", "document", "unreadable_document", "other", "parcel"
]
CheckInOutcome = Literal["checked_in", "awaiting_approval", "host_absent"]
AfterHours = Literal["closed", "appointments_only", "open"]


@dataclass(frozen=True)
class Steps:
    """What a visit needs before its badge is printed (from its visitor type)."""

    visitor_type: str
    photo: bool = False
    agreement_id: str | None = None
    escort: bool = False


@dataclass(frozen=True)
class Agreement:
    title: str
    text: str


@dataclass(frozen=True)
class Document:
    """What was read off an identity document; the number only as hash and last four."""

    name: str
    document_hash: str
    document_last4: str
    expired: bool


#: Why a card laid on the ID card reader gave no document: "misread" (lay it flat and
#: still, and try again), "invalid" (its data does not check out), "unsupported" (a card
#: kind the kiosk does not read), "reader" (the reader failed: see reception).
CardProblemKind = Literal["misread", "invalid", "unsupported", "reader"]


@dataclass(frozen=True)
class CardRead:
    """A card laid on the ID card reader: its document, or the problem (never both)."""

    document: Document | None
    problem: CardProblemKind | None = None


@dataclass(frozen=True)
class ScannedCode:
    """A code the camera saw, classified; `document` is set for identity documents."""

    kind: CodeKind
    text: str
    document: Document | None = None


@dataclass(frozen=True)
class InvitationView:
    visitor_name: str
    host_name: str
    starts_at: datetime | None  # local time at the site
    host_available: bool
    steps: Steps
    host_ref: str = ""


@dataclass(frozen=True)
class AppointmentView:
    appointment_ref: str
    visitor_name: str
    host_name: str
    starts_at: datetime  # local time at the site
    steps: Steps


@dataclass(frozen=True)
class HostChoice:
    ref: str
    name: str
    department: str
    available: bool


@dataclass
class VisitorForm:
    """What the visitor typed or an identity document gave; plain data the screens edit."""

    name: str = ""
    company: str = ""
    phone: str = ""
    host_ref: str = ""
    host_name: str = ""
    purpose: Purpose = Purpose.VISIT_PERSON
    companions: int = 0
    items_declared: str = ""
    document_hash: str | None = None
    document_last4: str = ""
    document_expired: bool = False
    #: The name was read off an identity card: shown, not editable.
    name_from_card: bool = False


@dataclass
class Captured:
    photo_jpeg: bytes | None = None
    signature_png: bytes | None = None
    agreement_language: str = "en"


@dataclass(frozen=True)
class CheckInDone:
    outcome: CheckInOutcome
    visit_ref: str | None
    host_name: str
    escort: bool = False


NoticeState = Literal["sending", "sent", "retrying", "nobody"]
NoticeParty = Literal["host", "delegate", "reception", ""]
ChannelKind = Literal["email", "wecom", "dingtalk", "feishu", "sms", "chat", "webhook", ""]


@dataclass(frozen=True)
class HostNotice:
    """How the person told of a visitor's arrival was told, as far as the kiosk knows.

    state: "sending" (queued, not sent yet), "sent", "retrying" (a send failed: kept and
    retried, e.g. until the network is back) or "nobody" (no channel for the host nor for
    reception: the guard's screen has an alert instead). party: who is (being) told;
    name: the host's or delegate's name ("" for reception); channel: how, by kind.
    """

    state: NoticeState
    party: NoticeParty = ""
    name: str = ""
    channel: ChannelKind = ""


@dataclass(frozen=True)
class BadgeView:
    """What a guard sees for a valid badge (times local to the site)."""

    visitor_name: str
    company: str
    host_name: str
    arrived_at: datetime | None
    expires_at: datetime
    escort: bool
    photo_jpeg: bytes | None


AlertKind = Literal[
    "watchlist",
    "badge_forged",
    "badge_refused",
    "invitation_used_twice",
    "nobody_to_notify",
    "office_forged",
    "badge_not_printed",
    "printer",
    "camera",
    "other",
]


@dataclass(frozen=True)
class Alert:
    """One line of the guard's alerts: what happened, when (local), and whom or what it
    concerns (the visitor's name; a device's problem)."""

    kind: AlertKind
    at: datetime  # local
    subject: str = ""


@dataclass(frozen=True)
class DeviceStatus:
    camera: str  # "ok", "lost", "off"
    printer: str  # "ok", "problem", "unknown"
    printer_detail: str
    paper_low: bool
    unsent_events: int
    failed_jobs: int
    office: bool = False  # enrolled with an office (else nothing is "not synced")
    sync_last_success: str = ""  # local time, or "" when never
    sync_last_error: str = ""  # the office link's last error, "" when none


@dataclass(frozen=True)
class Setting:
    """One line of the admin's summary of the settings, as data the screen puts in words
    (kiosk.ui.flow.setting_words): `key` says which, `value` is the site's own text ("" for
    none: no office, no channel, no PIN)."""

    key: str
    value: str


@dataclass(frozen=True)
class VisitLine:
    visit_ref: str
    visitor_name: str
    host_name: str
    state: str
    arrived_at: datetime | None
    has_badge: bool


@dataclass(frozen=True)
class Frame:
    """One camera picture for the preview: raw pixels in a Kivy colour format."""

    width: int
    height: int
    pixels: bytes
    colorfmt: Literal["bgr", "luminance"]


@dataclass
class PinResult:
    ok: bool
    locked_for_s: float = 0.0
    attempts_left: int = 0
    not_set: bool = False


class WelcomeServices(Protocol):
    """The welcome screen's view of the site and of today's visits.

    `languages` are catalogue names (`zh_Hans`, `zh_Hant`, `en`), first one shown at
    start. `greeting` and `closed_message` return the building's own words in a language
    of `languages`. `today_summary` is called on the UI thread every few seconds, so it
    must return quickly (one small query); an exception is logged and the figures are
    shown as unavailable until the next call succeeds.
    """

    site_name: str
    languages: list[str]
    #: The visit purposes offered first (Purpose values); the others are under "More".
    common_purposes: list[str]

    def greeting(self, language: str) -> str: ...

    def today_summary(self) -> TodaySummary: ...

    def closed_message(self, language: str) -> str: ...


@dataclass(frozen=True)
class HostResponse:
    """What the host answered: kind is "acknowledged", "approved" or "denied";
    responder_name is "" when reception answered."""

    kind: Literal["acknowledged", "approved", "denied"]
    responder_name: str = ""


class KioskServices(WelcomeServices, Protocol):
    """Everything the visitor, guard and admin screens call."""

    after_hours: AfterHours
    idle_timeout_s: float

    def release_memory(self) -> None:
        """Between visitors: drop what only a visit needed (caches of the devices)."""
        ...

    def host_response(self, visit_ref: str) -> HostResponse | None:
        """None until the host (or reception) answers; a quick read, polled by the screen."""
        ...

    def host_notice(self, visit_ref: str) -> HostNotice:
        """Whether and how the host (or whoever stands in) has been told of the visit; a
        quick read, polled by the done screen until it is "sent" or "nobody"."""
        ...

    # -- the camera: a code callback runs on the camera's thread
    def start_camera(self, on_code: Callable[[ScannedCode], None]) -> None: ...

    def stop_camera(self) -> None: ...

    def preview_frame(self) -> Frame | None: ...

    # -- the ID card reader: polls only between start and stop; `on_card` runs on its thread
    def start_card_reader(self, on_card: Callable[[CardRead], None]) -> None: ...

    def stop_card_reader(self) -> None: ...

    def take_photo(self) -> bytes | None:
        """A JPEG of the camera's latest picture; None when there is none."""
        ...

    # -- checking in
    def preview_invitation(self, text: str) -> InvitationView: ...

    def check_in_with_invitation(
        self, text: str, captured: Captured, *, proceed_if_absent: bool
    ) -> CheckInDone: ...

    def read_id_number(self, number: str) -> Document: ...

    def match_identity(self, name: str, document_hash: str | None) -> list[AppointmentView]: ...

    def check_in_appointment(
        self,
        appointment_ref: str,
        form: VisitorForm,
        captured: Captured,
        *,
        proceed_if_absent: bool,
    ) -> CheckInDone: ...

    def search_hosts(self, query: str) -> list[HostChoice]: ...

    def pinyin_candidates(
        self,
        typed: str,
        script: Literal["simplified", "traditional"],
        limit: int,
        names: bool = False,
    ) -> list[tuple[str, int]]:
        """What typed pinyin may spell, words first (whole names before them with `names`,
        for a person's name): (text, how many typed letters it replaces). Loads the
        dictionaries on the first call after `release_memory`."""
        ...

    def steps_for(self, purpose: Purpose) -> Steps: ...

    def check_in_walk_in(
        self, form: VisitorForm, captured: Captured, *, proceed_if_absent: bool
    ) -> CheckInDone: ...

    def leave_message(self, form: VisitorForm, contact: str, message: str) -> None: ...

    def agreement(self, agreement_id: str, language: str) -> Agreement: ...

    def visitor_type_label(self, visitor_type: str, language: str) -> str: ...

    # -- the badge: `on_done(printed)` runs on the print queue's thread; its words and
    # date in `language` (the visitor's) unless the site prints every badge in one
    def print_badge(
        self, visit_ref: str, on_done: Callable[[bool], None], language: str = ""
    ) -> None: ...

    # -- checking out
    def check_out_with_badge(self, text: str) -> str: ...

    def find_on_site(self, name: str) -> list[OnSiteEntry]: ...

    def check_out(self, visit_ref: str) -> None: ...

    def rate_visit(self, visit_ref: str, score: int, comment: str) -> None: ...

    # -- guards and admins
    def check_pin(self, role: Literal["guard", "admin"], pin: str) -> PinResult: ...

    def verify_badge(self, text: str) -> BadgeView: ...

    def on_site(self) -> list[OnSiteEntry]: ...

    def print_roll_call(self) -> bool: ...

    def recent_alerts(self) -> list[Alert]: ...

    def syncs_with_office(self) -> bool:
        """Enrolled with an office: only then is a visit "not synced" worth a word."""
        ...

    def device_status(self) -> DeviceStatus: ...

    def saved_theme(self) -> str:
        """The palette staff chose last ("standard" if none), kept across restarts."""
        ...

    def save_theme(self, theme: str) -> None: ...

    def print_test_page(self) -> bool: ...

    def todays_visits(self) -> list[VisitLine]: ...

    def settings_summary(self) -> list[Setting]: ...
