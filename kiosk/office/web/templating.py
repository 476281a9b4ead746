"""Jinja2 for the office pages, in zh_Hans, zh_Hant and English.

Each language has its own template environment (built once, cached), with the office's
gettext catalogue installed, so `{{ _("...") }}` in a template speaks the reader's language
and concurrent requests in different languages never share a translation. The catalogue is
`locale/<language>/LC_MESSAGES/office.po`, compiled to `office.mo` beside it (both
committed), extracted with Babel from this package (`make i18n`, `babel.cfg`); it falls back
to the notification catalogue (kiosk.notify, which has the link pages' words) and then to
the English source text.

Words made in Python are marked with `N_` where they are defined and translated where
they are shown. Stored values never go through `_()`, which reads its message as a
%-format and marks the result safe: a code is shown with `label(kind, code)`, whose words
come from the fixed tables of kiosk.office.web.labels, and free text is shown as it is.

Messages that come up from the layers below (a form field refused by
kiosk.office.directory or kiosk.office.bookings, a CSV row's problem, a broken event chain)
are English sentences built there; `Translator.problem` matches them against the
templates in PROBLEMS and translates them, the reader's language or, for one it does not
know, the English as it came.
"""

from __future__ import annotations

import gettext
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from kiosk.notify.i18n import LANGUAGES, N_, pick_language
from kiosk.notify.i18n import catalogue as notify_catalogue
from kiosk.office.web.labels import LABELS

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "office"
#: The language of anyone the office knows nothing about (no account, no Accept-Language).
DEFAULT_LANGUAGE = "en"
HTML_LANG = {"zh_Hans": "zh-Hans", "zh_Hant": "zh-Hant", "en": "en"}
#: Each language in its own words, for the language switches.
ENDONYMS = {"zh_Hans": "简体中文", "zh_Hant": "繁體中文", "en": "English"}

__all__ = ["LANGUAGES", "N_", "pick_language"]

WEEKDAYS = (
    N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
    N_("Saturday"), N_("Sunday"),
)  # fmt: skip
SHORT_WEEKDAYS = (
    N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"),
)  # fmt: skip
MONTHS = (
    N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
    N_("July"), N_("August"), N_("September"), N_("October"), N_("November"),
    N_("December"),
)  # fmt: skip

#: The form fields named in the lower layers' messages, as a reader knows them.
FIELDS = {
    "name": N_("Name"), "department": N_("Department"), "email": N_("E-mail"),
    "phone": N_("Phone"), "availability": N_("Availability"), "delegate": N_("Delegate"),
    "delegate_email": N_("Delegate's e-mail"), "channels": N_("Notification channels"),
    "document_number": N_("Identity document number"), "reason": N_("Reason"),
    "username": N_("User name"), "display_name": N_("Display name"), "role": N_("Role"),
    "host_ref": N_("Host"), "host": N_("Host"), "host_email": N_("Host's e-mail"),
    "password": N_("Password"), "user": N_("User"), "timezone": N_("Time zone"),
    "address": N_("Address"), "what_to_bring": N_("What to bring"),
    "reception": N_("Reception"), "security": N_("Security"), "vip": N_("VIP visits"),
    "visitor_details_days": N_("Visitor details"), "events_days": N_("Kiosk events"),
    "audit_days": N_("Audit"), "kiosk": N_("Kiosk"), "visitor_name": N_("Visitor's name"),
    "company": N_("Company"), "starts_at": N_("Date and time"), "ends_at": N_("Duration"),
    "purpose": N_("Purpose"), "level": N_("Visitor level"), "visitor_type": N_("Visitor type"),
    "repeat": N_("Repeat"), "count": N_("Number of visits"), "until": N_("Repeat until"),
    "appointment": N_("Appointment"), "email_address": N_("E-mail"), "file": N_("File"),
}  # fmt: skip

#: The English messages of kiosk.domain.text, kiosk.office.{directory,bookings,staff,
#: reporting,invitations} and pydantic that the pages show, as templates: `%(problem)s`
#: and `%(message)s` are themselves such messages, `%(field)s` a key of FIELDS. The first
#: template that matches a whole message wins, so the general ones come last. A message
#: changed down there without its template here is shown in English (the page tests
#: catch the common ones).
PROBLEMS = (
    N_("line %(line)s: %(problem)s"),
    N_("is required"),
    N_("must be text"),
    N_("is %(length)s characters long; at most %(most)s fit"),
    N_("contains a control character (%(char)s) at position %(position)s"),
    N_("contains a broken character (lone surrogate) at position %(position)s"),
    N_("contains a non-character (%(char)s) at position %(position)s"),
    N_("has no digits"),
    N_("is not an e-mail address"),
    N_("%(url)s is not a channel URL apprise knows"),
    N_("at most %(count)s channels"),
    N_("must be in, out or in_meeting"),
    N_("a host cannot be their own delegate"),
    N_("is not an active host of this site"),
    N_("the file is larger than %(size)s bytes"),
    N_("the file is larger than %(size)s KiB"),
    N_("is not UTF-8: save the file as CSV UTF-8"),
    N_("the first line must name the columns, with name"),
    N_("unknown columns %(unknown)s; known: %(known)s"),
    N_("at most %(count)s rows an import"),
    N_("has more cells than the header has columns"),
    N_("email: %(email)s is also on line %(line)s"),
    N_("delegate_email: no host has the address %(email)s"),
    N_("delegate_email: a host cannot be their own"),
    N_("the file has no hosts"),
    N_("has no letters or digits"),
    N_("must be admin, reception, security or host"),
    N_("you cannot deactivate your own account"),
    N_("%(value)s is not a time zone name"),
    N_("is already revoked"),
    N_("must be one of %(choices)s"),
    N_("needs a number of visits or an end date"),
    N_("must be between 1 and %(most)s"),
    N_("is before the first visit"),
    N_("makes more than %(most)s visits"),
    N_("needs a time zone"),
    N_("must be after the start"),
    N_("a visit lasts at most 24 hours"),
    N_("is in the past"),
    N_("a series starts from one visit"),
    N_("makes no visits"),
    N_("has no visits"),
    N_("is already cancelled"),
    N_("the visitor has already arrived"),
    N_("the file has no visits"),
    N_("the file has more than %(most)s visits; split it"),
    N_("missing column(s): %(missing)s (expected: %(expected)s)"),
    N_("not an iCalendar file: %(detail)s"),
    N_("repeating events are not imported: book a series instead"),
    N_("no visitor: every attendee is a host"),
    N_("%(address)s has no name (CN)"),
    N_("%(value)s is not a date and time (YYYY-MM-DD HH:MM)"),
    N_("no active host has the address %(address)s"),
    N_("you may only book your own visitors"),
    N_("needs a date and a time"),
    N_("is not a choice of the form"),
    N_("must be a whole number"),
    N_("is not a date"),
    N_("the appointment has no e-mail address"),
    N_("is cancelled"),
    N_("letters, digits and . - _ @ only, up to 64"),
    N_("a host account must name its host"),
    N_("must be at least %(count)s characters"),
    N_("is taken"),
    N_("host: choose the host"),
    N_("Input should be greater than or equal to %(limit)s"),
    N_("Input should be less than or equal to %(limit)s"),
    N_("Input should be a valid integer, unable to parse string as an integer"),
    N_("two events carry seq %(seq)s"),
    N_("its payload was changed after it arrived"),
    N_("its fields do not match its hash: it was changed"),
    N_("the first event does not start the chain"),
    N_("it does not follow event %(seq)s: that one was changed or replaced"),
    N_("%(url)s: only an admin may add a webhook"),
    N_(
        "%(url)s: %(address)s is not a public address; the office's settings do not allow "
        "channels on its own network"
    ),
    N_("is not a host of this site"),
    N_("%(field)s: %(message)s"),
)
#: Parts of a message that are messages themselves, or field names.
_NESTED = frozenset({"problem", "message"})


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"%\((\w+)\)s", template)
    regex = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)"
        for index, part in enumerate(parts)
    )
    return re.compile(regex, re.DOTALL)


_PROBLEM_PATTERNS = tuple((template, _pattern(template)) for template in PROBLEMS)


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The office catalogue of `language`, falling back to the notification catalogue and
    then to the English source text."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    office: gettext.NullTranslations
    try:
        with path.open("rb") as file:
            office = gettext.GNUTranslations(file)
    except OSError:
        if language != "en":
            log.warning("no compiled office catalogue for %s: using English", language)
        office = gettext.NullTranslations()
    office.add_fallback(notify_catalogue(language))
    return office


@dataclass(frozen=True)
class Translator:
    """Words in one language, for what a handler says in Python: `_("Saved.")`,
    `_("%(name)s added.", name=name)`."""

    language: str

    def __call__(self, message: str, /, **values: Any) -> str:
        # gettext("") is the catalogue's header: an empty value stays empty.
        text = translations(self.language).gettext(message) if message else ""
        return text % values if values else text

    def problem(self, text: str) -> str:
        """A message from the layers below (see PROBLEMS), in this language."""
        if self.language == "en" or not text:
            return text
        for template, pattern in _PROBLEM_PATTERNS:
            found = pattern.fullmatch(text)
            if found is None:
                continue
            values = found.groupdict()
            if values.get("field", "") not in FIELDS and "field" in values:
                continue  # "x: y" where x is not a field: not this template
            for name, value in values.items():
                if name in _NESTED:
                    values[name] = self.problem(value)
                elif name == "field":
                    values[name] = self.field(value)
            return self(template, **values)
        return text

    def label(self, kind: str, code: object) -> str:
        """The words for a stored code of a kind of LABELS, in this language; a code the
        table does not know as it is (the page escapes it), and none as ""."""
        if code is None:
            return ""
        text = str(code)
        words = LABELS[kind]
        return self(words[text]) if text in words else text

    def field(self, name: str) -> str:
        return self(FIELDS[name]) if name in FIELDS else name

    def duration(self, seconds: float | None) -> str:
        """42 s, 3 min 5 s, 2 h 10 min."""
        _ = self
        if seconds is None:
            return "–"
        seconds = round(seconds)
        if seconds < 60:
            return _("%(s)s s", s=seconds)
        if seconds < 3600:
            return _("%(m)s min %(s)s s", m=seconds // 60, s=seconds % 60)
        return _("%(h)s h %(m)s min", h=seconds // 3600, m=seconds % 3600 // 60)

    def long_date(self, day: date) -> str:
        """Monday 23 November 2026; 2026年11月23日 星期一."""
        _ = self
        return _(
            "%(weekday)s %(day)s %(month)s %(year)s",
            weekday=_(WEEKDAYS[day.weekday()]),
            day=day.day,
            month=_(MONTHS[day.month - 1]),
            year=day.year,
        )

    def short_date(self, day: date) -> str:
        """Mon 23; 周一 23."""
        _ = self
        return _("%(weekday)s %(day)s", weekday=_(SHORT_WEEKDAYS[day.weekday()]), day=day.day)


def local_time(moment: datetime | None, zone: str, pattern: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return "–"
    return moment.astimezone(ZoneInfo(zone)).strftime(pattern)


def duration(seconds: float | None) -> str:
    """42 s, 3 min 5 s, 2 h 10 min."""
    return Translator("en").duration(seconds)


def build_environment(language: str = "en") -> Environment:
    """A new environment speaking `language`; pages use the cached `environment`."""
    words = Translator(language)
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def gettext_(message: str) -> str:
        return words(message)

    env.install_gettext_callables(
        gettext=gettext_,
        ngettext=translations(language).ngettext,
        newstyle=True,
    )
    env.filters["duration"] = words.duration
    env.filters["problem"] = words.problem
    env.globals["label"] = words.label
    env.globals["local_time"] = local_time
    env.globals["long_date"] = words.long_date
    env.globals["language"] = language
    env.globals["html_lang"] = HTML_LANG.get(language, "en")
    return env


@cache
def environment(language: str) -> Environment:
    """The office's template environment speaking `language`, one per language."""
    return build_environment(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def render_string(env: Environment, template: str, context: dict[str, Any]) -> str:
    return env.get_template(template).render(context)
