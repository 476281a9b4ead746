"""Power cut during check-in: a child process checks visitors in and reports each one only
after its commit; it is killed with SIGKILL at random moments, over and over. Afterwards
the database is intact, every reported check-in is there, and the audit chain verifies."""

from __future__ import annotations

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

KILLS = 50

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


@pytest.mark.parametrize("kills", [KILLS, pytest.param(400, marks=pytest.mark.slow, id="soak-400")])
def test_sigkill_during_check_ins_loses_nothing_reported(tmp_path: Path, kills: int) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(SITE, encoding="utf-8")
    init_kiosk(config)
    kiosk = open_kiosk(config)
    kiosk.directory.add_host("Crash Host", email="crash@example.com")
    kiosk.close()

    rng = random.Random(20261122)
    reported: list[str] = []
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    for run in range(kills):
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
        assert len(reported) >= kills
    finally:
        kiosk.close()
