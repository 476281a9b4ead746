"""An office starting beside others that serve (a restart, a second worker, a second
machine) must not hold up their writes: opening a database whose schema is current takes
no lock on its tables (kiosk.office.db.create_missing_tables_and_indexes). Before, even
`CREATE INDEX IF NOT EXISTS` took a SHARE lock on each table, and the soak's two offices
deadlocked on it (issue 21). PostgreSQL only: SQLite is for one office process."""

from __future__ import annotations

import os
import threading

import pytest

from kiosk.office.db import open_office_database


def test_opening_a_current_database_waits_for_no_table_lock() -> None:
    url = os.environ.get("KIOSK_TEST_POSTGRES_URL")
    if url is None:
        pytest.skip("PostgreSQL comes with `make test` (scripts/test-postgres.sh start)")
    import psycopg

    open_office_database(url).close_all()  # the schema is current now
    opened = threading.Event()

    def open_again() -> None:
        open_office_database(url).close_all()
        opened.set()

    # A serving office's transaction, mid-write to the feed and the hosts.
    with psycopg.connect(url) as serving:
        serving.execute('LOCK TABLE "change_log" IN ROW EXCLUSIVE MODE')
        serving.execute('LOCK TABLE "office_host" IN ROW EXCLUSIVE MODE')
        threading.Thread(target=open_again, daemon=True).start()
        waited = not opened.wait(20)
    assert not waited, "opening the office database waited for a serving office's writes"
    assert opened.wait(20)
