"""Opening the kiosk database with the durability settings a kiosk needs.

- WAL journal: readers (the guard's list, sync) never block the check-in writer.
- synchronous=FULL: a commit is on the card before the visitor sees "checked in", so a
  power cut cannot lose a check-in the kiosk has confirmed.
- foreign_keys on, busy_timeout set: the sync process and the UI share the file.
- transactions BEGIN IMMEDIATE: a writer takes the write lock before its first read, so
  two threads' transactions wait their turn (the busy timeout) instead of one being
  refused at once, as WAL refuses a read-then-write whose snapshot another commit overtook.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from peewee import DatabaseError, SqliteDatabase

from kiosk.dbkit.private_files import prepare_private_database
from kiosk.dbkit.rows import insert_rows, rows_of
from kiosk.dbkit.sqlite import PRAGMAS, WRITE_LOCK_FIRST
from kiosk.domain.errors import StorageError
from kiosk.storage.migrations import migrate
from kiosk.storage.models import database

#: insert_rows, rows_of, PRAGMAS and WRITE_LOCK_FIRST live in kiosk.dbkit (shared with the
#: office); kept importable from here for the kiosk's callers.
__all__ = [
    "PRAGMAS",
    "WRITE_LOCK_FIRST",
    "insert_rows",
    "integrity_problems",
    "open_database",
    "rows_of",
    "storage_errors",
]  # fmt: skip


def open_database(path: Path | str) -> SqliteDatabase:
    """Open (creating if needed) and migrate the database, and bind the models to it.

    `":memory:"` gives a private in-memory database, as the tests use.
    """
    in_memory = str(path) == ":memory:"
    new_file = in_memory or not Path(path).exists() or Path(path).stat().st_size == 0
    if not in_memory:
        # Photos and documents: 0600 before SQLite makes it (and its -wal) 0644.
        prepare_private_database(Path(path))
    # A new file returns the pages the purge frees (kiosk.storage.compaction): set before
    # WAL, which writes the file's first page. Only on a new file: set on an existing one,
    # each opening rewrote the file (install.sh's second run must change nothing), and an
    # older file is converted by the nightly job instead.
    pragmas = {"auto_vacuum": 2, **PRAGMAS} if new_file else dict(PRAGMAS)  # 2: INCREMENTAL
    if str(path) == ":memory:":
        pragmas["journal_mode"] = "memory"
    db = SqliteDatabase(
        str(path), pragmas=pragmas, check_same_thread=False, lock_type=WRITE_LOCK_FIRST
    )
    try:
        db.connect(reuse_if_open=True)
        migrate(db)
    except (DatabaseError, sqlite3.DatabaseError) as err:
        raise StorageError(f"cannot open the database at {path}: {err}") from err
    database.initialize(db)
    return db


def integrity_problems(db: SqliteDatabase) -> list[str]:
    rows = db.execute_sql("PRAGMA integrity_check").fetchall()
    return [row[0] for row in rows if row[0] != "ok"]


def _messages(err: BaseException) -> str:
    """The text of an error and of those it happened during.

    When the disk fills, SQLite rolls the transaction back by itself; peewee's own rollback
    then fails with "no transaction is active", and that hides the real cause one level
    down the exception's context.
    """
    texts: list[str] = []
    current: BaseException | None = err
    while current is not None and len(texts) < 5:
        texts.append(str(current).lower())
        current = current.__cause__ or current.__context__
    return " | ".join(texts)


@contextmanager
def storage_errors() -> Iterator[None]:
    """Turn SQLite failures (disk full, read-only card, corruption) into StorageError.

    Put it outside `db.atomic()`, so that the rollback has happened when it translates.
    """
    try:
        yield
    except (DatabaseError, sqlite3.DatabaseError) as err:
        text = _messages(err)
        if "full" in text:
            raise StorageError("the kiosk's storage is full; nothing was recorded") from err
        if "readonly" in text or "read-only" in text:
            raise StorageError("the kiosk's storage is read-only; nothing was recorded") from err
        raise StorageError(f"the database refused the change: {err}") from err
