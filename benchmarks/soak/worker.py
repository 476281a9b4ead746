"""A process running a share of the simulated kiosks, two threads each (the day and sync),
and a sampler of their queues. `python -m benchmarks.soak.worker PLAN NAME`.

It makes (or reopens) and enrols its kiosks, pulls each site's hosts, says it is ready,
waits for the harness's go (start, end of the load, end of the drain), lives the day until
the load ends, then keeps syncing until every queue is empty or the drain's time is up.
A worker killed and started again (the kiosk restarted mid-push) reopens its kiosks and
goes on where the run is. Every wait is bounded.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.soak.fleet import KioskPlan, Samples, SimulatedKiosk, run_threads

#: How long a worker waits for the harness's go before giving up.
GO_TIMEOUT = 900.0
QUEUE_SAMPLE_EVERY = 5.0


def _wait_for(path: Path, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {path.name} within {timeout:.0f} s")
        time.sleep(0.2)
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _sample_queues(
    kiosks: list[SimulatedKiosk], samples: Samples, stop: threading.Event
) -> dict[str, int]:
    """Each kiosk's backlog, written every QUEUE_SAMPLE_EVERY seconds; the last ones."""
    last: dict[str, int] = {}
    while not stop.wait(QUEUE_SAMPLE_EVERY):
        for simulated in kiosks:
            try:
                last[simulated.plan.name] = simulated.backlog()
            except Exception as err:  # a busy SQLite file: sampled again next time
                samples.write(t=time.time(), k=simulated.plan.name, sample_error=str(err)[:200])
                continue
            samples.write(t=time.time(), k=simulated.plan.name, backlog=last[simulated.plan.name])
    return last


def run_worker(plan_path: Path, name: str) -> int:
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    run_dir = Path(plan["run_dir"])
    samples = Samples(run_dir / f"samples-{name}.jsonl")
    plans = [KioskPlan(**entry) for entry in plan["workers"][name]]
    samples.write(t=time.time(), worker=name, started=len(plans))

    def make(numbered: tuple[int, KioskPlan]) -> SimulatedKiosk:
        number, kiosk_plan = numbered
        simulated = SimulatedKiosk(
            kiosk_plan, samples, sync_idle=plan["sync_idle"], seed=plan["seed"] + number
        )
        simulated.enrol_and_first_pull()
        return simulated

    with ThreadPoolExecutor(max_workers=4) as pool:
        kiosks = list(pool.map(make, enumerate(plans)))
    (run_dir / f"ready-{name}").write_text(str(time.time()), encoding="utf-8")
    go = _wait_for(run_dir / "go.json", GO_TIMEOUT)

    stop_sync, stop_day, stop_sampler = threading.Event(), threading.Event(), threading.Event()
    sync_threads = run_threads([partial(k.sync_until, stop_sync) for k in kiosks], "sync")
    day_threads = run_threads(
        [
            partial(k.live_day, stop_day, go["load_until"], plan["events_per_minute"])
            for k in kiosks
        ],
        "day",
    )
    last: dict[str, int] = {}
    sampler = threading.Thread(
        target=lambda: last.update(_sample_queues(kiosks, samples, stop_sampler)), daemon=True
    )
    sampler.start()
    for thread in day_threads:
        thread.join(timeout=max(0.0, go["load_until"] - time.time()) + 60)
    while time.time() < go["drain_until"]:
        backlogs = [k.backlog() for k in kiosks]
        if not any(backlogs):
            break
        time.sleep(1)
    stop_sync.set()
    stop_sampler.set()
    for thread in sync_threads:
        thread.join(timeout=30)
    sampler.join(timeout=30)
    final = {k.plan.name: k.backlog() for k in kiosks}
    for simulated in kiosks:
        simulated.close()
    samples.write(t=time.time(), worker=name, finished=final)
    (run_dir / f"done-{name}").write_text(json.dumps(final), encoding="utf-8")
    samples.close()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    sys.exit(run_worker(Path(sys.argv[1]), sys.argv[2]))
