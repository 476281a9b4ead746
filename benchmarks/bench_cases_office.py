"""The office's cases over 100,000 of them (issue 19: the case list and the monthly report
at most 300 ms each).

A site is filled with 100,000 cases over a year (kinds, categories, states, departments,
response, resolution and follow-up times spread as a desk's would be) on PostgreSQL when
$KIOSK_TEST_POSTGRES_URL is set (make bench sets it), else SQLite; then each page is fetched
through the whole app (routing, session, queries, templates, SVG chart) by a receptionist,
and the report is also built alone (as `kiosk office cases report --json` does). The
baseline, measured in the same run, is the home page: the app's fixed cost per request.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from kiosk.dbkit.rows import insert_rows
from kiosk.domain.clock import ManualClock
from kiosk.office.api import create_app
from kiosk.office.cases.models import Case, Department
from kiosk.office.cases.reports import CaseReports
from kiosk.office.cases.rules import KIND_LETTER, KINDS, REPAIR_CATEGORIES, STATES
from kiosk.office.settings import OfficeSettings, SiteSettings, save_site_settings
from kiosk.office.staff import StaffDirectory
from kiosk.office.store import OfficeStore, open_office_database

END = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)
CASES = 100_000
OUTCOMES = ("satisfied", "satisfied", "not_satisfied", "unreachable")
PASSWORD = "bench password 1"
ROUNDS = 15
TARGET_MS = 300.0


def _median_ms(work: Any) -> float:
    work()  # warm: the pool's connection, the template cache
    timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        work()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def seed(site: Any, departments: list[int]) -> None:
    """CASES cases over the year before END, in batches of one statement each."""
    rand = random.Random(19)
    span = 365 * 24 * 3600
    rows = []
    for number in range(CASES):
        opened = END - timedelta(seconds=rand.randrange(span))
        kind = rand.choices(KINDS, weights=(3, 5, 1, 2))[0]
        state = rand.choices(STATES, weights=(1, 1, 1, 2, 2, 12, 1))[0]
        responded = opened + timedelta(minutes=rand.randrange(5, 600))
        resolved = responded + timedelta(hours=rand.randrange(1, 72))
        done = state in ("resolved", "followed_up", "closed")
        followed_up = state in ("followed_up", "closed")
        followed = resolved + timedelta(hours=rand.randrange(1, 30))
        rows.append({
            "ref": f"{number:016x}", "site": site.id,
            "number": f"{KIND_LETTER[kind]}-{opened:%Y%m%d}-K{number:06d}", "kind": kind,
            "urgency": "normal", "state": state, "channel": "kiosk",
            "category": rand.choice(REPAIR_CATEGORIES) if kind == "repair" else "",
            "building": rand.choice("ABCD"), "unit": f"{rand.randrange(100, 3000)}",
            "description": "The tap leaks", "department": rand.choice(departments),
            "opened_at": opened, "response_due_at": opened + timedelta(hours=4),
            "responded_at": responded if state != "received" else None,
            "resolved_at": resolved if done else None,
            "followup_due_at": resolved + timedelta(hours=24) if done else None,
            "followed_up_at": followed if followed_up else None,
            "followup_outcome": rand.choice(OUTCOMES) if followed_up else "",
            "reopened_count": int(rand.random() < 0.03), "updated_at": opened,
        })  # fmt: skip
        if len(rows) == 2000:
            insert_rows(Case._meta.database, Case, rows)
            rows = []
    if rows:
        insert_rows(Case._meta.database, Case, rows)


def run() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as scratch:
        url = os.environ.get("KIOSK_TEST_POSTGRES_URL") or str(Path(scratch) / "office.sqlite3")
        store = OfficeStore(open_office_database(url), clock=ManualClock(END))
        with store.db.connection_context():
            if url.startswith("postgres"):
                store.db.execute_sql('TRUNCATE "site" RESTART IDENTITY CASCADE')
            site = store.site("Bench Tower")
            save_site_settings(site, SiteSettings(timezone="Asia/Shanghai"), END)
            departments = [Department.create(site=site, name=f"Dept {n}").id for n in range(6)]
            with store.db.atomic():
                seed(site, departments)
            store.db.execute_sql("ANALYZE")
            StaffDirectory(store.db, store.clock).add_user(site, "desk", PASSWORD, "reception")
        client = TestClient(create_app(store, OfficeSettings(cookie_secure=False)))
        login = client.get("/login")
        token = login.text.split('name="csrf_token" value="')[1].split('"')[0]
        client.post("/login", data={"username": "desk", "password": PASSWORD, "csrf_token": token})
        backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"

        def fetch(path: str) -> Any:
            def get() -> None:
                answer = client.get(path)
                assert answer.status_code == 200, answer.text[:300]

            return get

        def report_alone() -> None:
            with store.db.connection_context():
                CaseReports().month(site, "2026-11", END)

        baseline = _median_ms(fetch("/"))
        rows: list[dict[str, Any]] = [
            {"name": f"office home page (baseline), {backend}", "median_ms": round(baseline, 1)}
        ]
        measured = [
            ("case list, first page", fetch("/cases")),
            ("case list, overdue repairs", fetch("/cases?kind=repair&late=1")),
            ("case list, one department, resolved",
             fetch(f"/cases?department={departments[2]}&state=resolved")),
            ("case list, page 20", fetch("/cases?page=20")),
            ("monthly report page", fetch("/cases/report?month=2026-11")),
            ("monthly report CSV", fetch("/cases/report?month=2026-11&format=csv")),
            ("monthly report alone (CLI's)", report_alone),
        ]  # fmt: skip
        for label, work in measured:
            median = _median_ms(work)
            rows.append({
                "name": f"{label} over {CASES:,} cases, {backend}",
                "median_ms": round(median, 1), "x_baseline": round(median / baseline, 1),
                "target": f"<= {TARGET_MS:.0f} ms", "ok": median <= TARGET_MS,
            })  # fmt: skip
        store.db.close()
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
