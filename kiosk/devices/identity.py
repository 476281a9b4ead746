"""Identity documents read on the kiosk, parsed in memory; no image is ever stored.

    parse_aamva(raw, salt)           US/Canadian driving licence or ID card (PDF417, AAMVA
                                     DL/ID Card Design Standard 2000-2020, versions 01-10)
    parse_mrz(text, salt)            passport (TD3, 2x44), ID card (TD1, 3x30) and TD2 (2x36),
                                     ICAO 9303, every check digit verified
    parse_cn_resident_id(n, salt)    Chinese resident identity number (GB 11643-1999, 18 chars)
    (the cards on the ID card reader: kiosk.devices.id_reader and kiosk.domain.resident_card)
    (an MRZ read from a camera frame: kiosk.devices.mrz_ocr.read_mrz_from_frame)

The document number never leaves this module in clear: `IdentityDocument` carries its
HMAC-SHA256 under a caller-supplied salt (`hash_document_number`, shared with the check-in
engine so both hash the same way) and its last four characters, enough for a person to
compare with the card in hand. Everything else is what a receptionist reads off the card.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from kiosk.domain.errors import InvalidInput
from kiosk.domain.identity import hash_document_number, normalise_document_number
from kiosk.domain.resident_card import gb11643_check_char


class DocumentKind(StrEnum):
    AAMVA = "aamva"  # North American driving licence / ID card
    PASSPORT_TD3 = "passport_td3"
    ID_TD1 = "id_td1"
    ID_TD2 = "id_td2"  # 2x36: older ID cards and visas
    CN_RESIDENT_ID = "cn_resident_id"  # a typed resident identity number
    # Cards read on the resident-ID card reader (kiosk.devices.id_reader):
    CN_RESIDENT_CARD = "cn_resident_card"
    CN_PERMANENT_RESIDENT_CARD = "cn_permanent_resident_card"
    CN_RESIDENCE_PERMIT = "cn_residence_permit"


#: Kinds whose names are written family name first, without a space.
_CHINESE_NAMES = frozenset(
    {
        DocumentKind.CN_RESIDENT_ID,
        DocumentKind.CN_RESIDENT_CARD,
        DocumentKind.CN_RESIDENCE_PERMIT,
    }
)


@dataclass(frozen=True)
class IdentityDocument:
    kind: DocumentKind
    family_name: str
    given_names: str
    document_number_hash: str  # hash_document_number(number, salt)
    document_number_last4: str
    birth_date: date | None = None
    expiry: date | None = None  # None: the document (or the number) carries no expiry
    issuer: str = ""  # AAMVA jurisdiction ("CA", "ON"), ICAO state ("UTO"), "CHN"
    sex: str | None = None  # "M", "F", "X" or None
    nationality: str | None = None
    document_type: str = ""  # "DL", "ID", "P", "I", ...
    details: Mapping[str, str] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        if self.kind in _CHINESE_NAMES:
            return self.family_name + self.given_names
        return " ".join(p for p in (self.given_names, self.family_name) if p)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["kind"] = self.kind.value
        out["full_name"] = self.full_name
        for key in ("birth_date", "expiry"):
            out[key] = out[key].isoformat() if out[key] else None
        out["details"] = dict(self.details)
        return out


def is_expired(doc: IdentityDocument, today: date) -> bool:
    """True when the document's expiry date is before `today` (it is valid through that day)."""
    return doc.expiry is not None and doc.expiry < today


def _number_parts(number: str, salt: bytes) -> tuple[str, str]:
    """(hash, last four characters) of a document number: all that is ever kept of it."""
    normalised = normalise_document_number(number)
    return hash_document_number(normalised, salt), normalised[-4:]


# --------------------------------------------------------------------------------------------
# AAMVA PDF417
# --------------------------------------------------------------------------------------------

#: Issuer identification numbers from AAMVA's published list (a subset; the address's
#: jurisdiction code, DAJ, is used for the others).
AAMVA_IIN: dict[str, str] = {
    "636014": "CA",
    "636010": "FL",
    "636033": "AL",
    "636059": "AK",
    "636026": "AZ",
    "636020": "CO",
    "636006": "CT",
    "636011": "DE",
    "604432": "AB",
    "604427": "AS",
    "636012": "ON",
}

_CANADA = {"AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"}
_AAMVA_HEADER = re.compile(rb"^@(.)(.)(.)(ANSI |AAMVA)(\d{6})(\d{2})(\d{2})?(\d{2})?", re.DOTALL)


def looks_like_aamva(raw: bytes) -> bool:
    return raw.startswith(b"@") and (b"ANSI " in raw[:24] or b"AAMVA" in raw[:24])


def _aamva_date(value: str, canadian: bool) -> date | None:
    """MMDDCCYY in the USA, CCYYMMDD in Canada; the other order is tried if the first fails."""
    digits = value.strip()
    if not re.fullmatch(r"\d{8}", digits):
        return None
    us = (int(digits[4:8]), int(digits[0:2]), int(digits[2:4]))
    ca = (int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    for year, month, day in (ca, us) if canadian else (us, ca):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return None


def _aamva_elements(raw: bytes) -> tuple[dict[str, str], dict[str, str]]:
    """(header fields, data elements) of an AAMVA payload; raises InvalidInput if not one."""
    header = _AAMVA_HEADER.match(raw)
    if header is None:
        raise InvalidInput("document", "not an AAMVA driving licence barcode")
    element_sep, _record_sep, _segment_end = header.group(1), header.group(2), header.group(3)
    iin, version = header.group(5).decode(), int(header.group(6))
    entries_at = header.end(7) if version >= 2 and header.group(7) else header.end(6)
    entries_text = raw[entries_at : entries_at + 2]
    entries = int(entries_text) if entries_text.isdigit() else 1
    directory_at = entries_at + 2
    elements: dict[str, str] = {}
    subfile_types: list[str] = []
    for index in range(max(1, entries)):
        start = directory_at + 10 * index
        entry = raw[start : start + 10]
        if len(entry) < 10 or not entry[2:].isdigit():
            break
        kind = entry[:2].decode("ascii", "replace")
        offset, length = int(entry[2:6]), int(entry[6:10])
        subfile_types.append(kind)
        body = raw[offset : offset + length]
        if not body.startswith(entry[:2]):
            # Several jurisdictions miscount offsets: find the subfile by its type instead.
            found = raw.find(entry[:2], directory_at + 10 * entries)
            body = raw[found : found + length] if found >= 0 else b""
        body = body[2:]
        for chunk in re.split(rb"[" + re.escape(element_sep) + rb"\r\n]", body):
            item = chunk.decode("latin-1").strip()
            if len(item) >= 3 and item[:3].isalnum() and item[:3].isupper():
                elements.setdefault(item[:3], item[3:].strip())
    head = {"iin": iin, "aamva_version": f"{version:02d}", "subfiles": ",".join(subfile_types)}
    return head, elements


def parse_aamva(raw: bytes, salt: bytes) -> IdentityDocument:
    """Parse the PDF417 payload of a North American licence/ID; raw bytes, separators intact.

    Name: DCS (family) with DAC/DAD (version 04+) or DCT (versions 02-03, "FIRST,MIDDLE"),
    or DAA ("FAMILY,FIRST,MIDDLE", version 01). Expiry DBA, birth DBB. Jurisdiction from
    the IIN when known, else the address's DAJ. DAQ (the licence number) only as a hash.
    """
    head, el = _aamva_elements(raw)
    if "DAQ" not in el:
        raise InvalidInput("document", "AAMVA barcode without a document number (DAQ)")
    family = el.get("DCS") or el.get("DAB", "")
    given = " ".join(p for p in (el.get("DAC", ""), el.get("DAD", "")) if p and p != "NONE")
    if not given and "DCT" in el:
        given = " ".join(p for p in el["DCT"].replace(",", " ").split() if p)
    if not family and "DAA" in el:
        parts = [p.strip() for p in el["DAA"].replace("$", ",").split(",")]
        family, given = parts[0], " ".join(p for p in parts[1:] if p)
    jurisdiction = AAMVA_IIN.get(head["iin"]) or el.get("DAJ", "")
    canadian = el.get("DCG", "").upper() == "CAN" or jurisdiction in _CANADA
    if head["aamva_version"] == "01":
        canadian = True  # the 2000 standard wrote every date CCYYMMDD
    sex = {"1": "M", "2": "F", "9": "X", "M": "M", "F": "F"}.get(el.get("DBC", "").upper())
    subfiles = head["subfiles"].split(",")
    doc_type = "ID" if "ID" in subfiles and "DL" not in subfiles else "DL"
    details = {"iin": head["iin"], "aamva_version": head["aamva_version"]}
    for key, name in (("DCA", "vehicle_class"), ("DCG", "country"), ("DBD", "issue_date_raw")):
        if key in el:
            details[name] = el[key]
    number_hash, last4 = _number_parts(el["DAQ"], salt)
    return IdentityDocument(
        kind=DocumentKind.AAMVA,
        document_number_hash=number_hash,
        document_number_last4=last4,
        family_name=family.title() if family.isupper() else family,
        given_names=given.title() if given.isupper() else given,
        birth_date=_aamva_date(el.get("DBB", ""), canadian),
        expiry=_aamva_date(el.get("DBA", ""), canadian),
        issuer=jurisdiction,
        sex=sex,
        nationality=el.get("DCG") or None,
        document_type=doc_type,
        details=details,
    )


# --------------------------------------------------------------------------------------------
# ICAO 9303 machine readable zone
# --------------------------------------------------------------------------------------------

_MRZ_VALUES = {**{str(d): d for d in range(10)}, "<": 0}
_MRZ_VALUES.update({chr(ord("A") + i): 10 + i for i in range(26)})


def mrz_check_digit(text: str) -> int:
    """ICAO 9303 part 3 check digit: weights 7, 3, 1 repeating, sum modulo 10."""
    total = 0
    for position, char in enumerate(text):
        try:
            total += _MRZ_VALUES[char] * (7, 3, 1)[position % 3]
        except KeyError as err:
            raise InvalidInput("mrz", f"character {char!r} is not allowed in an MRZ") from err
    return total % 10


def _check(field_text: str, digit: str, what: str) -> None:
    if digit == "<" and set(field_text) <= {"<"}:
        return  # an absent optional field may have a filler check digit
    if not digit.isdigit() or mrz_check_digit(field_text) != int(digit):
        raise InvalidInput("mrz", f"check digit of the {what} does not match")


def _mrz_date(text: str, *, future: bool, today: date | None = None) -> date | None:
    """YYMMDD to a date: expiry dates are taken in 20YY, birth dates in the past century."""
    if not re.fullmatch(r"\d{6}", text):
        return None
    yy, month, day = int(text[:2]), int(text[2:4]), int(text[4:6])
    this_year = (today or date.today()).year % 100
    century = 2000 if future or yy <= this_year else 1900
    try:
        return date(century + yy, month, day)
    except ValueError:
        return None


def _mrz_name(text: str) -> tuple[str, str]:
    family, _, given = text.partition("<<")
    clean = lambda s: " ".join(p for p in s.split("<") if p).title()  # noqa: E731
    return clean(family), clean(given)


def _mrz_sex(char: str) -> str | None:
    return {"M": "M", "F": "F", "X": "X"}.get(char)


def _mrz_lines(text: str) -> list[str]:
    lines = [re.sub(r"\s", "", line).upper() for line in text.strip().splitlines()]
    return [line for line in lines if line]


def parse_mrz(text: str, salt: bytes, today: date | None = None) -> IdentityDocument:
    """Parse a TD3 (2x44), TD2 (2x36) or TD1 (3x30) MRZ, verifying every check digit, the
    composite too."""
    lines = _mrz_lines(text)
    if len(lines) == 2 and all(len(line) == 44 for line in lines):
        return _parse_td3(lines, salt, today)
    if len(lines) == 2 and all(len(line) == 36 for line in lines):
        return _parse_td2(lines, salt, today)
    if len(lines) == 3 and all(len(line) == 30 for line in lines):
        return _parse_td1(lines, salt, today)
    raise InvalidInput(
        "mrz", "expected 2 lines of 44 (passport), 2 of 36 (TD2) or 3 of 30 (ID card)"
    )


def _parse_td2(lines: list[str], salt: bytes, today: date | None) -> IdentityDocument:
    """ICAO 9303 part 6: line 2 is number 0-8 (+check 9), nationality 10-12, birth 13-18
    (+19), sex 20, expiry 21-26 (+27), optional 28-34, composite 35."""
    one, two = lines
    number, birth, expiry = two[0:9], two[13:19], two[21:27]
    if two[9] == "<" and two[28:35].strip("<"):
        # A number longer than 9 characters continues in the optional data, check digit last.
        rest = two[28:35].rstrip("<")
        number, digit = two[0:9] + rest[:-1], rest[-1]
        _check(number, digit, "document number")
    else:
        _check(number, two[9], "document number")
    _check(birth, two[19], "date of birth")
    _check(expiry, two[27], "date of expiry")
    _check(two[0:10] + two[13:20] + two[21:35], two[35], "composite")
    family, given = _mrz_name(one[5:36])
    number_hash, last4 = _number_parts(number, salt)
    return IdentityDocument(
        kind=DocumentKind.ID_TD2,
        document_number_hash=number_hash,
        document_number_last4=last4,
        family_name=family,
        given_names=given,
        birth_date=_mrz_date(birth, future=False, today=today),
        expiry=_mrz_date(expiry, future=True),
        issuer=one[2:5].replace("<", ""),
        sex=_mrz_sex(two[20]),
        nationality=two[10:13].replace("<", ""),
        document_type=one[0:2].replace("<", ""),
    )


def _parse_td3(lines: list[str], salt: bytes, today: date | None) -> IdentityDocument:
    one, two = lines
    number, birth, expiry = two[0:9], two[13:19], two[21:27]
    _check(number, two[9], "document number")
    _check(birth, two[19], "date of birth")
    _check(expiry, two[27], "date of expiry")
    _check(two[28:42], two[42], "personal number")
    _check(two[0:10] + two[13:20] + two[21:43], two[43], "whole line (composite)")
    family, given = _mrz_name(one[5:44])
    number_hash, last4 = _number_parts(number, salt)
    return IdentityDocument(
        kind=DocumentKind.PASSPORT_TD3,
        document_number_hash=number_hash,
        document_number_last4=last4,
        family_name=family,
        given_names=given,
        birth_date=_mrz_date(birth, future=False, today=today),
        expiry=_mrz_date(expiry, future=True),
        issuer=one[2:5].replace("<", ""),
        sex=_mrz_sex(two[20]),
        nationality=two[10:13].replace("<", ""),
        document_type=one[0:2].replace("<", ""),
    )


def _parse_td1(lines: list[str], salt: bytes, today: date | None) -> IdentityDocument:
    one, two, three = lines
    number = one[5:14]
    if one[14] == "<" and one[15:30].strip("<"):
        # A number longer than 9 characters continues in the optional field, check digit last.
        rest = one[15:30].rstrip("<")
        number, digit = one[5:14] + rest[:-1], rest[-1]
        _check(number, digit, "document number")
    else:
        _check(number, one[14], "document number")
    birth, expiry = two[0:6], two[8:14]
    _check(birth, two[6], "date of birth")
    _check(expiry, two[14], "date of expiry")
    _check(one[5:30] + two[0:7] + two[8:15] + two[18:29], two[29], "composite")
    family, given = _mrz_name(three)
    number_hash, last4 = _number_parts(number, salt)
    return IdentityDocument(
        kind=DocumentKind.ID_TD1,
        document_number_hash=number_hash,
        document_number_last4=last4,
        family_name=family,
        given_names=given,
        birth_date=_mrz_date(birth, future=False, today=today),
        expiry=_mrz_date(expiry, future=True),
        issuer=one[2:5].replace("<", ""),
        sex=_mrz_sex(two[7]),
        nationality=two[15:18].replace("<", ""),
        document_type=one[0:2].replace("<", ""),
    )


_MRZ_LINE = re.compile(r"[A-Z0-9<]{30,44}")


def find_mrz_text(ocr_text: str) -> str | None:
    """The MRZ within OCR output: two lines of 44 or 36, or three of 30 characters, else None.

    OCR of OCR-B often reads filler '<' as 'K' or '«' and drops spaces; we only take
    lines that already have the exact length, then let the check digits decide.
    """
    candidates = []
    for line in ocr_text.splitlines():
        cleaned = re.sub(r"\s", "", line).upper().replace("«", "<")
        if _MRZ_LINE.fullmatch(cleaned):
            candidates.append(cleaned)
    for size, count in ((44, 2), (36, 2), (30, 3)):
        run = [c for c in candidates if len(c) == size]
        if len(run) >= count:
            return "\n".join(run[-count:])
    return None


# --------------------------------------------------------------------------------------------
# Chinese resident identity number, GB 11643-1999
# --------------------------------------------------------------------------------------------


def parse_cn_resident_id(number: str, salt: bytes, today: date | None = None) -> IdentityDocument:
    """Validate an 18-character resident identity number; keep only birth date, sex, region.

    The number itself carries no expiry (the card's validity period is printed, not encoded).
    """
    text = unicodedata.normalize("NFKC", number).strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", text):
        raise InvalidInput("id_number", "must be 17 digits followed by a digit or X")
    if gb11643_check_char(text[:17]) != text[17]:
        raise InvalidInput("id_number", "check character does not match (mistyped?)")
    try:
        birth = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError as err:
        raise InvalidInput("id_number", "the birth date in the number is not a date") from err
    if birth > (today or date.today()) or birth.year < 1880:
        raise InvalidInput("id_number", "the birth date in the number is impossible")
    number_hash, last4 = _number_parts(text, salt)
    return IdentityDocument(
        kind=DocumentKind.CN_RESIDENT_ID,
        document_number_hash=number_hash,
        document_number_last4=last4,
        family_name="",
        given_names="",
        birth_date=birth,
        expiry=None,
        issuer="CHN",
        sex="M" if int(text[16]) % 2 else "F",
        nationality="CHN",
        document_type="resident_id",
        details={"region_code": text[:6]},
    )
