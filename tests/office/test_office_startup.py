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


def test_every_connection_busy_is_a_503_to_come_back_not_a_500(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The soak's 200 kiosks kept more requests in flight than a process's pool has
    connections: a request waits POOL_WAIT_SECONDS for one, then gets 503 with
    Retry-After (the kiosk keeps its events and comes back), never a 500."""
    url = os.environ.get("KIOSK_TEST_POSTGRES_URL")
    if url is None:
        pytest.skip("PostgreSQL comes with `make test` (scripts/test-postgres.sh start)")
    from fastapi.testclient import TestClient

    from kiosk.office import db as office_db
    from kiosk.office.api import create_app
    from kiosk.office.settings import OfficeSettings
    from kiosk.office.store import OfficeStore

    monkeypatch.setattr(office_db, "POOL_WAIT_SECONDS", 1)
    store = OfficeStore(office_db.open_office_database(url))
    app = create_app(store, OfficeSettings(public_url="http://testserver", cookie_secure=False))
    held, release = threading.Barrier(33), threading.Event()

    def hold_a_connection() -> None:
        with store.db.connection_context():
            held.wait()
            release.wait(30)

    holders = [threading.Thread(target=hold_a_connection, daemon=True) for _ in range(32)]
    for holder in holders:
        holder.start()
    held.wait(30)  # all 32 of the pool's connections are taken
    try:
        with TestClient(app) as client:
            body = {"code_id": "x" * 16, "nonce": "n" * 16, "proof": "p" * 16,
                    "kiosk_id": "kiosk-busy", "auth_public_key": "a" * 64,
                    "badge_public_key": "b" * 64}  # fmt: skip
            answer = client.post("/v1/enrol", json=body)
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "5" and "busy" in answer.json()["detail"]
    finally:
        release.set()
        for holder in holders:
            holder.join(10)
        store.db.close_all()
