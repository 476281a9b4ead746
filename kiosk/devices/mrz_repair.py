"""OCR's usual confusions in an MRZ, corrected only where the check digits confirm the fix.

OCR of the MRZ's OCR-B characters confuses 0/O, 1/I, 5/S and 8/B. Some positions of an MRZ
can hold only digits: the dates and the check digits. There a letter O, I, S or B can only
be a misread 0, 1, 5 or 8, and is read as that digit; the check digits over those fields
then confirm the fix or refuse the text (`identity.parse_mrz` verifies every one).

Nothing else is changed. The document number may hold letters and digits both, and its
check digit shares its weights with the composite check (the number starts both), so
trying its characters both ways would find a variant that passes about once in ten tries
for a wrong read: it is left as read, and a confused number is refused by its check digit.
(The camera's reader, kiosk.devices.mrz_ocr, tries only O and 0 there, which OCR-B draws
nearly alike and whose values are 24 apart, so that one exchange always changes the check
digit; it takes the reading only when exactly one passes, and only when sure of the rest.)
"""

from __future__ import annotations

import re

TO_DIGIT = {"O": "0", "I": "1", "S": "5", "B": "8"}

#: (line, first, last+1) of the positions that must be digits, by (lines, length): ICAO
#: 9303 parts 4 (TD3, 2x44), 6 (TD2, 2x36) and 5 (TD1, 3x30).
DIGITS_ONLY: dict[tuple[int, int], list[tuple[int, int, int]]] = {
    (2, 44): [(1, 9, 10), (1, 13, 20), (1, 21, 28), (1, 43, 44)],
    (2, 36): [(1, 9, 10), (1, 13, 20), (1, 21, 28), (1, 35, 36)],
    (3, 30): [(1, 0, 7), (1, 8, 15), (1, 29, 30)],
}


def repair_mrz(text: str) -> str:
    """`text` with confused letters in digit-only positions read as their digits."""
    lines = [line for line in (re.sub(r"\s", "", raw).upper() for raw in text.splitlines()) if line]
    spans = DIGITS_ONLY.get((len(lines), len(lines[0]) if lines else 0))
    if spans is None or any(len(line) != len(lines[0]) for line in lines):
        return text
    fixed = [list(line) for line in lines]
    for line, start, end in spans:
        for at in range(start, end):
            fixed[line][at] = TO_DIGIT.get(fixed[line][at], fixed[line][at])
    return "\n".join("".join(line) for line in fixed)
