"""The text a resident-ID card reader returns, parsed in memory: three kinds of card.

The base information is 256 bytes of UCS-2 little-endian text in fixed-width fields, each
padded with spaces. Which layout applies is said by the two bytes at offset 248 (the last
bytes of the resident card's reserved tail): "I" for the Foreign Permanent Resident ID
Card (2017 layout), "J" for the Residence Permit for Hong Kong, Macao and Taiwan
Residents, a space (or nothing) for the resident identity card. Offsets are in bytes.

    resident card (居民身份证)      name 0/30, sex 30/2, ethnicity 32/4, birth date 36/16,
                                    address 52/70, number 122/36, authority 158/30,
                                    valid from 188/16, valid until 204/16 (or 长期),
                                    reserved 220/36
    permanent resident (I)          English name 0/120, sex 120/2, card number 122/30,
                                    nationality 152/6 (GB/T 2659 alpha-3), Chinese name
                                    158/30, valid from 188/16, valid until 204/16, birth
                                    date 220/16, version 236/4, authority code 240/8,
                                    card type 248/2, reserved 250/6
    residence permit (J)            as the resident card (no ethnicity: reserved 32/4),
                                    then pass number 220/18, number of issues 238/4,
                                    reserved 242/6, card type 248/2, reserved 250/6

`parse_card_text` checks what a person could not: the text is valid UCS-2 without control
characters, every date is a date, the number's GB 11643 check character (resident card
and permit) and that the birth date agrees with the number. The address is never
decoded into the result: it is skipped over, like the photo before it reaches here.
A `ResidentCard` holds the number in clear only in memory; what the kiosk keeps of it is
`kiosk.domain.identity`'s keyed hash and the last four characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from kiosk.domain.errors import InvalidInput

TEXT_LENGTH = 256
CARD_TYPE_AT = 248
#: What a card says instead of an expiry date: valid for life.
LONG_TERM = "长期"


class CardKind(StrEnum):
    RESIDENT = "cn_resident_card"
    PERMANENT_RESIDENT = "cn_permanent_resident_card"  # foreigners, "I"
    RESIDENCE_PERMIT = "cn_residence_permit"  # Hong Kong, Macao and Taiwan residents, "J"


class CardProblem(StrEnum):
    """Why a card's text was refused. Stable values: logs, JSON and the screen's words."""

    NOT_TEXT = "not_text"  # not valid UCS-2, or not 256 bytes
    CONTROL_CHARACTERS = "control_characters"
    IMPOSSIBLE_DATE = "impossible_date"
    CHECK_CHARACTER = "check_character"
    BIRTH_DATE_MISMATCH = "birth_date_mismatch"
    MISSING_FIELD = "missing_field"
    UNKNOWN_KIND = "unknown_kind"


class CardRejected(InvalidInput):
    """The card's text cannot be trusted; `problem` says why. The message names the field,
    never its contents."""

    def __init__(self, problem: CardProblem | str, message: str) -> None:
        self.problem = CardProblem(problem)
        super().__init__("id_card", message)

    def __reduce__(self) -> tuple[object, ...]:
        return type(self), (self.problem.value, self.message)


#: (field, byte offset, byte length) per kind; the layouts of the module docstring.
LAYOUTS: dict[CardKind, tuple[tuple[str, int, int], ...]] = {
    CardKind.RESIDENT: (
        ("name", 0, 30),
        ("sex", 30, 2),
        ("ethnicity", 32, 4),
        ("birth_date", 36, 16),
        ("address", 52, 70),
        ("number", 122, 36),
        ("authority", 158, 30),
        ("valid_from", 188, 16),
        ("valid_until", 204, 16),
    ),
    CardKind.PERMANENT_RESIDENT: (
        ("english_name", 0, 120),
        ("sex", 120, 2),
        ("number", 122, 30),
        ("nationality", 152, 6),
        ("name", 158, 30),
        ("valid_from", 188, 16),
        ("valid_until", 204, 16),
        ("birth_date", 220, 16),
        ("version", 236, 4),
        ("authority", 240, 8),
    ),
    CardKind.RESIDENCE_PERMIT: (
        ("name", 0, 30),
        ("sex", 30, 2),
        ("birth_date", 36, 16),
        ("address", 52, 70),
        ("number", 122, 36),
        ("authority", 158, 30),
        ("valid_from", 188, 16),
        ("valid_until", 204, 16),
        ("pass_number", 220, 18),
        ("issues", 238, 4),
    ),
}
#: Never decoded: read past, as the photo is.
NEVER_READ = frozenset({"address"})


@dataclass(frozen=True)
class ResidentCard:
    """One card's text, checked. `number` is in clear: keep it only as hash and last four."""

    kind: CardKind
    name: str  # the Chinese name (a foreigner's card may have none: "")
    english_name: str  # foreigners' cards only
    sex_code: str  # GB/T 2261.1: 1 male, 2 female, 0 unknown, 9 unspecified
    ethnicity_code: str  # GB 3304, "01".."56" (resident card only, else "")
    nationality_code: str  # GB/T 2659 alpha-3 ("CHN" for resident cards and permits)
    birth_date: date
    number: str
    authority: str
    valid_from: date
    valid_until: date | None  # None: 长期, valid for life
    pass_number: str = ""  # residence permit: the travel permit's number
    issues: int = 0  # residence permit: how many times it was issued

    @property
    def display_name(self) -> str:
        """The name the kiosk keeps: a foreigner's legal name is the English one, printed
        "FAMILY, GIVEN" on the card and kept "Given Family" as other documents' names."""
        if self.kind is CardKind.PERMANENT_RESIDENT and self.english_name:
            family, _, given = self.english_name.partition(",")
            words = f"{given.strip()} {family.strip()}".strip()
            return words.title() if words.isupper() else words
        return self.name

    @property
    def last_four(self) -> str:
        return self.number[-4:]

    def expired(self, today: date) -> bool:
        """Valid through its last day."""
        return self.valid_until is not None and self.valid_until < today


# ---------------------------------------------------------------- GB 11643-1999

_GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_GB11643_CHECK = "10X98765432"


def gb11643_check_char(first17: str) -> str:
    """The 18th character: ISO 7064 MOD 11-2 over the first 17 digits."""
    if not re.fullmatch(r"\d{17}", first17):
        raise InvalidInput("id_number", "the first 17 characters must be digits")
    total = sum(int(d) * w for d, w in zip(first17, _GB11643_WEIGHTS, strict=True))
    return _GB11643_CHECK[total % 11]


# ---------------------------------------------------------------- parsing


def card_kind(text: bytes) -> CardKind:
    """The layout the card type bytes (offset 248) announce."""
    marker = text[CARD_TYPE_AT : CARD_TYPE_AT + 2]
    if marker == "I".encode("utf-16-le"):
        return CardKind.PERMANENT_RESIDENT
    if marker == "J".encode("utf-16-le"):
        return CardKind.RESIDENCE_PERMIT
    if marker in (b" \x00", b"\x00\x00", b"\xff\xff"):
        return CardKind.RESIDENT
    raise CardRejected(CardProblem.UNKNOWN_KIND, "a card of a kind this kiosk does not read")


def _field(text: bytes, name: str, offset: int, length: int) -> str:
    raw = text[offset : offset + length]
    try:
        value = raw.decode("utf-16-le")
    except UnicodeDecodeError as err:
        raise CardRejected(CardProblem.NOT_TEXT, f"the {name} field is not UCS-2 text") from err
    if any(0xD800 <= ord(char) <= 0xDFFF or char == "\ufffd" for char in value):
        raise CardRejected(CardProblem.NOT_TEXT, f"the {name} field is not UCS-2 text")
    value = value.rstrip(" \x00\u3000").lstrip(" \u3000")
    if any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in value):
        raise CardRejected(
            CardProblem.CONTROL_CHARACTERS, f"the {name} field holds control characters"
        )
    return value


def _date(value: str, name: str) -> date:
    if not re.fullmatch(r"\d{8}", value):
        raise CardRejected(CardProblem.IMPOSSIBLE_DATE, f"the {name} is not a date")
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError as err:
        raise CardRejected(CardProblem.IMPOSSIBLE_DATE, f"the {name} is not a date") from err


def _check_gb11643(number: str) -> None:
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise CardRejected(CardProblem.CHECK_CHARACTER, "the number is not 17 digits and a check")
    if gb11643_check_char(number[:17]) != number[17]:
        raise CardRejected(CardProblem.CHECK_CHARACTER, "the number's check character is wrong")


def _birth_in_number(kind: CardKind, number: str) -> str:
    """YYYYMMDD as the number carries it."""
    if kind is CardKind.PERMANENT_RESIDENT:
        # 2017 layout: 3 letters of nationality, 2 digits of the accepting office, YYMMDD,
        # then a sequence and a check (not public: not verified here).
        if not re.fullmatch(r"[A-Z]{3}\d{12}", number):
            raise CardRejected(CardProblem.CHECK_CHARACTER, "the card number is malformed")
        return number[5:11]
    _check_gb11643(number)
    return number[6:14]


def parse_card_text(text: bytes, today: date) -> ResidentCard:
    """The checked contents of a card's 256-byte text; CardRejected says what is wrong."""
    if len(text) != TEXT_LENGTH:
        raise CardRejected(CardProblem.NOT_TEXT, f"card text of {len(text)} bytes, not 256")
    kind = card_kind(text)
    fields = {
        name: _field(text, name, offset, length)
        for name, offset, length in LAYOUTS[kind]
        if name not in NEVER_READ
    }
    for required in ("sex", "birth_date", "number", "valid_from", "valid_until"):
        if not fields[required]:
            raise CardRejected(CardProblem.MISSING_FIELD, f"the card has no {required}")
    if not (fields["name"] or fields.get("english_name")):
        raise CardRejected(CardProblem.MISSING_FIELD, "the card has no name")
    number = fields["number"].upper()
    birth = _date(fields["birth_date"], "birth date")
    if birth > today or birth.year < 1880:
        raise CardRejected(CardProblem.IMPOSSIBLE_DATE, "the birth date is impossible")
    in_number = _birth_in_number(kind, number)
    if birth.strftime("%Y%m%d")[-len(in_number) :] != in_number:
        raise CardRejected(CardProblem.BIRTH_DATE_MISMATCH, "birth date and number disagree")
    valid_from = _date(fields["valid_from"], "start of validity")
    valid_until = (
        None if fields["valid_until"] == LONG_TERM else _date(fields["valid_until"], "expiry")
    )
    if valid_until is not None and valid_until < valid_from:
        raise CardRejected(CardProblem.IMPOSSIBLE_DATE, "the card expires before it starts")
    issues = fields.get("issues", "")
    if issues and not issues.isdigit():
        raise CardRejected(CardProblem.MISSING_FIELD, "the number of issues is not a number")
    return ResidentCard(
        kind=kind,
        name=fields["name"],
        english_name=fields.get("english_name", ""),
        sex_code=fields["sex"],
        ethnicity_code=fields.get("ethnicity", ""),
        nationality_code=fields.get("nationality", "CHN"),
        birth_date=birth,
        number=number,
        authority=fields["authority"],
        valid_from=valid_from,
        valid_until=valid_until,
        pass_number=fields.get("pass_number", ""),
        issues=int(issues) if issues else 0,
    )
