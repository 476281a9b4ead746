"""Benchmarks of the domain core and the check-in engine (issue 2's figures).

- Appointment match among 100,000 appointments (a year of bookings), against a full scan
  of the same table measured in the same run.
- A token check-in through the engine on a real SQLite file, commit (fsync) included.
- Token verifications per second on one core.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.app import build_kiosk, init_kiosk
from kiosk.config import load_config
from kiosk.domain import names
from kiosk.domain.clock import ManualClock
from kiosk.domain.tokens import KeyRing, TokenKind, TokenSigner, TokenVerifier, new_ref
from kiosk.domain.values import VisitState
from kiosk.services.checkin import Collected
from kiosk.storage.db import open_database
from kiosk.storage.models import Appointment, Visit

APPOINTMENTS = 100_000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
LATIN_FIRST = ["Anna", "Bob", "Carlos", "Dana", "Erik", "Fatima", "Grace", "Hiro", "Ivan", "Julia"]
LATIN_LAST = ["Stone", "Garcia", "Eriksson", "Okafor", "Tanaka", "Novak", "Silva", "Kim", "Berg"]
SITE = """
[site]
name = "Bench Tower"
after_hours = "open"

[visitor_types.visitor]
photo_required = false
"""


def _median_ms(action: Callable[[], Any], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def _random_name(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
    return f"{rng.choice(LATIN_FIRST)} {rng.choice(LATIN_LAST)} {rng.randint(1, 999)}"


def _fill(kiosk: Any, start: datetime, rng: random.Random) -> list[str]:
    """100,000 appointments over a year, with their expected visits; returns today's names."""
    host, _ = kiosk.directory.add_host("Bench Host", email="bench@example.com")
    today_names = []
    now_ms = int(start.timestamp() * 1000)
    first_id = (
        Appointment.select(Appointment.id).order_by(Appointment.id.desc()).scalar() or 0
    ) + 1
    with kiosk.db.atomic():
        for batch in range(0, APPOINTMENTS, 1000):
            rows = []
            for number in range(batch, batch + 1000):
                name = _random_name(rng)
                day = number % 365 - 182  # today is in the middle of the year
                at = start + timedelta(days=day, minutes=rng.randint(0, 8 * 60))
                if day == 0:
                    today_names.append(name)
                rows.append(
                    {
                        "id": first_id + number,
                        "ref": new_ref(),
                        "host": host.id,
                        "visitor_name": name,
                        "exact_key": names.exact_key(name),
                        "latin_key": names.latin_key(name),
                        "starts_at": at,
                        "ends_at": at + timedelta(hours=1),
                        "updated_at": now_ms,
                    }
                )
            Appointment.insert_many(rows).execute()
            Visit.insert_many(
                [
                    {
                        "ref": new_ref(),
                        "appointment": row["id"],
                        "host": host.id,
                        "state": VisitState.EXPECTED.value,
                        "created_at": now_ms,
                        "updated_at": now_ms,
                    }
                    for row in rows
                ]
            ).execute()
    return today_names


def bench_matching(scratch: Path) -> list[dict[str, Any]]:
    rng = random.Random(7)
    config_path = scratch / "match" / "kiosk.toml"
    config_path.parent.mkdir()
    config_path.write_text(SITE, encoding="utf-8")
    init_kiosk(config_path)
    config = load_config(config_path)
    clock = ManualClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    kiosk = build_kiosk(config, open_database(config.database_path), clock)
    today = _fill(kiosk, datetime(2026, 11, 23, 1, 0, tzinfo=UTC), rng)
    engine = kiosk.engine
    probes = rng.sample(today, 50)
    latin_probes = [names.latin_key(name).title() for name in probes if names.has_han(name)][:25]
    typo_probes = [name[:-1] + "x" for name in probes if not names.has_han(name)][:25]

    def full_scan(name: str) -> list[str]:
        """What matching costs without the day index: every appointment, fuzzily compared."""
        wanted = names.latin_key(name)
        return [
            ref
            for ref, latin in Appointment.select(Appointment.ref, Appointment.latin_key).tuples()
            if names.similarity(wanted, latin) >= 85
        ]

    indexed = _median_ms(lambda: [engine.match_identity(name) for name in probes], 5) / len(probes)
    pinyin = _median_ms(lambda: [engine.match_identity(n) for n in latin_probes], 5) / max(
        1, len(latin_probes)
    )
    fuzzy = _median_ms(lambda: [engine.match_identity(n) for n in typo_probes], 5) / max(
        1, len(typo_probes)
    )
    scan = _median_ms(lambda: full_scan(probes[0]), 3)
    summary = _median_ms(engine.today_summary, 20)
    assert all(engine.match_identity(name) for name in probes[:10])
    kiosk.close()
    return [
        {
            "name": "appointment match among 100,000 (exact name)",
            "median_ms": round(indexed, 3),
            "target": "<= 2 ms",
            "ok": indexed <= 2,
        },
        {"name": "appointment match, pinyin for a Chinese name", "median_ms": round(pinyin, 3)},
        {"name": "appointment match, fuzzy (typo)", "median_ms": round(fuzzy, 3)},
        {"name": "welcome screen's today summary (every 5 s)", "median_ms": round(summary, 3)},
        {
            "name": "full scan of 100,000 appointments (baseline)",
            "median_ms": round(scan, 1),
            "ratio_vs_indexed": round(scan / indexed, 1),
            "ratio_vs_fuzzy": round(scan / fuzzy, 1),
            "target": ">= 20x",
            "ok": scan / max(indexed, fuzzy) >= 20,
        },
    ]


def bench_check_in(scratch: Path) -> list[dict[str, Any]]:
    config_path = scratch / "checkin" / "kiosk.toml"
    config_path.parent.mkdir()
    config_path.write_text(SITE, encoding="utf-8")
    init_kiosk(config_path)
    config = load_config(config_path)
    clock = ManualClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    kiosk = build_kiosk(config, open_database(config.database_path), clock)
    kiosk.directory.add_host("Bench Host", email="bench@example.com")
    signer = kiosk.keys.invitation_signer()
    tokens = [
        kiosk.directory.invite(
            signer, visitor_name=f"Visitor {n}", host="bench@example.com", at=clock.now()
        ).token
        for n in range(200)
    ]
    timings = []
    for token in tokens:
        started = time.perf_counter()
        kiosk.engine.check_in_with_invitation(token, Collected())
        timings.append((time.perf_counter() - started) * 1000)
    kiosk.close()
    median = statistics.median(timings)
    return [
        {
            "name": "token check-in through the engine, commit included (SQLite file)",
            "median_ms": round(median, 2),
            "p90_ms": round(sorted(timings)[int(len(timings) * 0.9)], 2),
            "target": "<= 20 ms",
            "ok": median <= 20,
        }
    ]


def bench_verification() -> list[dict[str, Any]]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    signer = TokenSigner(Ed25519PrivateKey.generate())
    ring = KeyRing()
    ring.trust(TokenKind.BADGE, signer.public_key)
    verifier = TokenVerifier(ring, lambda: now)
    token, _ = signer.sign_badge(
        visit_ref=new_ref(), not_before=now, not_after=now + timedelta(hours=8)
    )
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < 2.0:
        for _ in range(100):
            verifier.verify(token, TokenKind.BADGE)
        count += 100
    rate = count / (time.perf_counter() - started)
    return [
        {
            "name": "token verifications per second, one core",
            "median_ms": round(1000 / rate, 4),
            "per_second": round(rate),
            "target": ">= 5000/s",
            "ok": rate >= 5000,
        }
    ]


def run() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as scratch:
        return bench_matching(Path(scratch)) + bench_check_in(Path(scratch)) + bench_verification()


if __name__ == "__main__":
    for row in run():
        print(row)
