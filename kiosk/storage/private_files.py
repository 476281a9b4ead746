"""Files only their owner may read: kept at this path for the kiosk's callers; the helpers
live in kiosk.dbkit.private_files, shared with the office."""

from kiosk.dbkit.private_files import (
    OTHERS_BITS,
    PRIVATE_MODE,
    SQLITE_SIDE_SUFFIXES,
    loose_mode,
    open_private_text,
    prepare_private_database,
    sqlite_files,
    tighten,
    write_private_bytes,
)

__all__ = [
    "OTHERS_BITS",
    "PRIVATE_MODE",
    "SQLITE_SIDE_SUFFIXES",
    "loose_mode",
    "open_private_text",
    "prepare_private_database",
    "sqlite_files",
    "tighten",
    "write_private_bytes",
]
