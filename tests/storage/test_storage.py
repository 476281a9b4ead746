"""Storage: durable settings, migrations that match the models, and an audit chain that
detects any edit or deletion."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from peewee import IntegrityError, OperationalError

from kiosk.domain.errors import StorageError
from kiosk.storage.db import open_database, storage_errors
from kiosk.storage.journal import append_audit, verify_audit_chain
from kiosk.storage.migrations import LATEST_VERSION, schema_version
from kiosk.storage.models import ALL_MODELS, AuditEntry

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_a_file_database_is_durable(tmp_path: Path) -> None:
    db = open_database(tmp_path / "k.sqlite3")
    pragma = lambda name: db.execute_sql(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("synchronous") == 2  # FULL
    assert pragma("foreign_keys") == 1
    assert pragma("busy_timeout") == 5000
    assert schema_version(db) == LATEST_VERSION
    db.close()


def test_opening_twice_migrates_once(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite3"
    open_database(path).close()
    db = open_database(path)
    assert schema_version(db) == LATEST_VERSION
    db.close()


def test_the_migrated_schema_matches_the_models() -> None:
    """Every table of the kiosk's database, the notifier's included, comes from a migration."""
    from kiosk.notify.models import NOTIFY_MODELS

    db = open_database(":memory:")
    migrated = {
        row[0] for row in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    for model in [*ALL_MODELS, *NOTIFY_MODELS]:
        assert model._meta.table_name in migrated, model._meta.table_name
        table = model._meta.table_name
        columns = {row[1] for row in db.execute_sql(f'PRAGMA table_info("{table}")').fetchall()}
        assert columns == {field.column_name for field in model._meta.sorted_fields}, table
        indexes = {row[1] for row in db.execute_sql(f'PRAGMA index_list("{table}")').fetchall()}
        wanted = {
            index.query()[0].split('"')[1] for index in model._schema._create_indexes(safe=False)
        }
        assert wanted <= indexes, table


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite3"
    db = open_database(path)
    db.execute_sql(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    db.close()
    with pytest.raises(RuntimeError, match="newer than this kiosk"):
        open_database(path)


def test_a_file_that_is_not_a_database_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite3"
    path.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(StorageError, match="cannot open the database"):
        open_database(path)


def _chain(count: int) -> None:
    for number in range(count):
        append_audit(NOW, "test", "thing.done", f"ref{number}", {"n": number})


def test_the_audit_chain_verifies_and_is_append_only() -> None:
    db = open_database(":memory:")
    _chain(5)
    assert verify_audit_chain().intact
    assert verify_audit_chain().entries == 5
    with pytest.raises(IntegrityError, match="append-only"):
        AuditEntry.update(actor="mallory").execute()
    with pytest.raises(IntegrityError, match="append-only"):
        AuditEntry.delete().where(AuditEntry.id == 3).execute()
    db.close()


@pytest.mark.parametrize(
    ("tamper", "broken_at"),
    [
        ("UPDATE audit_entry SET details = '{\"n\":99}' WHERE id = 3", 3),
        ("DELETE FROM audit_entry WHERE id = 2", 3),
        ("UPDATE audit_entry SET actor = 'x', entry_hash = 'f' || entry_hash WHERE id = 4", 4),
    ],
)
def test_any_edit_or_deletion_is_detected(tamper: str, broken_at: int) -> None:
    db = open_database(":memory:")
    _chain(6)
    # Someone with the file and sqlite3 can drop the guards; the chain still tells.
    db.execute_sql("DROP TRIGGER audit_entry_no_update")
    db.execute_sql("DROP TRIGGER audit_entry_no_delete")
    db.execute_sql(tamper)
    report = verify_audit_chain()
    assert not report.intact
    assert report.first_broken_id == broken_at
    db.close()


def test_a_full_disk_becomes_a_clear_storage_error() -> None:
    db = open_database(":memory:")
    pages = db.execute_sql("PRAGMA page_count").fetchone()[0]
    db.execute_sql(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StorageError, match="storage is full"), storage_errors(), db.atomic():
        for number in range(2000):
            append_audit(NOW, "test", "filler", "x" * 200, {"n": number})
    assert AuditEntry.select().count() == 0  # the transaction left nothing behind
    db.close()


def test_other_failures_are_wrapped_too() -> None:
    with pytest.raises(StorageError, match="refused"), storage_errors():
        raise OperationalError("database is locked")


def test_a_version_1_database_is_upgraded_in_place(tmp_path: Path) -> None:
    """A kiosk that has run for a while gets new software: its data survives the upgrade."""
    import sqlite3

    from kiosk.storage.migrations import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    old = SqliteDatabaseForTest(path)
    MIGRATIONS[0][1](old)
    old.execute_sql("PRAGMA user_version = 1")
    old.execute_sql(
        "INSERT INTO outbox_event (event_id, kind, subject_ref, payload, occurred_at, attempts, last_error) "
        "VALUES ('e1', 'visit.checked_in', 'v1', '{}', 1, 0, '')"
    )
    old.close()

    db = open_database(path)
    assert schema_version(db) == LATEST_VERSION
    row = db.execute_sql("SELECT event_id, rejected_at FROM outbox_event").fetchone()
    assert row == ("e1", None)
    db.close()
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)


def SqliteDatabaseForTest(path: Path):
    from peewee import SqliteDatabase

    return SqliteDatabase(str(path))
