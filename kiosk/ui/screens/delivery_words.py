"""The words of the delivery screens (issue 20), shared by kiosk.ui.screens.deliveries and
kiosk.ui.screens.delivery_steps: kinds and carriers, why a pickup was refused (with the
engine's who and when), and why a waybill number cannot be kept."""

from __future__ import annotations

import re

from kiosk.ui.deliveries import ParcelRefused
from kiosk.ui.flow import N_
from kiosk.ui.screens.base import KioskScreen

KIND_LABELS = {
    "parcel": N_("Parcel"),
    "documents": N_("Documents"),
    "food": N_("Food"),
    "flowers": N_("Flowers"),
    "other": N_("Something else"),
}

#: The contract's carrier keys; a key the site adds that is not here is shown as typed.
CARRIER_LABELS = {
    "sf": N_("SF Express"),
    "jd": N_("JD Logistics"),
    "ems": N_("EMS"),
    "zto": N_("ZTO Express"),
    "yto": N_("YTO Express"),
    "sto": N_("STO Express"),
    "yunda": N_("Yunda Express"),
    "meituan": N_("Meituan"),
    "eleme": N_("Ele.me"),
    "dhl": N_("DHL"),
    "ups": N_("UPS"),
    "fedex": N_("FedEx"),
    "other": N_("Another carrier"),
}

#: (title, body) for a pickup refused, by its reason (kiosk.services.deliveries'
#: PickupRefusal values); "{who}" and "{when}" come from the engine's detail.
PICKUP_REFUSED: dict[str, tuple[str, str]] = {
    "already_collected": (
        N_("This parcel was already collected"),
        N_("{who} collected it on {when}. Please ask reception if this is wrong."),
    ),
    "returned": (
        N_("This parcel was returned to the sender"),
        N_("It was sent back on {when}. Please ask reception."),
    ),
    "forged": (
        N_("This pickup code is not valid"),
        N_("It was altered or is not one of this building's. Please ask reception."),
    ),
    "expired": (
        N_("This pickup code has expired"),
        N_("Please ask reception for your parcel."),
    ),
    "revoked": (
        N_("This pickup code was cancelled"),
        N_("Please ask reception for your parcel."),
    ),
    "other_site": (
        N_("This parcel is not here"),
        N_("The code belongs to another building. Please collect it there."),
    ),
    "unknown_code": (
        N_("No parcel waits with this code"),
        N_("Please check the six digits in your message, or ask reception."),
    ),
    "not_a_pickup": (
        N_("This is not a pickup code"),
        N_("Please show the QR code from your parcel message."),
    ),
}

#: The engine's detail, its moment already in the site's time (delivery_screen_services).
_COLLECTED = re.compile(r"collected by (?P<who>.+) on (?P<when>\S+ \S+)$")
_RETURNED = re.compile(r" on (?P<when>\d{4}-\d\d-\d\d \d\d:\d\d)$")
CODE_LENGTH = 6


def carrier_label(carrier: str) -> str:
    return CARRIER_LABELS.get(carrier, carrier)


def refusal_words(err: ParcelRefused) -> tuple[str, str, dict[str, str]]:
    """The title, body and arguments for a refused pickup; no internal detail shown."""
    title, body = PICKUP_REFUSED.get(err.reason, PICKUP_REFUSED["forged"])
    args = {"who": "", "when": ""}
    collected = err.reason == "already_collected"
    found = (_COLLECTED if collected else _RETURNED).search(err.detail)
    if found:
        args.update(found.groupdict())
    elif err.reason in ("already_collected", "returned"):
        body = N_("Please ask reception for your parcel.")  # no moment known to say
    return title, body, args


def refuse_pickup(screen: KioskScreen, err: ParcelRefused) -> None:
    title, body, args = refusal_words(err)
    screen.app.notice("warn", title, body, args=args, home=True)


#: What is wrong with a waybill number (the engine's WaybillProblem values), in words;
#: "{count}" is its length, "{limit}" the most allowed.
WAYBILL_PROBLEMS: dict[str, str] = {
    "unprintable": N_(
        "This waybill number has a control character in it (a tab or a line break, for "
        "instance), so it cannot be kept. Please scan it again or type it."
    ),
    "too_long": N_(
        "This waybill number is {count} characters long; at most {limit} fit. Please check "
        "it and type it again."
    ),
    "blank": N_("This waybill number is only spaces. Please type it again."),
}


def hand_over_problem(collector: str, signature_asked: bool, signed: bool) -> str | None:
    """Why a parcel cannot be handed over yet (the words to say), or None: who collects it
    must be typed, and signed for where the site asks (the kiosk's and the guard's alike)."""
    if not collector:
        return N_("Please type who collects the parcel.")
    if signature_asked and not signed:
        return N_("Please sign in the box.")
    return None
