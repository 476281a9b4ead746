"""What a reporter submits at the kiosk, checked before anything is written (issue 19).

`check_report` raises InvalidInput naming the field and the problem, in words a person at
the kiosk (or a script's author) can act on; nothing is stored for a refused report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.config.cases import CASE_KINDS, CasesConfig
from kiosk.domain.errors import InvalidInput
from kiosk.domain.text import NAME_MAX, PHONE_MAX, check_text

URGENCIES = ("normal", "urgent")
LANGUAGES = ("en", "zh_CN", "zh_TW")
FOLLOW_UP_OUTCOMES = ("satisfied", "not_satisfied")
DESCRIPTION_MAX = 4000
NOTE_MAX = 1000
PLACE_MAX = 100
PLACE_TEXT_MAX = 500
PHOTO_MAX_BYTES = 150 * 1024


@dataclass(frozen=True)
class Place:
    building: str = ""
    floor: str = ""
    unit: str = ""
    text: str = ""


@dataclass(frozen=True)
class Reporter:
    name: str = ""
    unit: str = ""
    phone: str = ""

    @property
    def empty(self) -> bool:
        return not (self.name.strip() or self.unit.strip() or self.phone.strip())


@dataclass(frozen=True)
class CaseReport:
    """One submission. `submission_key` is the form's own id: the same key twice is one case."""

    submission_key: str
    kind: str
    description: str
    place: Place = field(default_factory=Place)
    reporter: Reporter = field(default_factory=Reporter)
    urgency: str = "normal"
    category: str = ""
    language: str = "en"
    #: Whether the reporter agreed on screen to a photo; without it no photo is kept.
    photo_agreed: bool = False
    photo_jpeg: bytes | None = None


def check_description(text: str, name: str = "description", limit: int = DESCRIPTION_MAX) -> str:
    """1..limit characters; the only control character allowed is a line break."""
    if isinstance(text, str) and "\t" in text:
        raise InvalidInput(name, "contains a control character (tab); only line breaks are allowed")
    return check_text(text, name, max_length=limit, required=name == "description", multiline=True)


def check_photo(report: CaseReport) -> bytes | None:
    if report.photo_jpeg is None:
        return None
    if not report.photo_agreed:
        raise InvalidInput("photo", "the reporter did not agree to a photo; none is kept")
    jpeg = report.photo_jpeg
    if not (jpeg.startswith(b"\xff\xd8\xff") and jpeg.rstrip(b"\x00").endswith(b"\xff\xd9")):
        raise InvalidInput("photo", "is not a JPEG picture")
    if len(jpeg) > PHOTO_MAX_BYTES:
        raise InvalidInput("photo", f"is {len(jpeg) // 1024} KB; at most 150 KB is kept")
    return jpeg


def check_report(report: CaseReport, config: CasesConfig) -> None:
    """Refuse a report that cannot become a case (InvalidInput says which field and why)."""
    check_text(report.submission_key, "submission_key", max_length=64, required=True)
    if report.kind not in CASE_KINDS:
        raise InvalidInput("kind", f"must be one of {', '.join(CASE_KINDS)}")
    if report.urgency not in URGENCIES:
        raise InvalidInput("urgency", f"must be one of {', '.join(URGENCIES)}")
    if report.language not in LANGUAGES:
        raise InvalidInput("language", f"must be one of {', '.join(LANGUAGES)}")
    if report.kind == "repair":
        if report.category not in config.categories:
            raise InvalidInput("category", f"must be one of {', '.join(config.categories)}")
    elif report.category:
        raise InvalidInput("category", "only a repair has a category")
    check_description(report.description)
    for name in ("building", "floor", "unit"):
        check_text(getattr(report.place, name), f"place.{name}", max_length=PLACE_MAX)
    check_text(report.place.text, "place.text", max_length=PLACE_TEXT_MAX)
    check_text(report.reporter.name, "reporter.name", max_length=NAME_MAX)
    check_text(report.reporter.unit, "reporter.unit", max_length=PLACE_MAX)
    check_text(report.reporter.phone, "reporter.phone", max_length=PHONE_MAX)
    if report.kind != "suggestion" and not (
        report.reporter.name.strip() and report.reporter.phone.strip()
    ):
        raise InvalidInput("reporter", "a name and a phone number are needed to respond")
    check_photo(report)


def unit_known(unit: str, config: CasesConfig) -> bool:
    """Whether the unit typed is one of the site's; an unknown one is kept, flagged."""
    wanted = unit.strip().casefold()
    return bool(wanted) and wanted in {known.strip().casefold() for known in config.units}
