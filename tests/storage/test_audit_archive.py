"""Sealed audit archives (kiosk.storage.audit_archive), on a real SQLite file and real gzip
files: old entries leave the database whole and still chained; the chain verifies across
files and database as one; a changed, missing or garbled file is named; a run cut short
before its transaction loses nothing and is done again by the next; the guards stay on;
`kiosk nightly` and `kiosk audit verify` use it."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from peewee import IntegrityError, SqliteDatabase
from tests_support import nightly_steps

from kiosk.storage import audit_archive
from kiosk.storage.audit_archive import (
    ArchiveError,
    archive_audit,
    archive_head,
    read_archive,
    verify_with_archives,
)
from kiosk.storage.db import open_database
from kiosk.storage.journal import append_audit, verify_audit_chain
from kiosk.storage.models import AuditEntry

START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> SqliteDatabase:
    database = open_database(tmp_path / "kiosk.sqlite3")
    yield database
    database.close()


def _days_of_entries(days: int, per_day: int = 3) -> None:
    for day in range(days):
        for number in range(per_day):
            moment = START + timedelta(days=day, minutes=number)
            append_audit(moment, "test", "thing.done", f"d{day}n{number}", {"n": number})


def test_old_entries_move_to_sealed_files_and_the_chain_still_verifies(
    db: SqliteDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_archive, "BATCH", 10)  # several files
    _days_of_entries(20)
    folder = tmp_path / "audit-archive"
    report = archive_audit(db, folder, START + timedelta(days=12))
    assert report.archived == 36 and len(report.files) == 4
    assert sorted(p.name for p in folder.iterdir()) == report.files
    assert {p.stat().st_mode & 0o777 for p in folder.iterdir()} == {0o600}  # as the database
    assert AuditEntry.select().count() == 24
    assert min(e.at for e in AuditEntry.select()) >= START + timedelta(days=12)
    archived = [entry for name in report.files for entry in read_archive(folder / name)]
    assert [e["id"] for e in archived] == list(range(1, 37))
    assert archived[0]["subject"] == "d0n0" and json.loads(archived[0]["details"]) == {"n": 0}
    whole = verify_with_archives(folder)
    assert whole.intact and (whole.entries, whole.archived) == (60, 36)
    database_only = verify_audit_chain()  # goes on from the head's hash
    assert database_only.intact and database_only.entries == 24
    append_audit(START + timedelta(days=30), "test", "after", "x")
    assert verify_with_archives(folder).entries == 61
    assert archive_audit(db, folder, START + timedelta(days=12)).archived == 0  # done already
    with pytest.raises(IntegrityError, match="append-only"):  # the guard is back
        AuditEntry.delete().where(AuditEntry.id == 40).execute()


def test_a_changed_missing_or_garbled_file_is_named(db: SqliteDatabase, tmp_path: Path) -> None:
    _days_of_entries(6)
    folder = tmp_path / "audit-archive"
    [name] = archive_audit(db, folder, START + timedelta(days=3)).files
    path = folder / name
    original = path.read_bytes()
    entries = list(read_archive(path))
    entries[4]["actor"] = "mallory"
    path.write_bytes(gzip.compress(b"".join(json.dumps(e).encode() + b"\n" for e in entries)))
    changed = verify_with_archives(folder)
    assert not changed.intact and changed.first_broken_id == 5 and name in changed.problem
    path.write_bytes(original[: len(original) // 2])
    garbled = verify_with_archives(folder)
    assert not garbled.intact and "cannot be read" in garbled.problem
    path.unlink()
    missing = verify_with_archives(folder)
    assert not missing.intact and "missing" in missing.problem


def test_a_run_cut_short_loses_nothing_and_is_done_again(
    db: SqliteDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _days_of_entries(6)
    folder = tmp_path / "audit-archive"

    def power_cut(*_args: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(audit_archive, "_remove_archived", power_cut)
    with pytest.raises(OSError):
        archive_audit(db, folder, START + timedelta(days=3))
    monkeypatch.undo()
    assert list(folder.iterdir())  # the file was written ...
    assert AuditEntry.select().count() == 18 and archive_head() is None  # ... nothing removed
    assert verify_with_archives(folder).intact  # a file beyond the head is not counted
    _days_of_entries(1)  # the kiosk went on meanwhile
    report = archive_audit(db, folder, START + timedelta(days=4))
    assert report.archived == 12 and len(list(folder.iterdir())) == 1  # the same file, whole
    assert verify_with_archives(folder).intact and verify_with_archives(folder).entries == 21


def test_the_newest_entry_stays_so_the_chain_and_its_ids_go_on(
    db: SqliteDatabase, tmp_path: Path
) -> None:
    """A kiosk idle past the setting: every entry is old, yet the newest stays. The next
    entry chains from it, and its id follows (an emptied SQLite table would start at 1
    again, and that file's name with it)."""
    _days_of_entries(4)
    folder = tmp_path / "audit-archive"
    assert archive_audit(db, folder, START + timedelta(days=365)).archived == 11
    assert [e.id for e in AuditEntry.select()] == [12]
    entry = append_audit(START + timedelta(days=366), "test", "after", "x")
    assert entry.id == 13
    assert archive_audit(db, folder, START + timedelta(days=400)).files == [
        "audit-0000000012.jsonl.gz"
    ]
    whole = verify_with_archives(folder)
    assert whole.intact and (whole.entries, whole.archived) == (13, 12)


def test_a_broken_chain_is_not_archived(db: SqliteDatabase, tmp_path: Path) -> None:
    _days_of_entries(6)
    db.execute_sql("DROP TRIGGER audit_entry_no_update")
    db.execute_sql("UPDATE audit_entry SET details = '{\"n\":9}' WHERE id = 2")
    folder = tmp_path / "audit-archive"
    with pytest.raises(ArchiveError, match=r"broken at entry 2 \(its content was changed\)"):
        archive_audit(db, folder, START + timedelta(days=3))
    assert AuditEntry.select().count() == 18 and not folder.exists()


def test_kiosk_nightly_seals_what_is_older_than_the_setting_and_audit_verify_reads_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kiosk.cli import main as kiosk_cli
    from kiosk.config import load_config

    config = tmp_path / "kiosk.toml"
    config.write_text(
        '[site]\nname = "Test Tower"\n[retention]\naudit_in_database_days = 30\n',
        encoding="utf-8",
    )
    path = load_config(config).database_path
    path.parent.mkdir(parents=True)
    database = open_database(path)
    long_ago = datetime.now(UTC) - timedelta(days=400)
    with database.atomic():  # a year's entries before tonight's
        for number in range(50):
            append_audit(long_ago + timedelta(days=number), "test", "old", f"n{number}")
    database.close()
    assert kiosk_cli(["--config", str(config), "init"]) == 0
    sealed = nightly_steps(config, capsys)["archive_audit"]
    assert sealed == {"archived": 50, "files": ["audit-0000000001.jsonl.gz"]}
    assert (path.parent / "audit-archive" / sealed["files"][0]).is_file()
    assert kiosk_cli(["--config", str(config), "audit", "verify", "--json"]) == 0
    verified = json.loads(capsys.readouterr().out)
    assert verified["intact"] is True and verified["archived"] == 50
    assert verified["entries"] > 50  # init's and the nightly's own entries, in the database
