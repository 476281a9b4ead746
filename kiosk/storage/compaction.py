"""The nightly job's VACUUM policy: the pages the purge freed go back to the card (issue 21).

Each night the purge deletes a day's photos and sent events. SQLite keeps their pages in the
file as free pages, to reuse, and `kiosk backup` copies them too: a year's kiosk carried
15 % of its file as free pages into every backup (make growth). The policy:
- a database made by this version has `auto_vacuum = INCREMENTAL` from its first table
  (kiosk.storage.db sets it when it creates the file), and each night returns the free
  pages with `PRAGMA incremental_vacuum`, which costs only the pages freed;
- an older database is converted once, by one VACUUM, on the first night that a tenth of
  it is free pages and the card has room for the copy VACUUM writes (else it waits);
- then `PRAGMA optimize`, so the planner's statistics follow the tables as they grow, and
  a WAL checkpoint, so the file on the card is the smaller one at once.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from peewee import SqliteDatabase

from kiosk.storage.db import storage_errors

INCREMENTAL = 2
#: The share of free pages at which an older database is converted by a full VACUUM.
CONVERT_AT_FREE_SHARE = 0.10


@dataclass
class CompactionReport:
    size_before_mb: float
    size_after_mb: float
    pages_freed: int
    converted: bool
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _pragma(db: SqliteDatabase, name: str) -> int:
    return int(db.execute_sql(f"PRAGMA {name}").fetchone()[0])


def compact_database(db: SqliteDatabase, path: Path | str | None = None) -> CompactionReport:
    """Return the free pages to the file system as the policy above says."""
    page_size = _pragma(db, "page_size")
    before_pages, free = _pragma(db, "page_count"), _pragma(db, "freelist_count")
    converted, note = False, ""
    with storage_errors():
        if _pragma(db, "auto_vacuum") == INCREMENTAL:
            if free:
                # executescript steps the pragma to its end; a cursor frees one page only.
                db.connection().executescript("PRAGMA incremental_vacuum;")
        elif before_pages and free / before_pages >= CONVERT_AT_FREE_SHARE:
            needed = before_pages * page_size
            room = shutil.disk_usage(Path(path).parent).free if path else needed + 1
            if room > needed:
                db.execute_sql(f"PRAGMA auto_vacuum = {INCREMENTAL}")
                db.execute_sql("VACUUM")
                converted = True
            else:
                note = "not converted: the card has no room for the copy VACUUM makes"
        db.execute_sql("PRAGMA optimize")
        # The moved pages sit in the WAL until a checkpoint: write them home and empty it
        # (a reader still inside its snapshot only makes this partial, never fails it).
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    after_pages = _pragma(db, "page_count")
    return CompactionReport(
        size_before_mb=round(before_pages * page_size / 1e6, 2),
        size_after_mb=round(after_pages * page_size / 1e6, 2),
        pages_freed=max(0, before_pages - after_pages),
        converted=converted,
        note=note,
    )
