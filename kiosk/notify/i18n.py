"""The notification messages and the link pages in zh_Hans, zh_Hant and English.

Catalogues are gettext files, `locale/<language>/LC_MESSAGES/notify.po`, compiled to
`notify.mo` beside them (both committed), extracted with Babel from this package and the
office's link page (`make i18n`, with `kiosk/notify/babel.cfg`). Languages are named by
script as in the UI (kiosk.ui.i18n), and each catalogue is read once, directly, without
the process locale. Names and companies are never translated: they go in as typed.
"""

from __future__ import annotations

import gettext
import logging
from functools import cache
from pathlib import Path

from kiosk.domain.names import has_han

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "notify"
LANGUAGES = ("zh_Hans", "zh_Hant", "en")


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is used."""
    return message


#: The purposes' words, as the registration forms name them.
PURPOSES = {
    "visit_person": N_("Visit a person"),
    "inquiry": N_("Inquiry"),
    "errand": N_("Business / errand"),
    "assistance": N_("Assistance request"),
    "paid_service": N_("Paid service request"),
    "suggestion": N_("Suggestion"),
    "complaint": N_("Complaint"),
    "repair": N_("Repair request"),
    "move_in": N_("Move-in"),
    "tour": N_("Tour"),
    "delivery": N_("Delivery"),
    "interview": N_("Interview"),
    "works": N_("Building or repair work"),
}
#: Why security is told.
ALERT_REASONS = {
    "watchlist": N_("watchlist"),
    "invitation_used_twice": N_("invitation used twice"),
    "badge_rejected": N_("badge refused"),
}
#: Why a guard's scan refused a badge (kiosk.domain.errors.RejectReason values).
BADGE_REFUSALS = {
    "expired": N_("the badge has expired"),
    "checked_out": N_("the visitor has checked out"),
    "unknown_visit": N_("the visit is unknown"),
    "revoked": N_("the badge was revoked"),
    "key_revoked": N_("the badge was revoked"),
    "unknown_key": N_("forged, or from an unknown kiosk"),
    "bad_signature": N_("forged, or from an unknown kiosk"),
    "not_yet_valid": N_("the badge is not valid yet"),
}
DEVICES = {"printer": N_("printer"), "camera": N_("camera")}


def place_name(site: str, kiosk: str, language: str) -> str:
    """Where the kiosk stands, as a message names it: "Lobby kiosk, Riverside Tower" in
    English; the site first in Chinese, run together when both are Chinese (国际大厦一楼大堂)
    and spaced when either is in Latin letters (Riverside Tower 一楼大堂)."""
    if not kiosk:
        return site
    if language == "en":
        return f"{kiosk}, {site}"
    joiner = "" if has_han(site[-1:]) and has_han(kiosk[:1]) else " "
    return f"{site}{joiner}{kiosk}"


@cache
def catalogue(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of `language`; English source strings if it has none."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    try:
        with path.open("rb") as file:
            return gettext.GNUTranslations(file)
    except OSError:
        if language != "en":
            log.warning("no compiled notification catalogue for %s: using English", language)
        return gettext.NullTranslations()


def pick_language(accept_language: str, default: str = "zh_Hans") -> str:
    """The best of LANGUAGES for an HTTP Accept-Language header: zh-TW, zh-HK, zh-MO and
    zh-Hant read Traditional; any other zh Simplified; en English; else `default`."""
    choices: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip().lower().replace("_", "-")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag.startswith("zh"):
            traditional = any(part in tag for part in ("hant", "-tw", "-hk", "-mo"))
            language = "zh_Hant" if traditional else "zh_Hans"
        elif tag.startswith("en"):
            language = "en"
        else:
            continue
        if quality > 0:
            choices.append((-quality, position, language))
    return min(choices)[2] if choices else default
