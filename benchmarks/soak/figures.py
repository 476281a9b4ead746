"""What a soak measured, from the workers' samples and the office's database: push and
pull latency p50 / p99 per phase, failures per phase, the 5xx answers outside the moments
the office or its database was down, events per second sustained, the largest queue, the
catch-up after the partition and the office's memory; printed as a table, kept as JSON.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from peewee import fn

from kiosk.office.models import Event
from kiosk.office.models import Kiosk as OfficeKiosk

#: A 5xx this long after the office or PostgreSQL came back still counts as theirs.
DOWN_GRACE = 15.0


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def read_samples(paths: Iterable[Path]) -> list[dict[str, Any]]:
    rows = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):  # a killed worker's last line, cut short
                rows.append(json.loads(line))
    return rows


def phase_of(moment: float, phases: list[tuple[str, float, float]]) -> str:
    for name, start, end in phases:
        if start <= moment < end:
            return name
    return "outside"


def latency_by_phase(
    rows: list[dict[str, Any]], phases: list[tuple[str, float, float]]
) -> dict[str, dict[str, Any]]:
    ok: dict[tuple[str, str], list[float]] = defaultdict(list)
    failed: Counter[tuple[str, str]] = Counter()
    for row in rows:
        if row.get("op") not in ("push", "pull"):
            continue
        key = (phase_of(row["t"], phases), row["op"])
        if row["status"] == 200:
            ok[key].append(row["ms"])
        else:
            failed[key] += 1
    table: dict[str, dict[str, Any]] = {}
    for name, _start, _end in phases:
        for op in ("push", "pull"):
            times = ok[(name, op)]
            table[f"{name}/{op}"] = {
                "requests": len(times),
                "failed": failed[(name, op)],
                "p50_ms": _rounded(percentile(times, 0.50)),
                "p99_ms": _rounded(percentile(times, 0.99)),
            }
    return table


def server_errors_outside(
    rows: list[dict[str, Any]], down: list[tuple[float, float]]
) -> list[dict[str, Any]]:
    """Answers with a 5xx status whose request, from its start to its answer, never met a
    moment when the office or its database was down (nor within DOWN_GRACE of their coming
    back): a request sent just before PostgreSQL stopped is answered 503 while it is down."""
    found = []
    for row in rows:
        status = row.get("status")
        if not isinstance(status, int) or status < 500:
            continue
        answered = row["t"] + row.get("ms", 0.0) / 1000
        if any(row["t"] <= end + DOWN_GRACE and answered >= start for start, end in down):
            continue
        found.append({k: row[k] for k in ("t", "k", "op", "status")})
    return found


def largest_queue(rows: list[dict[str, Any]]) -> dict[str, Any]:
    biggest = max((r for r in rows if "backlog" in r), key=lambda r: r["backlog"], default=None)
    if biggest is None:
        return {"events": 0}
    return {"events": biggest["backlog"], "kiosk": biggest["k"], "t": biggest["t"]}


def stored_per_second(office_db: Any, start: float, end: float) -> float:
    """Events the office stored between `start` and `end`, per second."""
    with office_db.connection_context():
        count = Event.select().where(Event.received_at.between(_utc(start), _utc(end))).count()
    return count / max(end - start, 1e-9)


def catch_up_seconds(
    office_db: Any, kiosk_ids: dict[str, float], partition_end: float
) -> dict[str, Any]:
    """After the partition: how long until the office had every event each cut-off kiosk
    made before it ended (kiosk id -> its clock's offset in hours)."""
    slowest, per_kiosk = 0.0, []
    with office_db.connection_context():
        for kiosk_id, offset_hours in kiosk_ids.items():
            made_before = _utc(partition_end) + timedelta(hours=offset_hours)
            last = (
                Event.select(fn.MAX(Event.received_at))
                .join(OfficeKiosk)
                .where((OfficeKiosk.kiosk_id == kiosk_id) & (Event.occurred_at < made_before))
                .scalar()
            )
            if last is None:
                continue
            seconds = max(0.0, last.timestamp() - partition_end)
            per_kiosk.append(seconds)
            slowest = max(slowest, seconds)
    return {
        "kiosks": len(per_kiosk),
        "max_s": round(slowest, 1),
        "p50_s": _rounded(percentile(per_kiosk, 0.5)),
    }


def print_table(report: dict[str, Any]) -> None:
    print(f"\nsoak: {report['config']['kiosks']} kiosks, {report['config']['minutes']} min, "
          f"{report['config']['events_per_minute']} events per kiosk per minute")  # fmt: skip
    print(f"  {'phase/op':<18}{'requests':>10}{'failed':>8}{'p50 ms':>10}{'p99 ms':>10}")
    for name, row in report["latency"].items():
        print(f"  {name:<18}{row['requests']:>10}{row['failed']:>8}"
              f"{_shown(row['p50_ms']):>10}{_shown(row['p99_ms']):>10}")  # fmt: skip
    for name, value in report["figures"].items():
        print(f"  {name:<34} {value}")
    print("  targets:")
    for name, target in report["targets"].items():
        print(f"    {name:<40} {target['measured']!s:>12}  {'ok' if target['ok'] else 'MISSED'}")
    print(f"  checks: {'ok' if report['checks']['ok'] else 'FAILED'} {report['checks']['totals']}")


def _shown(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _utc(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)
