"""The nightly VACUUM policy (kiosk.storage.compaction), on real SQLite files: a new kiosk
database returns the pages the purge freed each night; an older one is converted once when
a tenth of it is free, and not before; `kiosk nightly` runs it between purge and backup."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from peewee import SqliteDatabase
from tests_support import initialised_kiosk, nightly_steps

from kiosk.storage.compaction import INCREMENTAL, compact_database
from kiosk.storage.db import open_database


def _fill_and_free(db: SqliteDatabase, rows: int, freed: int) -> None:
    execute = db.execute_sql
    execute('CREATE TABLE "blob_rows" ("id" INTEGER PRIMARY KEY, "data" BLOB)')
    with db.atomic():
        for _ in range(rows):
            execute('INSERT INTO "blob_rows" ("data") VALUES (?)', (bytes(8000),))
    execute('DELETE FROM "blob_rows" WHERE "id" <= ?', (freed,))


def _pages(db: SqliteDatabase, name: str) -> int:
    return int(db.execute_sql(f"PRAGMA {name}").fetchone()[0])


def test_a_new_database_gives_the_freed_pages_back_each_night(tmp_path: Path) -> None:
    db = open_database(tmp_path / "kiosk.sqlite3")
    assert _pages(db, "auto_vacuum") == INCREMENTAL
    _fill_and_free(db, 200, 150)
    assert _pages(db, "freelist_count") > 200
    report = compact_database(db, tmp_path / "kiosk.sqlite3")
    assert report.pages_freed > 200 and not report.converted
    assert _pages(db, "freelist_count") == 0
    assert report.size_after_mb < report.size_before_mb / 2
    db.close()


def _old_database(path: Path) -> None:
    """A kiosk database as earlier versions made it: auto_vacuum off."""
    plain = sqlite3.connect(path)
    plain.execute("CREATE TABLE placeholder (id INTEGER)")
    plain.close()


@pytest.mark.parametrize(("freed", "converted"), [(150, True), (5, False)])
def test_an_older_database_is_converted_once_when_a_tenth_is_free(
    tmp_path: Path, freed: int, converted: bool
) -> None:
    path = tmp_path / "kiosk.sqlite3"
    _old_database(path)
    db = open_database(path)
    assert _pages(db, "auto_vacuum") == 0  # the pragma cannot change a file with tables
    _fill_and_free(db, 200, freed)
    report = compact_database(db, path)
    assert report.converted is converted
    assert _pages(db, "auto_vacuum") == (INCREMENTAL if converted else 0)
    assert (_pages(db, "freelist_count") == 0) is converted
    again = compact_database(db, path)
    assert not again.converted
    db.close()


def test_kiosk_nightly_compacts_between_the_purge_and_the_backup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = nightly_steps(initialised_kiosk(tmp_path), capsys)
    assert list(steps) == ["close_day", "purge", "archive_audit", "compact", "backup"]
    assert steps["compact"]["converted"] is False and "error" not in steps["compact"]


def test_opening_a_database_again_leaves_its_file_as_it_was(tmp_path: Path) -> None:
    """install.sh's second run must change nothing: setting auto_vacuum on every opening
    once rewrote the file each time (make test-slow's install-twice test found it)."""
    path = tmp_path / "kiosk.sqlite3"
    open_database(path).close()
    before = path.read_bytes()
    open_database(path).close()
    assert path.read_bytes() == before
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA auto_vacuum").fetchone()[0] == INCREMENTAL  # a new file's policy
    check.close()
