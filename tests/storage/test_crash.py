"""Power cut during check-in: a child process checks visitors in and reports each one only
after its commit; it is killed with SIGKILL at random moments, over and over. Afterwards
the database is intact, every reported check-in is there, and the audit chain verifies.

`make test` kills it QUICK_KILLS times. The soak (`make test-slow`) is bounded by time, not
by a count: it kills for SOAK_SECONDS (KIOSK_CRASH_SOAK_SECONDS), then checks, and reports
how many kills it managed and how many a minute, so a busy machine gives a smaller soak
rather than a timeout. It must still reach SOAK_MIN_KILLS."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.app import init_kiosk, open_kiosk
from kiosk.storage.db import integrity_problems
from kiosk.storage.journal import verify_audit_chain
from kiosk.storage.models import OutboxEvent, Visit

QUICK_KILLS = 12
SOAK_SECONDS = float(os.environ.get("KIOSK_CRASH_SOAK_SECONDS", "240"))
# A floor that a starved machine still reaches (one round costs a Python start-up, about
# 1.5 s on 2 idle cores and 6 s on busy ones), so that a soak that hardly ran fails.
SOAK_MIN_KILLS = 25
#: Time for the checks after the kills, and for one last round that began just in time.
CHECK_MARGIN = 120

CHILD = """
import sys
from kiosk.app import open_kiosk
from kiosk.services.checkin import VisitorDetails, WalkIn

kiosk = open_kiosk(sys.argv[1])
host = kiosk.directory.find_host("crash@example.com")
number = 0
while True:
    number += 1
    result = kiosk.engine.check_in_walk_in(
        WalkIn(VisitorDetails(f"Visitor {sys.argv[2]}-{number}", company="Crash Ltd"), host.ref)
    )
    print(result.visit_ref, flush=True)
"""

SITE = """
[site]
name = "Crash Tower"
after_hours = "open"

[visitor_types.visitor]
photo_required = false
"""


def test_sigkill_during_check_ins_loses_nothing_reported(tmp_path: Path) -> None:
    kills, _ = kill_and_check(tmp_path, kills=QUICK_KILLS)
    assert kills == QUICK_KILLS


@pytest.mark.slow
@pytest.mark.timeout(SOAK_SECONDS + CHECK_MARGIN)
def test_sigkill_soak_loses_nothing_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kills, elapsed = kill_and_check(tmp_path, seconds=SOAK_SECONDS)
    rate = kills / (elapsed / 60)
    with capsys.disabled():
        print(f"\ncrash soak: {kills} kills in {elapsed:.0f} s, {rate:.1f} kills per minute")
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "crash-soak.json").write_text(
        json.dumps({"kills": kills, "seconds": round(elapsed, 1), "kills_per_minute": rate}),
        encoding="utf-8",
    )
    assert kills >= SOAK_MIN_KILLS, f"only {kills} kills in {SOAK_SECONDS:.0f} s"


def kill_and_check(
    tmp_path: Path, *, kills: int | None = None, seconds: float | None = None
) -> tuple[int, float]:
    """Kill the checking-in child `kills` times, or as often as fits in `seconds`; then
    check the database. Returns the kills made and the time they took."""
    config = tmp_path / "kiosk.toml"
    config.write_text(SITE, encoding="utf-8")
    init_kiosk(config)
    kiosk = open_kiosk(config)
    kiosk.directory.add_host("Crash Host", email="crash@example.com")
    kiosk.close()

    rng = random.Random(20261122)
    reported: list[str] = []
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    started = time.monotonic()
    run = 0
    while (kills is not None and run < kills) or (
        seconds is not None and time.monotonic() - started < seconds
    ):
        run += 1
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(config), str(run)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        assert child.stdout is not None
        first = child.stdout.readline()  # wait until it is checking visitors in
        assert first, child.stderr.read() if child.stderr else "child died"
        reported.append(first.strip())
        time.sleep(rng.uniform(0.0, 0.25))
        child.send_signal(signal.SIGKILL)
        rest, _ = child.communicate()
        # A line cut in half by the kill was never fully reported.
        reported += [line for line in rest.splitlines() if len(line) == 16]
        assert child.returncode == -signal.SIGKILL
    elapsed = time.monotonic() - started

    kiosk = open_kiosk(config)
    try:
        assert integrity_problems(kiosk.db) == []
        stored = {visit.ref for visit in Visit.select(Visit.ref)}
        missing = [ref for ref in reported if ref not in stored]
        assert missing == [], f"{len(missing)} reported check-ins lost"
        chain = verify_audit_chain()
        assert chain.intact, chain.problem
        # Every stored visit has its outbox events: nothing half-committed.
        for visit in Visit.select():
            kinds = {
                e.kind for e in OutboxEvent.select().where(OutboxEvent.subject_ref == visit.ref)
            }
            assert {"visit.checked_in", "visit.awaiting_host"} <= kinds
        assert len(reported) >= run
    finally:
        kiosk.close()
    return run, elapsed
