"""Online backups: a consistent, checked copy while the kiosk writes, and rotation."""

from __future__ import annotations

import random
import sqlite3
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests_support import initialised_kiosk, nightly_steps

from kiosk.domain.errors import StorageError
from kiosk.storage.backup import FULL_CHECK_MARK, backup_database, full_check_due, list_backups
from kiosk.storage.db import open_database

T0 = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)


def make_database(path: Path, rows: int = 0) -> None:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("CREATE TABLE visit (id INTEGER PRIMARY KEY, name TEXT, n INTEGER)")
    connection.executemany(
        "INSERT INTO visit (name, n) VALUES (?, ?)", [(f"visitor {i}", i) for i in range(rows)]
    )
    connection.commit()
    connection.close()


def rows_in(path: Path) -> list[tuple[int, str, int]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT id, name, n FROM visit ORDER BY id").fetchall()
    finally:
        connection.close()


def test_backup_is_a_checked_copy_with_private_permissions(tmp_path: Path) -> None:
    db = tmp_path / "kiosk.sqlite3"
    make_database(db, rows=100)
    target = backup_database(db, tmp_path / "backups", now=T0)

    assert target.name == "kiosk-20261123T233000Z.sqlite3"
    assert rows_in(target) == rows_in(db)
    connection = sqlite3.connect(target)
    assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    connection.close()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "backups").stat().st_mode) == 0o700
    assert [p.name for p in (tmp_path / "backups").iterdir()] == [target.name]  # no leftovers


def test_backup_of_the_real_kiosk_schema(tmp_path: Path) -> None:
    db_path = tmp_path / "kiosk.sqlite3"
    open_database(db_path).close()
    target = backup_database(db_path, tmp_path / "backups", now=T0)
    assert open_database(target).get_tables()  # migrations see an up-to-date schema


def test_rotation_keeps_the_newest(tmp_path: Path) -> None:
    db = tmp_path / "kiosk.sqlite3"
    make_database(db, rows=3)
    folder = tmp_path / "backups"
    (folder / "notes.txt").parent.mkdir()
    (folder / "notes.txt").write_text("not a backup; never deleted")
    made = [backup_database(db, folder, keep=3, now=T0 + timedelta(days=day)) for day in range(5)]

    assert list_backups(folder) == made[-3:]
    assert (folder / "notes.txt").exists()


def test_two_backups_in_the_same_second_both_survive(tmp_path: Path) -> None:
    db = tmp_path / "kiosk.sqlite3"
    make_database(db, rows=1)
    first = backup_database(db, tmp_path / "b", now=T0)
    second = backup_database(db, tmp_path / "b", now=T0)
    assert first != second
    assert list_backups(tmp_path / "b") == [first, second]


def test_backup_while_a_writer_commits(tmp_path: Path) -> None:
    """Each backup is one consistent snapshot: every transaction wholly in it or not at all."""
    db = tmp_path / "kiosk.sqlite3"
    make_database(db, rows=2000)  # enough pages for the backup to take several steps
    stop = threading.Event()
    commits = 0
    errors: list[BaseException] = []

    def writer() -> None:
        nonlocal commits
        connection = sqlite3.connect(db, timeout=30)
        connection.execute("PRAGMA synchronous = FULL")
        try:
            while not stop.is_set():
                # A transaction of two rows whose n add up to zero: a torn copy would show it.
                with connection:
                    connection.execute("INSERT INTO visit (name, n) VALUES ('pair', 7)")
                    connection.execute("INSERT INTO visit (name, n) VALUES ('pair', -7)")
                commits += 1
        except BaseException as err:  # reported to the test thread
            errors.append(err)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        backups = [
            backup_database(db, tmp_path / "backups", keep=10, now=T0 + timedelta(seconds=i))
            for i in range(5)
        ]
    finally:
        stop.set()
        thread.join(timeout=30)

    assert not errors
    assert commits > 0
    for backup in backups:
        connection = sqlite3.connect(backup)
        pairs = connection.execute("SELECT count(*), sum(n) FROM visit WHERE name = 'pair'")
        count, total = pairs.fetchone()
        assert count % 2 == 0 and (total or 0) == 0
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        connection.close()


def test_a_missing_database_is_an_error_and_leaves_backups_alone(tmp_path: Path) -> None:
    db = tmp_path / "kiosk.sqlite3"
    make_database(db, rows=1)
    kept = backup_database(db, tmp_path / "backups", keep=1, now=T0)
    with pytest.raises(StorageError, match="no database"):
        backup_database(tmp_path / "gone.sqlite3", tmp_path / "backups", keep=1)
    assert list_backups(tmp_path / "backups") == [kept]


def test_a_corrupt_database_is_refused_and_leaves_backups_alone(tmp_path: Path) -> None:
    db = tmp_path / "kiosk.sqlite3"
    make_database(db, rows=1)
    kept = backup_database(db, tmp_path / "backups", keep=1, now=T0)
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not an sqlite database" * 200)
    with pytest.raises(StorageError):
        backup_database(garbage, tmp_path / "backups", keep=1, now=T0 + timedelta(days=1))
    assert list_backups(tmp_path / "backups") == [kept]
    assert not list((tmp_path / "backups").glob("*.partial"))


def test_keep_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        backup_database(tmp_path / "x.sqlite3", tmp_path / "b", keep=0)


def _damaged_copy_is_refused(tmp_path: Path, damage: str) -> None:
    db = tmp_path / "kiosk.sqlite3"
    make_database(db, rows=3000)
    kept = backup_database(db, tmp_path / "backups", keep=1, now=T0)
    data = bytearray(db.read_bytes())
    page = 4096
    assert len(data) > 8 * page, "the table must span pages for the damage to land in it"
    if damage == "torn":
        # The file as a power cut mid-write leaves it: its second half never written.
        data[len(data) // 2 :] = bytes(len(data) - len(data) // 2)
    else:
        # One page of the table overwritten with noise (a bad block of the card).
        data[5 * page : 6 * page] = random.Random(21).randbytes(page)
    db.write_bytes(bytes(data))
    with pytest.raises(StorageError):
        backup_database(db, tmp_path / "backups", keep=1, now=T0 + timedelta(days=1))
    assert list_backups(tmp_path / "backups") == [kept]
    assert not list((tmp_path / "backups").glob("*.partial"))


def test_the_quick_check_refuses_a_torn_database(tmp_path: Path) -> None:
    _damaged_copy_is_refused(tmp_path, "torn")


def test_the_quick_check_refuses_a_page_of_noise(tmp_path: Path) -> None:
    _damaged_copy_is_refused(tmp_path, "noise")


def test_an_index_that_disagrees_with_its_table_needs_the_full_check(tmp_path: Path) -> None:
    """What quick_check does not see (kiosk.storage.backup's docstring): an index whose
    entries are not its table's. The full check refuses the copy."""
    db = tmp_path / "kiosk.sqlite3"
    make_database(db, rows=500)
    connection = sqlite3.connect(db)
    connection.execute("CREATE INDEX visit_n ON visit (n)")
    connection.commit()
    # Make the index's declared column another one than the one its entries hold.
    connection.execute("PRAGMA writable_schema = ON")
    connection.execute(
        "UPDATE sqlite_master SET sql = 'CREATE INDEX visit_n ON visit (name)' "
        "WHERE name = 'visit_n'"
    )
    connection.commit()
    connection.close()
    quick = backup_database(db, tmp_path / "backups", keep=5, now=T0)
    assert rows_in(quick) == rows_in(db)
    with pytest.raises(StorageError, match="integrity_check"):
        backup_database(db, tmp_path / "backups", keep=5, now=T0, full_check=True)
    assert list_backups(tmp_path / "backups") == [quick]


def test_the_full_check_is_due_weekly_and_only_after_it_passed(tmp_path: Path) -> None:
    """`kiosk nightly` runs integrity_check when full_check_due says so: at first, then
    7 days after the last full check that passed; a failed one leaves it due."""
    db = tmp_path / "kiosk.sqlite3"
    make_database(db, rows=50)
    folder = tmp_path / "backups"
    assert full_check_due(folder, T0)
    backup_database(db, folder, now=T0, full_check=True)
    assert not full_check_due(folder, T0 + timedelta(days=6, hours=23))
    assert full_check_due(folder, T0 + timedelta(days=7))
    assert not full_check_due(folder, T0 + timedelta(days=3))
    backup_database(db, folder, now=T0 + timedelta(days=3))  # a quick check moves nothing
    assert full_check_due(folder, T0 + timedelta(days=7))
    assert full_check_due(folder, T0 - timedelta(days=1))  # a clock set back: check again
    (folder / FULL_CHECK_MARK).write_text("not a time\n")
    assert full_check_due(folder, T0 + timedelta(days=1))
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"SQLite format 3\x00" + b"\xff" * 8192)
    with pytest.raises(StorageError):
        backup_database(garbage, folder, now=T0 + timedelta(days=8), full_check=True)
    assert full_check_due(folder, T0 + timedelta(days=8))


def test_kiosk_nightly_runs_the_full_check_once_a_week(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = initialised_kiosk(tmp_path)
    checks = []
    for _night in range(2):
        backup = nightly_steps(config, capsys)["backup"]
        assert Path(backup["path"]).is_file()
        checks.append(backup["check"])
    assert checks == ["integrity_check", "quick_check"]


def test_a_full_check_mark_that_cannot_be_written_keeps_the_backup(tmp_path: Path) -> None:
    db = tmp_path / "kiosk.sqlite3"
    make_database(db, rows=20)
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / FULL_CHECK_MARK).mkdir()  # the mark's place taken: its rename fails
    made = backup_database(db, folder, now=T0, full_check=True)
    assert list_backups(folder) == [made] and rows_in(made) == rows_in(db)
    assert full_check_due(folder, T0 + timedelta(hours=1))  # the next night checks again
    assert not (folder / (FULL_CHECK_MARK + ".partial")).exists()
