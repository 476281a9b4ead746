"""Logging a parcel at the kiosk (issue 20): the engine's commit (row, pickup token,
`delivery.logged` and the notice's outbox events, audit entry, on a real SQLite file with
synchronous=FULL) plus the label rendered and encoded for the 80 mm receipt printer.

    python benchmarks/run.py deliveries      (or: python benchmarks/bench_deliveries.py)

Baseline in the same run: a walk-in check-in on the same database (its commit only), so the
ratio says what a parcel costs next to a visitor. Target: log + label <= 100 ms.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.app import build_delivery_desk, build_kiosk, init_kiosk
from kiosk.config import load_config
from kiosk.devices.printers import FakePrinter
from kiosk.domain.clock import ManualClock
from kiosk.parcel_printing import ParcelLabels
from kiosk.services.checkin import Collected, VisitorDetails, WalkIn
from kiosk.services.deliveries import NewParcel
from kiosk.storage.db import open_database

ROUNDS = 40


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def run() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "kiosk.toml"
        path.write_text(
            '[site]\nname = "Harbour Tower"\nafter_hours = "open"\n'
            "[visitor_types.visitor]\nphoto_required = false\n",
            "utf-8",
        )
        init_kiosk(path)
        config = load_config(path)
        clock = ManualClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
        kiosk = build_kiosk(config, open_database(config.database_path), clock)
        host, _ = kiosk.directory.add_host("王芳", email="wang.fang@example.com")
        desk = build_delivery_desk(kiosk)
        from kiosk.app import printer_settings

        labels = ParcelLabels(desk, kiosk.engine, FakePrinter(), printer_settings(config), clock)
        logged, encoded, check_ins = [], [], []
        for round_ in range(ROUNDS + 3):
            clock.advance(timedelta(seconds=30))
            started = time.perf_counter()
            view = desk.log_parcel(
                NewParcel(kind="parcel", carrier="sf", items=2, host_ref=host.ref, waybill="SF1")
            )
            committed = time.perf_counter()
            labels.job_bytes(view.parcel_ref)
            done = time.perf_counter()
            walk_in = WalkIn(VisitorDetails(f"Visitor {round_}"), host.ref)
            before = time.perf_counter()
            kiosk.engine.check_in_walk_in(walk_in, Collected())
            after = time.perf_counter()
            if round_ >= 3:  # the first rounds warm the fonts and the statement cache
                logged.append(done - started)
                encoded.append(done - committed)
                check_ins.append(after - before)
        kiosk.close()
    total, baseline = _median_ms(logged), _median_ms(check_ins)
    return [
        {
            "name": "deliveries: log a parcel (commit + label encoded, 80 mm)",
            "median_ms": total,
            "label_ms": _median_ms(encoded),
            "ratio_vs_walk_in_commit": round(total / baseline, 2) if baseline else None,
            "target": "<= 100 ms",
            "ok": total <= 100,
        },
        {"name": "deliveries: baseline walk-in check-in commit", "median_ms": baseline},
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
