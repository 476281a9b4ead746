"""The soak's run: PostgreSQL, the office, the proxies, the kiosks' worker processes, the
faults on a schedule, then the checks and the report (build/soak/report.json).

Settings come from the environment (`make soak` passes them through):

    SOAK_MINUTES            the load's length (60); faults in its middle half
    SOAK_KIOSKS             simulated kiosks (200), KIOSKS_PER_SITE to a site (4)
    SOAK_EVENTS_PER_MINUTE  each kiosk's events a minute (5)
    SOAK_WORKERS            processes the kiosks share (one per 50 kiosks)
    SOAK_PARTITION_MINUTES  how long half the kiosks are cut off (SOAK_MINUTES / 6)
    SOAK_OFFICES            office processes on one database, kiosks split between them (1)
    SOAK_FAULTS             "all" or "none"
    SOAK_SYNC_IDLE          seconds between a kiosk's sync rounds when idle (5, the product's)
    SOAK_DRAIN_SECONDS      the most time the queues get to empty after the load (300)
    SOAK_DIR                where kiosks, samples and logs go (build/soak)

The PostgreSQL server is the one scripts/test-postgres.sh runs at $KIOSK_TEST_PG_PORT and
$KIOSK_TEST_PG_DIR (the harness restarts it: give the soak a server of its own); the
soak's database on it is made afresh. Everything listens on 127.0.0.1 only, every wait is
bounded, and the run stops by itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.soak import checks, figures
from benchmarks.soak.fleet import KioskPlan, down_mail_channel
from benchmarks.soak.office import REPO, OfficeProcess, Postgres
from benchmarks.soak.proxy import FaultProxy, ProxyLoop
from kiosk.office.store import OfficeStore, open_office_database

HOSTS_PER_SITE = 6
CLOCK_OFFSET_HOURS = 3.0
TARGET_P99_PUSH_MS = 500.0
TARGET_CATCH_UP_S = 120.0


def _env(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass
class SoakConfig:
    minutes: float = 60.0
    kiosks: int = 200
    kiosks_per_site: int = 4
    events_per_minute: float = 5.0
    workers: int = 4
    partition_minutes: float = 10.0
    offices: int = 1
    faults: bool = True
    sync_idle: float = 5.0
    drain_seconds: float = 300.0
    folder: str = str(REPO / "build" / "soak")
    pg_port: int = 54329
    pg_folder: str = ""
    seed: int = 21

    @classmethod
    def from_environment(cls) -> SoakConfig:
        minutes = _env("SOAK_MINUTES", 60)
        kiosks = int(_env("SOAK_KIOSKS", 200))
        return cls(
            minutes=minutes,
            kiosks=kiosks,
            kiosks_per_site=int(_env("SOAK_KIOSKS_PER_SITE", 4)),
            events_per_minute=_env("SOAK_EVENTS_PER_MINUTE", 5),
            workers=int(_env("SOAK_WORKERS", max(1, round(kiosks / 50)))),
            partition_minutes=_env("SOAK_PARTITION_MINUTES", minutes / 6),
            offices=int(_env("SOAK_OFFICES", 1)),
            faults=os.environ.get("SOAK_FAULTS", "all") != "none",
            sync_idle=_env("SOAK_SYNC_IDLE", 5),
            drain_seconds=_env("SOAK_DRAIN_SECONDS", 300),
            folder=os.environ.get("SOAK_DIR", str(REPO / "build" / "soak")),
            pg_port=int(os.environ.get("KIOSK_TEST_PG_PORT", "54329")),
            pg_folder=os.environ.get("KIOSK_TEST_PG_DIR", f"/tmp/lobby-kiosk-pg-{os.getuid()}"),
        )


@dataclass
class Fault:
    at: float  # seconds after the start
    name: str
    action: Callable[[], Any]
    done_at: float = 0.0
    result: Any = None


class Soak:
    def __init__(self, config: SoakConfig) -> None:
        self.config = config
        self.root = Path(config.folder)
        self.postgres = Postgres(config.pg_port, config.pg_folder)
        self.offices: list[OfficeProcess] = []
        self.proxies = ProxyLoop()
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self.restarts: list[float] = []
        self.rss: list[dict[str, Any]] = []
        self.fault_log: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ setting up

    def prepare(self) -> None:
        if self.root.exists():
            shutil.rmtree(self.root)
        (self.root / "kiosks").mkdir(parents=True)
        server = self.postgres.start()
        self.db_url = self.postgres.fresh_database(server)
        self.store = OfficeStore(open_office_database(self.db_url))
        for number in range(self.config.offices):
            office = OfficeProcess(self.db_url, _free_port(), self.root / f"office-{number}.log")
            office.start()
            self.offices.append(office)
        last = self.offices[-1]
        self.proxy_a = self.proxies.add("A", self.offices[0].port, seed=self.config.seed)
        self.proxy_b = self.proxies.add("B", last.port, seed=self.config.seed + 1)
        self.proxy_restart = self.proxies.add("restart", self.offices[0].port, seed=3)
        self.plans = self._plan_kiosks()

    def _plan_kiosks(self) -> dict[str, list[KioskPlan]]:
        config = self.config
        sites = [f"Soak Tower {n + 1}" for n in range(-(-config.kiosks // config.kiosks_per_site))]
        mail_port = _free_port()  # nothing listens there: the hosts' mail server is down
        for site in sites:
            for number in range(HOSTS_PER_SITE):
                self.store.add_host(
                    site, f"Host {number + 1} of {site}", email=f"host{number}@example.com",
                    channels=[down_mail_channel(mail_port, number)],
                )  # fmt: skip
        workers: dict[str, list[KioskPlan]] = {f"w{n}": [] for n in range(config.workers)}
        workers["restart"] = []
        self.partitioned: dict[str, float] = {}
        self.all_plans: list[KioskPlan] = []
        for number in range(config.kiosks):
            restarting = number == config.kiosks - 1 and config.faults
            group_b = number % 2 == 1 and not restarting
            proxy = self.proxy_restart if restarting else self.proxy_b if group_b else self.proxy_a
            site = sites[number // config.kiosks_per_site]
            plan = KioskPlan(
                name=f"kiosk-{number:03d}",
                folder=str(self.root / "kiosks" / f"kiosk-{number:03d}"),
                site=site,
                office_url=f"http://127.0.0.1:{proxy.port}",
                code=self.store.enrolment_code(site),
                clock_offset_hours=CLOCK_OFFSET_HOURS if number == 0 and config.faults else 0.0,
            )
            self.all_plans.append(plan)
            if group_b:
                self.partitioned[plan.name] = plan.clock_offset_hours
            worker = "restart" if restarting else f"w{number % config.workers}"
            workers[worker].append(plan)
        return {name: plans for name, plans in workers.items() if plans}

    def start_workers(self) -> None:
        plan = {
            "run_dir": str(self.root),
            "events_per_minute": self.config.events_per_minute,
            "sync_idle": self.config.sync_idle,
            "seed": self.config.seed,
            "workers": {name: [asdict(p) for p in plans] for name, plans in self.plans.items()},
        }
        (self.root / "plan.json").write_text(json.dumps(plan, indent=1), encoding="utf-8")
        for name in self.plans:
            self._start_worker(name)
        deadline = time.monotonic() + 120 + 3 * self.config.kiosks
        while not all((self.root / f"ready-{name}").exists() for name in self.plans):
            for name, process in self.workers.items():
                if process.poll() is not None:
                    raise RuntimeError(f"worker {name} exited; see {self.root}/worker-{name}.log")
            if time.monotonic() > deadline:
                raise RuntimeError("the kiosks were not enrolled in time")
            time.sleep(0.5)

    def _start_worker(self, name: str) -> None:
        with (self.root / f"worker-{name}.log").open("ab") as log:
            self.workers[name] = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.soak.worker", str(self.root / "plan.json"),
                 name],
                cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    # ------------------------------------------------------------------ the faults

    def schedule(self, load: float) -> list[Fault]:
        if not self.config.faults:
            return []
        partition = self.config.partition_minutes * 60
        network = [self.proxy_a, self.proxy_b]
        office = self.offices[0]
        return [
            Fault(0.25 * load, "network: latency, drops, resets, stalls", lambda: _noisy(network)),
            Fault(0.35 * load, "network calm", lambda: _calm(network)),
            Fault(0.37 * load, "office SIGKILL and restart", lambda: office.kill_and_restart(3)),
            Fault(0.43 * load, "PostgreSQL restart", lambda: self.postgres.restart(3)),
            Fault(0.48 * load, "partition of half the kiosks", lambda: _partition(self.proxy_b)),
            Fault(0.48 * load + partition, "partition ends", lambda: _calm([self.proxy_b])),
            Fault(0.50 * load, "a kiosk restarted mid-push", self._arm_mid_push_kill),
            Fault(0.70 * load, "half-open connections", lambda: _half_open(self.proxy_a)),
            Fault(0.73 * load, "network calm", lambda: _calm([self.proxy_a])),
        ]

    def _apply(self, fault: Fault, start: float) -> None:
        began = time.time()
        print(f"soak: {began - start:7.1f} s  {fault.name}", file=sys.stderr, flush=True)
        try:
            fault.result = fault.action()
        except Exception as err:  # reported, and the checks show what it cost
            fault.result = f"failed: {err}"
            print(f"soak: {fault.name} failed: {err}", file=sys.stderr, flush=True)
        fault.done_at = time.time()
        self.fault_log.append(
            {
                "name": fault.name,
                "at": round(began - start, 1),
                "took_s": round(fault.done_at - began, 1),
                **({"error": fault.result} if isinstance(fault.result, str) else {}),
            }
        )

    def _arm_mid_push_kill(self) -> None:
        def kill_now() -> bool:
            self.proxy_restart.faults.hold_push_answer = None
            process = self.workers["restart"]
            process.kill()
            self.restarts.append(time.time())
            return True

        self.proxy_restart.faults.hold_push_answer = kill_now

    # ------------------------------------------------------------------ the run

    def run(self) -> dict[str, Any]:
        self.prepare()
        self.start_workers()
        load = self.config.minutes * 60
        start = time.time() + 1
        go = {
            "start": start,
            "load_until": start + load,
            "drain_until": start + load + self.config.drain_seconds,
        }
        (self.root / "go.json").write_text(json.dumps(go), encoding="utf-8")
        faults = self.schedule(load)
        self._watch(start, go, faults)
        return self.finish(start, load, faults)

    def _watch(self, start: float, go: dict[str, float], faults: list[Fault]) -> None:
        pending = sorted(faults, key=lambda f: f.at)
        next_rss = start
        hard_stop = go["drain_until"] + 120
        while time.time() < hard_stop:
            now = time.time()
            while pending and now >= start + pending[0].at:
                # In a thread: an office taking 15 s to start must not delay the next fault.
                fault = pending.pop(0)
                threading.Thread(target=self._apply, args=(fault, start), daemon=True).start()
            if now >= next_rss:
                self.rss.append(
                    {
                        "t": round(now - start, 1),
                        "mib": [round(o.rss_bytes() / 2**20, 1) for o in self.offices],
                    }
                )
                next_rss = now + 60
            restart = self.workers.get("restart")
            if (
                restart is not None
                and restart.poll() is not None
                and not (self.root / "done-restart").exists()
            ):
                self._start_worker("restart")
            if all((self.root / f"done-{name}").exists() for name in self.plans):
                return
            time.sleep(0.5)
        raise RuntimeError("the workers did not finish in time")

    def finish(self, start: float, load: float, faults: list[Fault]) -> dict[str, Any]:
        for process in self.workers.values():
            process.wait(timeout=120)
        sample_files = sorted(self.root.glob("samples-*.jsonl"))
        rows = figures.read_samples(sample_files)
        with ThreadPoolExecutor(max_workers=8) as pool:
            errors = pool.map(checks.final_round, self.all_plans)
            rounds = dict(zip(self.all_plans, errors, strict=True))
        final_errors = {plan.name: error for plan, error in rounds.items() if error}
        heard = checks.confirmations(sample_files)
        verdict = checks.Verdict(
            [checks.check_kiosk(p, heard.get(p.name, set()), self.store.db) for p in self.all_plans]
        )
        end_of_faults = start + 0.75 * load
        phases = [
            ("calm", start, start + 0.25 * load),
            ("faults", start + 0.25 * load, end_of_faults),
            ("recovery", end_of_faults, start + load),
            ("drain", start + load, time.time()),
        ]
        down = [w for office in self.offices for w in office.down] + self.postgres.down
        partition_end = next((f.done_at for f in faults if f.name == "partition ends"), None)
        catch_up: dict[str, Any] = (
            figures.catch_up_seconds(
                self.store.db, self._kiosk_ids(self.partitioned), partition_end
            )
            if partition_end
            else {"kiosks": 0, "max_s": None}
        )
        latency = figures.latency_by_phase(rows, phases)
        produced = sum(v.recorded for v in verdict.kiosks)
        server_errors = figures.server_errors_outside(rows, down)
        report: dict[str, Any] = {
            "config": asdict(self.config),
            "latency": latency,
            "figures": {
                "events recorded": produced,
                "events/s stored during the load": round(
                    figures.stored_per_second(self.store.db, start, start + load), 2
                ),
                "events/s asked (kiosks x rate)": round(
                    self.config.kiosks * self.config.events_per_minute / 60, 2
                ),
                "largest queue": figures.largest_queue(rows),
                "catch-up after the partition": catch_up,
                "5xx outside down moments": len(server_errors),
                "office RSS MiB (each minute)": [r["mib"] for r in self.rss],
                "kiosk actions refused (busy SQLite, a visit moved)": sum(
                    1 for row in rows if "refused" in row
                ),
                "kiosk restarts mid-push": len(self.restarts),
                "office starts that failed (database down)": sum(
                    o.failed_starts for o in self.offices
                ),
                "proxy faults": {n: dict(p.counts) for n, p in self.proxies.proxies.items()},
                "final round errors": final_errors,
            },
            "faults": self.fault_log,
            "down": [[round(a - start, 1), round(b - start, 1)] for a, b in down],
            "server_errors": server_errors[:20],
            "memory_bounded": _memory_bounded([r["mib"] for r in self.rss]),
            "checks": {"ok": verdict.ok, "totals": verdict.totals(), "failing": verdict.failures()},
        }
        report["targets"] = _targets(report, verdict.totals())
        return report

    def _kiosk_ids(self, names: dict[str, float]) -> dict[str, float]:
        from benchmarks.soak.fleet import open_simulated

        ids = {}
        for plan in self.all_plans:
            if plan.name in names:
                kiosk = open_simulated(plan)
                ids[kiosk.kiosk_id] = names[plan.name]
                kiosk.close()
        return ids

    def close(self) -> None:
        for process in self.workers.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
        for office in self.offices:
            office.stop()
        self.proxies.close()
        if hasattr(self, "store"):
            self.store.db.close_all() if hasattr(
                self.store.db, "close_all"
            ) else self.store.db.close()


def _targets(report: dict[str, Any], totals: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Issue 21's targets, each with what was measured and whether it was reached."""
    calm_p99 = report["latency"]["calm/push"]["p99_ms"]
    catch_up = report["figures"]["catch-up after the partition"]
    return {
        "p99 push in calm <= 500 ms": {
            "measured": calm_p99,
            "ok": calm_p99 is not None and calm_p99 <= TARGET_P99_PUSH_MS,
        },
        "catch-up after the partition <= 120 s": {
            "measured": catch_up.get("max_s"),
            "ok": catch_up.get("max_s") is not None and catch_up["max_s"] <= TARGET_CATCH_UP_S,
        },
        "0 lost, 0 duplicated": {
            "measured": f"{totals['lost']} lost, {totals['duplicated']} twice",
            "ok": totals["lost"] == 0 and totals["duplicated"] == 0,
        },
        "no 5xx outside down moments": {
            "measured": report["figures"]["5xx outside down moments"],
            "ok": report["figures"]["5xx outside down moments"] == 0,
        },
        "office memory bounded": {
            "measured": report["memory_bounded"]["growth_mib"],
            "ok": report["memory_bounded"]["ok"],
        },
    }


def _noisy(proxies: list[FaultProxy]) -> None:
    for proxy in proxies:
        proxy.faults.latency, proxy.faults.drop = 0.2, 0.04
        proxy.faults.reset, proxy.faults.stall = 0.04, 0.02


def _half_open(proxy: FaultProxy) -> None:
    proxy.faults.stall = 0.3


def _partition(proxy: FaultProxy) -> None:
    proxy.faults.partitioned = True


def _calm(proxies: list[FaultProxy]) -> None:
    for proxy in proxies:
        hook = proxy.faults.hold_push_answer
        proxy.faults.calm()
        proxy.faults.hold_push_answer = hook


def _memory_bounded(samples: list[list[float]]) -> dict[str, Any]:
    """Bounded: the office's memory at the end is within 25 % (and 30 MiB) of its level a
    third of the way in, once warm. An office restarted meanwhile is judged from its restart."""
    totals = [sum(sample) for sample in samples if sum(sample) > 0]
    if len(totals) < 3:
        return {"ok": True, "growth_mib": None, "note": "too short a run to judge"}
    warm = totals[len(totals) // 3]
    growth = totals[-1] - warm
    return {"ok": totals[-1] <= max(warm * 1.25, warm + 30), "growth_mib": round(growth, 1)}


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> int:
    config = SoakConfig.from_environment()
    soak = Soak(config)
    try:
        report = soak.run()
    finally:
        soak.close()
    output = Path(config.folder) / "report.json"
    output.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    figures.print_table(report)
    print(json.dumps(report, default=str))
    return 0 if report["checks"]["ok"] else 1
