"""What crosses the deliveries engine's boundary: the parcel being logged, what the label
shows, why a pickup was refused, and the checks on the courier's input."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kiosk.domain.errors import InvalidInput, KioskError
from kiosk.domain.text import check_text

KINDS = ("parcel", "documents", "food", "flowers", "other")
WAYBILL_MAX = 64
COMPANY_MAX = 120
COLLECTOR_MAX = 80


class ParcelState(StrEnum):
    WAITING = "waiting"
    COLLECTED = "collected"
    RETURNED = "returned"


class PickupRefusal(StrEnum):
    """Why a pickup was refused; values are stable (logs, JSON, the screen's words)."""

    FORGED = "forged"
    EXPIRED = "expired"
    REVOKED = "revoked"
    OTHER_SITE = "other_site"
    UNKNOWN_CODE = "unknown_code"
    ALREADY_COLLECTED = "already_collected"
    RETURNED = "returned"
    NOT_A_PICKUP = "not_a_pickup"


class PickupRefused(KioskError):
    def __init__(self, reason: PickupRefusal, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}")

    def __reduce__(self) -> tuple[object, ...]:
        return type(self), (self.reason, self.detail)


class AmbiguousCode(KioskError):
    """A typed code that two waiting parcels share (two kiosks logged offline): the person
    picks the recipient, then calls again with `parcel_ref`."""

    def __init__(self, choices: list[tuple[str, str]]) -> None:
        self.choices = choices  # (parcel_ref, recipient shown)
        super().__init__(f"{len(choices)} parcels have this code: choose the recipient")


@dataclass(frozen=True)
class NewParcel:
    """What the courier gave: a host (`host_ref`) or a company, and the parcel."""

    kind: str
    carrier: str
    items: int = 1
    host_ref: str = ""
    company: str = ""
    waybill: str = ""
    photo_jpeg: bytes | None = None


@dataclass(frozen=True)
class ParcelView:
    """A parcel as the label, the screen and the CLI show it."""

    parcel_ref: str
    pickup_code: str
    recipient: str
    host_ref: str
    company: str
    kind: str
    carrier: str
    items: int
    waybill: str
    shelf: str
    state: str
    recipient_left: bool
    logged_at: datetime
    token: str
    token_id: str
    collected_at: datetime | None = None
    collected_by: str = ""
    method: str = ""


def check_new_parcel(parcel: NewParcel, carriers: list[str]) -> None:
    """Raise InvalidInput naming the field and why; accepts what the contract accepts."""
    if parcel.kind not in KINDS:
        raise InvalidInput("kind", f"{parcel.kind!r} is not a kind ({', '.join(KINDS)})")
    if parcel.carrier not in carriers:
        raise InvalidInput(
            "carrier", f"unknown carrier {parcel.carrier!r} (known: {', '.join(carriers)})"
        )
    if isinstance(parcel.items, bool) or not isinstance(parcel.items, int):
        raise InvalidInput("items", "must be a whole number")
    if not 1 <= parcel.items <= 99:
        raise InvalidInput("items", f"{parcel.items} items: between 1 and 99")
    if bool(parcel.host_ref) == bool(parcel.company.strip()):
        raise InvalidInput("recipient", "give a host or a company, one of the two")
    check_text(parcel.company, "company", max_length=COMPANY_MAX)
    check_waybill(parcel.waybill)


class WaybillProblem(StrEnum):
    """Why a waybill number (scanned or typed) is refused; the screens say each in words."""

    TOO_LONG = "too_long"
    UNPRINTABLE = "unprintable"  # a control character, a tab, a line break
    BLANK = "blank"


def waybill_problem(waybill: str) -> WaybillProblem | None:
    """What is wrong with `waybill` ("" is no waybill, and fine), or None."""
    if not waybill:
        return None
    if not waybill.isprintable():
        return WaybillProblem.UNPRINTABLE
    if len(waybill) > WAYBILL_MAX:
        return WaybillProblem.TOO_LONG
    if not waybill.strip():
        return WaybillProblem.BLANK
    return None


_WAYBILL_WORDS = {
    WaybillProblem.TOO_LONG: "is {count} characters long, at most " + str(WAYBILL_MAX),
    WaybillProblem.UNPRINTABLE: "contains characters that cannot be printed",
    WaybillProblem.BLANK: "is only spaces",
}


def check_waybill(waybill: str) -> str:
    problem = waybill_problem(waybill)
    if problem is WaybillProblem.UNPRINTABLE:  # the text check names the character (ESC...)
        check_text(waybill, "waybill", max_length=max(len(waybill), 1))
    if problem is not None:
        raise InvalidInput("waybill", _WAYBILL_WORDS[problem].format(count=len(waybill)))
    check_text(waybill, "waybill", max_length=WAYBILL_MAX)
    return waybill
