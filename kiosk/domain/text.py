"""Checks on text typed or scanned by a person.

The rule is: store exactly what was given, or refuse it with a message that names the
field and the problem. Nothing is silently rewritten, because a name is a person's own
(the one exception, a Latin name typed all in lower case, is capitalised where check-in
takes it: `kiosk.domain.names.display_name`).
What is refused:
- control characters (Unicode category Cc: C0, DEL and C1), which could drive a terminal or
  a printer, except newline and tab in free-text fields;
- lone surrogates and non-characters, which cannot be stored as UTF-8;
- text longer than the field allows, or blank where a value is required.
Emoji, right-to-left marks, any script, and text that looks like SQL are all kept as typed:
the storage layer always binds parameters, and the printer receives pictures, not text.

`shown` is the other direction: text already stored (perhaps before these rules, or written
by another program) made safe to show on a terminal or a list, whatever it holds; `padded`
lines it up in a column by the cells a terminal gives it (张 takes two), not by characters.
"""

from __future__ import annotations

import unicodedata

from wcwidth import wcswidth, wcwidth

from kiosk.domain.errors import InvalidInput

NAME_MAX = 200
COMPANY_MAX = 200
PHONE_MAX = 40
EMAIL_MAX = 254
FREE_TEXT_MAX = 1000

_FREE_TEXT_CONTROLS = frozenset("\n\t")
#: What `shown` puts in place of a character that must not reach a terminal.
REPLACEMENT = "\ufffd"
#: What a list or the roll call shows for a field its record does not have.
MISSING = "–"


_C0_NAMES = (
    "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR",
    "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC",
    "FS", "GS", "RS", "US",
)  # fmt: skip


def _describe(char: str) -> str:
    code = ord(char)
    # Control characters have no Unicode name; their ASCII abbreviations are what people know.
    fallback = _C0_NAMES[code] if code < 32 else "DEL" if code == 127 else ""
    name = unicodedata.name(char, fallback)
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def check_text(
    value: str,
    field: str,
    *,
    max_length: int,
    required: bool = False,
    multiline: bool = False,
) -> str:
    """Return `value` unchanged if acceptable, else raise InvalidInput saying why."""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be text")
    if required and not value.strip():
        raise InvalidInput(field, "is required")
    if len(value) > max_length:
        raise InvalidInput(field, f"is {len(value)} characters long; at most {max_length} fit")
    if value.isprintable():
        # No character of the categories refused below is printable (str.isprintable: none
        # of Cc, Cs, Cn and the like), and this one pass runs in C: most text stops here.
        return value
    allowed = _FREE_TEXT_CONTROLS if multiline else frozenset()
    for position, char in enumerate(value):
        category = unicodedata.category(char)
        if category == "Cc" and char not in allowed:
            raise InvalidInput(
                field, f"contains a control character ({_describe(char)}) at position {position}"
            )
        if category == "Cs":
            raise InvalidInput(
                field, f"contains a broken character (lone surrogate) at position {position}"
            )
        if category == "Cn" and (ord(char) & 0xFFFE == 0xFFFE or 0xFDD0 <= ord(char) <= 0xFDEF):
            raise InvalidInput(
                field, f"contains a non-character ({_describe(char)}) at position {position}"
            )
    return value


def check_name(value: str, field: str = "name") -> str:
    return check_text(value, field, max_length=NAME_MAX, required=True)


def check_optional(value: str | None, field: str, max_length: int) -> str:
    return check_text(value or "", field, max_length=max_length)


def check_phone(value: str | None, field: str = "phone") -> str:
    value = check_text(value or "", field, max_length=PHONE_MAX)
    if value and not any(char.isdigit() for char in value):
        raise InvalidInput(field, "has no digits")
    return value


def check_email(value: str | None, field: str = "email") -> str:
    value = check_text(value or "", field, max_length=EMAIL_MAX)
    if value and ("@" not in value or value.startswith("@") or value.endswith("@") or " " in value):
        raise InvalidInput(field, "is not an e-mail address")
    return value


def stored_text(value: object) -> str:
    """A text column as read back, as a str: "" for NULL, and whatever else SQLite holds
    there (it keeps any type in any column) turned into text."""
    return "" if value is None else value if isinstance(value, str) else str(value)


def shown(value: object, max_length: int | None = None) -> str:
    """`value` as text that is safe to write to a terminal: None is "", control characters
    (NUL, ESC, CR, DEL, C1...), lone surrogates and non-characters become U+FFFD, and text
    longer than `max_length` is cut with "…". The stored value is never changed."""
    text = stored_text(value)
    safe = "".join(REPLACEMENT if _unshowable(char) else char for char in text)
    if max_length is not None and len(safe) > max_length:
        safe = safe[: max(0, max_length - 1)] + "…"
    return safe


def cells(text: str) -> int:
    """How many terminal cells `text` takes: two for an East Asian wide or fullwidth
    character (张, Ａ), none for a combining mark or a zero-width joiner, one otherwise."""
    width = wcswidth(text)
    if width >= 0:
        return width
    # A character wcwidth calls unprintable (a control, which `shown` has replaced already
    # in what a list prints): count it as one cell rather than fail the whole text.
    return sum(1 if width < 0 else width for width in map(wcwidth, text))


def padded(text: str, width: int) -> str:
    """`text` followed by spaces up to `width` cells, so that columns line up whatever
    script a name is in; longer text is left whole."""
    return text + " " * max(0, width - cells(text))


def _unshowable(char: str) -> bool:
    category = unicodedata.category(char)
    if category in ("Cc", "Cs"):
        return True
    return category == "Cn" and (ord(char) & 0xFFFE == 0xFFFE or 0xFDD0 <= ord(char) <= 0xFDEF)
