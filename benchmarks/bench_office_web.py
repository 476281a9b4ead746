"""The office web's report pages over one year of visits (issue 6: at most 500 ms each).

A site is filled with 100,000 visits (kiosk.office.reporting.seed_year) on PostgreSQL when
$KIOSK_TEST_POSTGRES_URL is set (make bench sets it), else SQLite; then each page is fetched
through the whole app (routing, session, queries, templates, SVG charts) by an admin.
The baseline, measured in the same run, is the home page: the app's fixed cost per request.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from kiosk.domain.clock import ManualClock
from kiosk.office import reporting
from kiosk.office.api import create_app
from kiosk.office.models import OFFICE_MODELS
from kiosk.office.settings import OfficeSettings, SiteSettings, save_site_settings
from kiosk.office.staff import StaffDirectory
from kiosk.office.store import OfficeStore, open_office_database

END = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Shanghai")
PASSWORD = "bench password 1"
ROUNDS = 15
TARGET_MS = 500.0


def _median_ms(client: TestClient, path: str, params: dict[str, str]) -> float:
    client.get(path, params=params)  # warm: the pool's connection, the template cache
    timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        answer = client.get(path, params=params)
        timings.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.text[:300]
    return statistics.median(timings)


def run() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as scratch:
        url = os.environ.get("KIOSK_TEST_POSTGRES_URL") or str(Path(scratch) / "office.sqlite3")
        store = OfficeStore(open_office_database(url), clock=ManualClock(END))
        with store.db.connection_context():
            if url.startswith("postgres"):
                tables = ", ".join(f'"{model._meta.table_name}"' for model in OFFICE_MODELS)
                store.db.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            site = store.site("Bench Tower")
            save_site_settings(site, SiteSettings(timezone=ZONE.key), END)
            seeded = reporting.seed_year(store.db, site, end=END, zone=ZONE)
            if url.startswith("postgres"):
                store.db.execute_sql("ANALYZE")
            StaffDirectory(store.db, store.clock).add_user(site, "boss", PASSWORD, "admin")
        client = TestClient(create_app(store, OfficeSettings(cookie_secure=False)))
        login = client.get("/login")
        token = login.text.split('name="csrf_token" value="')[1].split('"')[0]
        client.post("/login", data={"username": "boss", "password": PASSWORD, "csrf_token": token})
        backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        baseline = _median_ms(client, "/", {})
        rows: list[dict[str, Any]] = [
            {
                "name": f"office home page (baseline), {backend}",
                "median_ms": round(baseline, 1),
            }
        ]
        pages = [
            ("report, one day", "/reports", {"period": "day", "day": "2026-11-19"}),
            ("report, one week", "/reports", {"period": "week", "day": "2026-11-19"}),
            ("report, one month", "/reports", {"period": "month", "day": "2026-11-19"}),
            ("visit log, first page", "/visits", {}),
            ("on-site list", "/onsite", {}),
        ]
        for label, path, params in pages:
            median = _median_ms(client, path, params)
            rows.append(
                {
                    "name": f"{label} over {seeded:,} visits, {backend}",
                    "median_ms": round(median, 1),
                    "x_baseline": round(median / baseline, 1),
                    "target": f"<= {TARGET_MS:.0f} ms",
                    "ok": median <= TARGET_MS,
                }
            )
        store.db.close()
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
