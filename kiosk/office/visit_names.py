"""The keys a visitor's name is found by in the office's visit log (OfficeVisit.name_key),
written at ingest (kiosk.office.intake) and backfilled once (kiosk.office.db)."""

from __future__ import annotations

from kiosk.domain import names


def visit_name_key(name: str) -> str:
    """Keys a visitor's name is found by: as typed, in pinyin (spaced, joined and with the
    words sorted, so 张伟, "zhang wei" and "Wei Zhang" all find 张伟) and by initials."""
    if not name:
        return ""
    return "|".join(dict.fromkeys((names.search_key(name), names.latin_key(name))))
