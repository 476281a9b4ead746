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
from typing import Any, cast

from peewee import CharField, Database, DatabaseError, SqliteDatabase, TextField

from kiosk.domain.errors import StorageError
from kiosk.storage.migrations import migrate
from kiosk.storage.models import database
from kiosk.storage.private_files import prepare_private_database

PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": 2,  # FULL
    "foreign_keys": 1,
    "busy_timeout": 5000,
}
#: How a transaction begins (see the module's docstring).
WRITE_LOCK_FIRST = "IMMEDIATE"


def open_database(path: Path | str) -> SqliteDatabase:
    """Open (creating if needed) and migrate the database, and bind the models to it.

    `":memory:"` gives a private in-memory database, as the tests use.
    """
    if str(path) != ":memory:":
        # Photos and documents: 0600 before SQLite makes it (and its -wal) 0644.
        prepare_private_database(Path(path))
    pragmas = dict(PRAGMAS)
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


def insert_rows(
    db: Database | Any,
    model: Any,
    rows: list[dict[str, Any]],
    *,
    conflict_on: str | None = None,
    update: tuple[str, ...] = (),
) -> None:
    """Insert many rows with one prepared statement (DB-API executemany).

    peewee builds SQL text for every row of an `insert_many`, which costs more than the
    database's own work for the thousands of rows a sync batch holds. Values still pass
    through each field's `db_value`, so times and foreign keys are stored as peewee would.
    With `conflict_on`, an existing row with that key is updated (`update` columns) instead.
    """
    if not rows:
        return
    given = list(rows[0])
    # Columns the rows leave out get the field's default, as peewee's own insert gives them.
    defaults = {
        field.name: field.default
        for field in model._meta.sorted_fields
        if field.name not in given and field.default is not None
    }
    names = given + list(defaults)
    fields = [model._meta.fields[name] for name in names]
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    marks = ", ".join([db.param] * len(fields))
    sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'
    if conflict_on:
        target = model._meta.fields[conflict_on].column_name
        updated = [model._meta.fields[name].column_name for name in update]
        changes = ", ".join(f'"{column}" = excluded."{column}"' for column in updated)
        sql += f' ON CONFLICT ("{target}") DO ' + (f"UPDATE SET {changes}" if update else "NOTHING")
    fixed = [value() if callable(value) else value for value in defaults.values()]
    # Text needs no conversion: skipping peewee's per-value call halves the cost of big batches.
    convert = [
        None if isinstance(field, CharField | TextField) else field.db_value for field in fields
    ]
    values = []
    for row in rows:
        raw = [*map(row.__getitem__, given), *fixed]
        values.append(
            tuple(
                value if converter is None or value is None else converter(value)
                for converter, value in zip(convert, raw, strict=True)
            )
        )

    db.cursor().executemany(sql, values)


def rows_of(query: Any) -> list[tuple[Any, ...]]:
    """A query's rows as plain tuples (peewee's own typing of `.tuples()` is too loose)."""
    return cast("list[tuple[Any, ...]]", list(query.tuples()))


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
