"""Threads that write the same kiosk file (the touchscreen, the print queue, the notifier,
the card reader, sync) take turns; none is refused.

SQLite in WAL mode refuses at once (`database is locked`, without waiting for the busy
timeout) a transaction that read first and then tries to write after another connection
committed in between. `enqueue_event` reads the chain's head before it writes, so every
event would be at risk: a printer failure's alert was lost that way under load.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from kiosk.storage.db import open_database, storage_errors
from kiosk.storage.journal import enqueue_event
from kiosk.storage.models import OutboxEvent

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def test_a_write_between_anothers_read_and_write_waits_its_turn(tmp_path: Path) -> None:
    db = open_database(tmp_path / "k.sqlite3")
    first_has_read = threading.Event()
    other_done = threading.Event()
    failures: list[BaseException] = []

    def other_writer() -> None:
        first_has_read.wait(5)
        try:
            with storage_errors(), db.atomic():
                enqueue_event(NOW, "notification.sent", "n-1", {"n": 1})
        except BaseException as err:  # reported below, in the test's thread
            failures.append(err)
        finally:
            other_done.set()
            db.close()

    thread = threading.Thread(target=other_writer)
    thread.start()
    with storage_errors(), db.atomic():
        assert OutboxEvent.select().count() == 0  # the read that opens the snapshot
        first_has_read.set()
        # The other thread commits here if it may (it must not: this transaction is first).
        other_done.wait(0.5)
        enqueue_event(NOW, "device.problem", "v-1", {"device": "printer"})
    thread.join(10)
    assert not failures, failures
    assert sorted(e.kind for e in OutboxEvent.select()) == ["device.problem", "notification.sent"]
    db.close()


def test_the_office_sqlite_file_takes_turns_the_same_way(tmp_path: Path) -> None:
    """The office on SQLite (a small site's) serves requests on several threads too."""
    from kiosk.office.store import open_office_database

    db = open_office_database(f"sqlite:///{tmp_path / 'office.sqlite3'}")
    db.execute_sql("CREATE TABLE tally (who TEXT)")
    first_has_read = threading.Event()
    other_done = threading.Event()
    failures: list[BaseException] = []

    def other_writer() -> None:
        first_has_read.wait(5)
        try:
            with db.atomic():
                db.execute_sql("INSERT INTO tally VALUES ('other')")
        except BaseException as err:
            failures.append(err)
        finally:
            other_done.set()
            db.close()

    thread = threading.Thread(target=other_writer)
    thread.start()
    with db.atomic():
        assert db.execute_sql("SELECT count(*) FROM tally").fetchone() == (0,)
        first_has_read.set()
        other_done.wait(0.5)
        db.execute_sql("INSERT INTO tally VALUES ('first')")
    thread.join(10)
    assert not failures, failures
    assert db.execute_sql("SELECT who FROM tally ORDER BY rowid").fetchall() == [
        ("first",), ("other",)
    ]  # fmt: skip
    db.close()
