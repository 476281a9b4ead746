"""Benchmarks of sync and the office (issue 5's figures), against a real office process
(`kiosk office serve`) on PostgreSQL when $KIOSK_TEST_POSTGRES_URL is set (make bench sets
it), else on SQLite.

- Draining a backlog of 10,000 events from one kiosk.
- Office ingest with 3 kiosks pushing at once (events per second).
- The first pull of a site with 100,000 appointments, then a delta of 100 changes.
- What signing and checking the office's answers adds to the drain and the first pull: the
  answers those two received are signed and verified again here, and that time is compared
  with the rest of the operation (the unsigned baseline) of the same run.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.app import Kiosk, build_kiosk, init_kiosk
from kiosk.config import load_config
from kiosk.domain.clock import SystemClock
from kiosk.domain.tokens import new_ref
from kiosk.office.models import OFFICE_MODELS
from kiosk.office.store import OfficeStore, open_office_database
from kiosk.storage.db import open_database
from kiosk.storage.models import OutboxEvent
from kiosk.sync.client import SyncClient
from kiosk.sync.wire import answer_signed_by, sign_answer

SITE = "Bench Tower"
KIOSK_TOML = '[site]\nname = "Bench Tower"\nafter_hours = "open"\n'


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _office(url: str) -> tuple[subprocess.Popen[bytes], str, OfficeStore]:
    store = OfficeStore(open_office_database(url))
    if url.startswith("postgres"):
        with store.db.connection_context():
            tables = ", ".join(f'"{m._meta.table_name}"' for m in OFFICE_MODELS)
            store.db.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiosk",
            "office",
            "serve",
            "--db",
            url,
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(base + "/v1/health").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the office did not start")
        time.sleep(0.1)
    return server, base, store


class RecordingTransport(httpx.HTTPTransport):
    """The real transport, keeping what the signatures of each 200 answer cover."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[tuple[str, str, bytes]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if response.status_code == 200 and request.url.path != "/v1/enrol":
            response.read()
            nonce = request.headers.get("x-kiosk-nonce", "")
            self.answers.append(
                (nonce, response.headers.get("x-office-time", ""), response.content)
            )
        return response


def _signing_share(answers: list[tuple[str, str, bytes]], elapsed: float) -> float:
    """The time signing and verifying these answers takes, as a share of the rest."""
    key = Ed25519PrivateKey.generate()
    pinned = {key.public_key().public_bytes_raw().hex()}
    started = time.perf_counter()
    for nonce, office_time, body in answers:
        headers = {
            k.lower(): v for k, v in sign_answer([key], 200, nonce, office_time, body).items()
        }
        headers["x-office-time"] = office_time
        assert answer_signed_by(pinned, headers, 200, nonce, body)
    crypto = time.perf_counter() - started
    return crypto / max(elapsed - crypto, 1e-9)


def _kiosk(
    root: Path,
    name: str,
    store: OfficeStore,
    base: str,
    site: str = SITE,
    transport: httpx.BaseTransport | None = None,
) -> tuple[Kiosk, SyncClient]:
    path = root / name / "kiosk.toml"
    path.parent.mkdir(parents=True)
    path.write_text(KIOSK_TOML, encoding="utf-8")
    init_kiosk(path)
    config = load_config(path)
    kiosk = build_kiosk(config, open_database(config.database_path), SystemClock())
    client = SyncClient(kiosk, timeout=120, transport=transport)
    client.enroll(base, store.enrolment_code(site))
    return kiosk, client


def _backlog(kiosk: Kiosk, count: int) -> None:
    """`count` realistic visit events, as a busy day's check-ins leave in the outbox."""
    now = datetime.now(UTC)
    with kiosk.using(), kiosk.db.atomic():
        rows = []
        for number in range(count):
            visit = new_ref()
            payload = {
                "visit": visit,
                "state": "checked_in",
                "kiosk": kiosk.kiosk_id,
                "visitor": {"name": f"Visitor {number}", "company": "Bench Ltd"},
                "method": "walk_in",
                "purpose": "visit_person",
                "level": "ordinary",
                "visitor_type": "visitor",
                "arrived_at": (now + timedelta(seconds=number)).isoformat(),
            }
            rows.append(
                {
                    "event_id": uuid.uuid4().hex,
                    "kind": "visit.checked_in",
                    "subject_ref": visit,
                    "payload": json.dumps(payload),
                    "occurred_at": now,
                }
            )
            if len(rows) == 1000:
                OutboxEvent.insert_many(rows).execute()
                rows = []
        if rows:
            OutboxEvent.insert_many(rows).execute()


def run() -> list[dict[str, Any]]:
    url = os.environ.get("KIOSK_TEST_POSTGRES_URL") or ""
    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        server, base, store = _office(url or str(root / "office.sqlite3"))
        try:
            rows = _drain(root, store, base, backend) + _three(root, store, base, backend)
            rows += _pull(root, store, base, backend)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return rows


def _drain(root: Path, store: OfficeStore, base: str, backend: str) -> list[dict[str, Any]]:
    recorder = RecordingTransport()
    kiosk, client = _kiosk(root, "drain", store, base, transport=recorder)
    client.run_once(force=True)
    _backlog(kiosk, 10_000)
    recorder.answers.clear()
    started = time.perf_counter()
    report = client.run_once(force=True, pull=False)
    elapsed = time.perf_counter() - started
    assert report.pushed == 10_000, report
    share = _signing_share(recorder.answers, elapsed)
    return [
        {
            "name": f"signed answers: share of the drain ({backend})",
            "percent": round(share * 100, 2),
            "target": "<= 5 %",
            "ok": share <= 0.05,
        },
        {
            "name": f"drain 10,000 queued events to the office ({backend})",
            "median_ms": round(elapsed * 1000, 1),
            "events_per_second": round(10_000 / elapsed),
            "target": "<= 10 s",
            "ok": elapsed <= 10,
        },
    ]


def _three(root: Path, store: OfficeStore, base: str, backend: str) -> list[dict[str, Any]]:
    pairs = [_kiosk(root, f"k{n}", store, base) for n in range(3)]
    for kiosk, client in pairs:
        client.run_once(force=True)
        _backlog(kiosk, 5_000)
    threads = [
        threading.Thread(target=client.run_once, kwargs={"force": True, "pull": False})
        for _, client in pairs
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    rate = 15_000 / elapsed
    for _, client in pairs:
        assert client.status().backlog == 0
    return [
        {
            "name": f"office ingest, 3 kiosks pushing 5,000 events each at once ({backend})",
            "median_ms": round(elapsed * 1000, 1),
            "events_per_second": round(rate),
            "target": ">= 3000/s",
            "ok": rate >= 3000,
        }
    ]


PULL_SITE = "Bench Annex"  # its own site: the pull measures the appointments alone


def _pull(root: Path, store: OfficeStore, base: str, backend: str) -> list[dict[str, Any]]:
    host = store.add_host(PULL_SITE, "Bench Host", email="bench@example.com")
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    bookings = [
        {
            "visitor_name": f"Visitor {number}",
            "host_ref": host.ref,
            "starts_at": start + timedelta(minutes=number % (365 * 24 * 60)),
            "company": "Bench Ltd",
        }
        for number in range(100_000)
    ]
    for first in range(0, len(bookings), 10_000):
        store.add_appointments(PULL_SITE, bookings[first : first + 10_000])
    recorder = RecordingTransport()
    _puller, client = _kiosk(root, "puller", store, base, PULL_SITE, recorder)
    recorder.answers.clear()
    started = time.perf_counter()
    report = client.run_once(force=True)
    full = time.perf_counter() - started
    assert report.pulled >= 100_000, report
    share = _signing_share(recorder.answers, full)
    store.add_appointments(
        PULL_SITE,
        bookings[:100]
        and [dict(b, visitor_name=b["visitor_name"] + " (moved)") for b in bookings[:100]],
    )
    started = time.perf_counter()
    delta_report = client.run_once(force=True)
    delta = time.perf_counter() - started
    assert delta_report.pulled == 100, delta_report
    return [
        {
            "name": f"signed answers: share of the first pull ({backend})",
            "percent": round(share * 100, 2),
            "target": "<= 5 %",
            "ok": share <= 0.05,
        },
        {
            "name": f"first pull, site with 100,000 appointments ({backend})",
            "median_ms": round(full * 1000, 1),
            "target": "<= 5 s",
            "ok": full <= 5,
        },
        {
            "name": f"delta pull of 100 changes ({backend})",
            "median_ms": round(delta * 1000, 1),
            "target": "<= 100 ms",
            "ok": delta <= 0.1,
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
