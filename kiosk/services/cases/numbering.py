"""Case numbers a person can read out: `<L>-<YYYYMMDD>-<S><NNNN>` (the cases contract).

L is the kind's letter, the date the site's local day of opening, S this kiosk's station tag
and NNNN its own daily sequence from 0001. The sequence is kept in KioskState, written in
the case's own transaction, so a restart (or a power cut before commit) never gives one
number twice: the kiosk numbers offline, and the number is still unique on the site.
"""

from __future__ import annotations

from datetime import date

from kiosk.domain.errors import InvalidInput
from kiosk.storage.models import KioskState

KIND_LETTERS = {"complaint": "C", "repair": "R", "suggestion": "S", "inquiry": "Q"}
DAILY_MAX = 9999


def next_number(kind: str, station: str, day: date) -> str:
    """Take the next number of `station` on `day`; call inside the case's transaction."""
    key = f"case_seq:{station}:{day:%Y%m%d}"
    row = KioskState.get_or_none(KioskState.key == key)
    seq = (int(row.value) if row else 0) + 1
    if seq > DAILY_MAX:
        raise InvalidInput("case", f"this kiosk has numbered {DAILY_MAX} cases today; use the desk")
    KioskState.insert(key=key, value=str(seq)).on_conflict_replace().execute()
    return f"{KIND_LETTERS[kind]}-{day:%Y%m%d}-{station}{seq:04d}"
