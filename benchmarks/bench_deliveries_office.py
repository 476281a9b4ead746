"""The office's deliveries page over 100,000 parcels (issue 20: at most 300 ms).

A site is filled with 100,000 parcels over a year (kiosk.office.deliveries tables, bulk
rows), on PostgreSQL when $KIOSK_TEST_POSTGRES_URL is set (make bench sets it), else
SQLite; then the deliveries page is fetched through the whole app (routing, session, the
page's queries: its rows, its count and its tabs, and the template) by reception, with
the filters staff use. The baseline, measured in the same run, is the home page: the app's
fixed cost per request.
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
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from kiosk.dbkit.rows import insert_rows
from kiosk.domain.clock import ManualClock
from kiosk.office.api import create_app
from kiosk.office.deliveries.models import Parcel
from kiosk.office.deliveries.rules import DEFAULT_CARRIERS
from kiosk.office.models import OFFICE_MODELS, Kiosk
from kiosk.office.settings import OfficeSettings, SiteSettings, save_site_settings
from kiosk.office.staff import StaffDirectory
from kiosk.office.store import OfficeStore, open_office_database
from kiosk.sync.wire import EventKind

END = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Shanghai")
PASSWORD = "bench password 1"
PARCELS = 100_000
ROUNDS = 15
TARGET_MS = 300.0


def _median_ms(client: TestClient, path: str, params: dict[str, str]) -> float:
    client.get(path, params=params)  # warm: the pool's connection, the template cache
    timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        answer = client.get(path, params=params)
        timings.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.text[:300]
    return statistics.median(timings)


def seed_parcels(store: OfficeStore, site: Any, count: int) -> list[str]:
    """`count` parcels over the year before END: most collected within hours, some waiting,
    a few returned; for 200 hosts and 50 companies. The hosts' refs."""
    rng = random.Random(20)
    kiosk = Kiosk.create(
        kiosk_id="bench-lobby", site=site, name="Lobby", auth_public_key="0" * 64,
        badge_public_key="1" * 64, enrolled_at=END,
    )  # fmt: skip
    hosts = [f"{n:016x}" for n in range(200)]
    rows = []
    for n in range(count):
        logged = END - timedelta(seconds=rng.randrange(365 * 86400))
        roll = rng.random()
        state = "waiting" if roll < 0.03 else "returned" if roll < 0.04 else "collected"
        collected = (
            logged + timedelta(minutes=rng.randrange(5, 600)) if state == "collected" else None
        )
        for_company = rng.random() < 0.2
        rows.append({
            "ref": f"{n:016x}", "site": site.id, "kiosk": kiosk.id, "logged": True,
            "pickup_code": f"{rng.randrange(1, 999999):06d}",
            "host_ref": "" if for_company else rng.choice(hosts),
            "company": f"Company {rng.randrange(50)}" if for_company else "",
            "kind": rng.choice(("parcel", "documents", "food", "flowers", "other")),
            "carrier": rng.choice(DEFAULT_CARRIERS), "items": rng.randrange(1, 4),
            "waybill": f"WB{n:012d}", "shelf": f"{rng.choice('ABCD')}-{rng.randrange(1, 9)}",
            "recipient_left": False, "token_id": f"{n:016x}", "state": state,
            "logged_at": logged, "collected_at": collected,
            "collected_by": "Recipient" if collected else "", "updated_at": END,
        })  # fmt: skip
    for start in range(0, len(rows), 5000):
        with store.db.atomic():
            insert_rows(store.db, Parcel, rows[start : start + 5000])
    return hosts


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
            hosts = seed_parcels(store, site, PARCELS)
            if url.startswith("postgres"):
                store.db.execute_sql("ANALYZE")
            StaffDirectory(store.db, store.clock).add_user(site, "desk", PASSWORD, "reception")
        client = TestClient(create_app(store, OfficeSettings(cookie_secure=False)))
        login = client.get("/login")
        token = login.text.split('name="csrf_token" value="')[1].split('"')[0]
        client.post("/login", data={"username": "desk", "password": PASSWORD, "csrf_token": token})
        backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        baseline = _median_ms(client, "/", {})
        rows: list[dict[str, Any]] = [
            {"name": f"office home page (baseline), {backend}", "median_ms": round(baseline, 1)}
        ]
        first = client.get("/deliveries").text
        cursor = first.split("after=")[1].split('"')[0].replace("&amp;", "&")
        pages = [
            ("deliveries page, all", {}),
            ("deliveries page, waiting", {"state": "waiting"}),
            ("deliveries page, waiting 7+ days, one carrier", {"state": "waiting", "age": "7",
                                                               "carrier": "sf"}),
            ("deliveries page, one recipient", {"host": hosts[7]}),
            ("deliveries page, company search", {"company": "Company 4"}),
            ("deliveries page, second page", {"after": cursor}),
        ]  # fmt: skip
        for label, params in pages:
            median = _median_ms(client, "/deliveries", params)
            rows.append({
                "name": f"{label} over {PARCELS:,} parcels, {backend}",
                "median_ms": round(median, 1), "x_baseline": round(median / baseline, 1),
                "target": f"<= {TARGET_MS:.0f} ms", "ok": median <= TARGET_MS,
            })  # fmt: skip
        rows.append(_ingest_row(store, backend))
        store.db.close()
    return rows


def _ingest_row(store: OfficeStore, backend: str, count: int = 1000) -> dict[str, Any]:
    """One batch of `count` delivery.logged and their delivery.collected, as a kiosk back
    online after a long time pushes them (kiosk.office.intake and deliveries.intake)."""
    logged_at = END.isoformat()
    events = []
    for n in range(count):
        ref = f"{(1 << 60) + n:016x}"
        for seq, kind, payload in (
            (2 * n + 1, EventKind.DELIVERY_LOGGED.value, {
                "parcel_ref": ref, "pickup_code": "123456", "host_ref": "", "company": "Acme",
                "kind": "parcel", "carrier": "sf", "items": 1, "waybill": "", "shelf": "A-1",
                "recipient_left": False, "logged_at": logged_at, "token_id": ref}),
            (2 * n + 2, EventKind.DELIVERY_COLLECTED.value, {
                "parcel_ref": ref, "collected_by": "Zhang Wei", "method": "qr", "signed": True,
                "collected_at": logged_at}),
        ):  # fmt: skip
            event = {"event_id": f"{seq:032x}", "seq": seq, "kind": kind, "subject_ref": ref}
            events.append({**event, "occurred_at": logged_at, "payload": payload})
    with store.db.connection_context():
        kiosk = Kiosk.get(Kiosk.kiosk_id == "bench-lobby")
        started = time.perf_counter()
        report = store.ingest(kiosk, events)
        elapsed = (time.perf_counter() - started) * 1000
    assert report.count("stored") == len(events), report.results[:3]
    return {
        "name": f"ingest {count:,} parcels logged and collected (one batch), {backend}",
        "median_ms": round(elapsed, 1),
        "per_event_ms": round(elapsed / len(events), 3),
    }


if __name__ == "__main__":
    for row in run():
        print(row)
