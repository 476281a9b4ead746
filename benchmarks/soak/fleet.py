"""Simulated kiosks: each a real kiosk (its own folder, keys, SQLite file and enrolment,
the check-in engine, the outbox, the notifier) synced by the real `SyncClient` through an
httpx transport that times every request. Many live in one process, two threads each: the
visitors' day and the sync loop (`SyncClient.run_forever`), as on a kiosk.

The day is a realistic one, compressed: walk-in visitors checked in through the engine
(`check_in_walk_in`), their hosts' answers (`acknowledge`, as a host's link does), visitors
leaving (`check_out`), and the notifier's ticks, whose messages to the hosts cannot go out
(the hosts' mail server is a closed port on loopback) and are forwarded to the office
after two failures. Actions come at random (a Poisson process per kiosk) so that the outbox
grows at `events_per_minute` on average.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from kiosk.app import Kiosk, build_kiosk, build_notifier, init_kiosk
from kiosk.config import load_config
from kiosk.domain.errors import KioskError
from kiosk.services.checkin import VisitorDetails, WalkIn
from kiosk.storage.db import open_database
from kiosk.storage.models import Host, OutboxEvent, Visit
from kiosk.sync.client import SyncClient, SyncError

KIOSK_TOML = """
[site]
name = "{site}"
timezone = "Asia/Shanghai"
after_hours = "open"

[visitor_types.visitor]
photo_required = false
"""
FIRST_NAMES = ("Anna", "Bo", "Chen", "Dara", "Emil", "Fang", "Grace", "Hiro", "Ines", "Jun")
LAST_NAMES = ("Eriksson", "Li", "Wang", "Okafor", "Schmidt", "Zhang", "Tanaka", "Silva")
COMPANIES = ("Huawei", "Acme Ltd", "Contoso", "Initech", "")
#: The simulated kiosks' notifier round. The product's loop (Notifier.run) ticks every 2 s
#: and at once after a check-in; 5 s keeps 200 kiosks' rounds within 2 cores, and the
#: messages they forward are the same, a few seconds later.
NOTIFIER_TICK_SECONDS = 5.0


class OffsetClock:
    """The machine's time moved by a fixed amount: a kiosk whose clock is hours off."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class Samples:
    """One JSON line per measurement, flushed at once (a killed process keeps them)."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("a", encoding="utf-8", buffering=1)
        self._lock = threading.Lock()

    def write(self, **row: Any) -> None:
        line = json.dumps(row, separators=(",", ":"))
        with self._lock:
            self._file.write(line + "\n")

    def close(self) -> None:
        with self._lock:
            self._file.close()


class TimingTransport(httpx.HTTPTransport):
    """The real transport, writing each request's path, status (or error) and time, and
    the event ids whose storage the office confirmed to this kiosk."""

    def __init__(self, kiosk_name: str, samples: Samples) -> None:
        super().__init__()
        self._name = kiosk_name
        self._samples = samples

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.time()
        op = {"/v1/events": "push", "/v1/changes": "pull"}.get(request.url.path, "other")
        try:
            response = super().handle_request(request)
            response.read()
        except httpx.HTTPError as err:
            self._samples.write(
                t=started, k=self._name, op=op, ms=(time.time() - started) * 1000,
                status=f"error:{type(err).__name__}",
            )  # fmt: skip
            raise
        self._samples.write(
            t=started, k=self._name, op=op, ms=(time.time() - started) * 1000,
            status=response.status_code,
        )  # fmt: skip
        if op == "push" and response.status_code == 200:
            try:
                results = json.loads(response.content).get("results", [])
            except ValueError:
                results = []
            confirmed = [
                r["event_id"] for r in results if r.get("status") in ("stored", "duplicate")
            ]
            self._samples.write(t=time.time(), k=self._name, confirmed=confirmed)
        return response


@dataclass(frozen=True)
class KioskPlan:
    """One simulated kiosk: its folder, site, office address and enrolment code."""

    name: str
    folder: str
    site: str
    office_url: str
    code: str
    clock_offset_hours: float = 0.0


#: `init_kiosk` and `build_kiosk` read and write through the models' process-wide default
#: database (one kiosk per process, in production): kiosks of one process open in turn.
_OPENING = threading.Lock()


def open_simulated(plan: KioskPlan) -> Kiosk:
    """The kiosk's parts, made (and enrolled later) the first time, reopened after that."""
    config_path = Path(plan.folder) / "kiosk.toml"
    with _OPENING:
        if not config_path.exists():
            config_path.parent.mkdir(parents=True, exist_ok=True)
            config_path.write_text(KIOSK_TOML.format(site=plan.site), encoding="utf-8")
            init_kiosk(config_path)
        config = load_config(config_path)
        clock = OffsetClock(timedelta(hours=plan.clock_offset_hours))
        return build_kiosk(config, open_database(config.database_path), clock)


def down_mail_channel(port: int, host_number: int) -> str:
    """A host's mail channel, for the real apprise sender, on a port where nothing listens:
    the kiosk's messages fail, and are forwarded to the office after two failures."""
    return f"mailto://127.0.0.1:{port}?to=host{host_number}@example.com&from=kiosk@example.com"


class Arrivals:
    """When one simulated kiosk's next visitor action comes: a Poisson process.

    Each gap is exponential, with the mean that makes `events_per_minute` given the events
    an action has made so far on this kiosk (a check-in makes more than a check-out), and
    the first comes after such a gap too, so every kiosk starts at a moment of its own.
    Visitors do not walk into 200 lobbies in step. Paced by a shared clock instead (the
    harness's first version), every kiosk acted within the same second about every 40 s,
    and the office's "calm" was a burst of 200 pushes that no real fleet makes. A real
    fleet's moment in step, the cut-off kiosks all coming back when a partition or an
    office restart ends, is in the faults phase and the catch-up time.
    """

    FIRST_GUESS_EVENTS_PER_ACTION = 3.0

    def __init__(self, rng: random.Random, events_per_minute: float, *, started: float) -> None:
        self._rng = rng
        self._per_second = events_per_minute / 60
        self.started = started
        self.actions = 0
        self.events_per_action = self.FIRST_GUESS_EVENTS_PER_ACTION
        self.next_at = started + self._gap()

    def acted(self, now: float, *, made: int) -> None:
        """One action done at `now`; `made` events in all since the start."""
        self.actions += 1
        self.events_per_action = max(1.0, made / self.actions)
        # From now, not from the planned moment: a kiosk held up does not then rush.
        self.next_at = max(self.next_at, now) + self._gap()

    def _gap(self) -> float:
        return self._rng.expovariate(self._per_second / self.events_per_action)


class SimulatedKiosk:
    def __init__(self, plan: KioskPlan, samples: Samples, *, sync_idle: float, seed: int) -> None:
        self.plan = plan
        self.kiosk = open_simulated(plan)
        self.samples = samples
        self.sync_idle = sync_idle
        self.client = SyncClient(
            self.kiosk, transport=TimingTransport(plan.name, samples), rng=random.Random(seed)
        )
        with self.kiosk.using():
            self.notifier = build_notifier(self.kiosk, link_base_url="http://127.0.0.1:9/l")
        self._rng = random.Random(seed)
        self._visitors = 0

    # ------------------------------------------------------------------ enrolment

    def enrol_and_first_pull(self) -> None:
        """Enrol once (kept across restarts), then pull the site's hosts before the day."""
        if not self.client.status().enrolled:
            self.client.enroll(self.plan.office_url, self.plan.code, self.plan.name)
        deadline = time.monotonic() + 120
        while True:
            try:
                self.client.run_once(force=True)
                return
            except SyncError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    # ------------------------------------------------------------------ the day

    def outbox_size(self) -> int:
        with self.kiosk.using():
            return int(OutboxEvent.select().count())

    def live_day(self, stop: threading.Event, until: float, events_per_minute: float) -> None:
        """Make visitors come, be answered and go until `until` (time.time()), at
        `events_per_minute` on average, as `Arrivals` spaces them."""
        arrivals = Arrivals(self._rng, events_per_minute, started=time.time())
        made_before = self.outbox_size()
        next_tick = arrivals.started + self._rng.uniform(0, NOTIFIER_TICK_SECONDS)
        while not stop.is_set() and time.time() < until:
            now = time.time()
            if now >= arrivals.next_at:
                self._next_action()
                arrivals.acted(now, made=self.outbox_size() - made_before)
            if now >= next_tick:
                self._notifier_round()
                next_tick = now + NOTIFIER_TICK_SECONDS
            stop.wait(max(0.05, min(arrivals.next_at, next_tick) - time.time()))

    def _notifier_round(self) -> None:
        """One notifier round; a failing one is recorded and tried again later, as the
        notifier's own loop does (a busy SQLite file on a starved machine)."""
        try:
            with self.kiosk.using():
                self.notifier.tick()
        except Exception as err:
            self.samples.write(t=time.time(), k=self.plan.name, refused=f"notifier: {err}"[:200])

    def _next_action(self) -> None:
        with self.kiosk.using():
            awaiting = [v.ref for v in Visit.select(Visit.ref).where(Visit.state == "awaiting_host")
                        .where(Visit.kiosk_id == self.kiosk.kiosk_id).limit(20)]  # fmt: skip
            on_site = [v.ref for v in Visit.select(Visit.ref).where(Visit.state == "checked_in")
                       .where(Visit.kiosk_id == self.kiosk.kiosk_id).limit(20)]  # fmt: skip
            draw = self._rng.random()
            try:
                if awaiting and draw < 0.35:
                    self.kiosk.engine.acknowledge(self._rng.choice(awaiting), by="host")
                elif on_site and draw < 0.65:
                    self.kiosk.engine.check_out(self._rng.choice(on_site))
                else:
                    self._check_in()
            # A visit another kiosk moved meanwhile, or a busy SQLite file: a real refusal,
            # recorded; the kiosk's day goes on (its engine's callers, the screens, do too).
            except Exception as err:
                self.samples.write(t=time.time(), k=self.plan.name, refused=str(err)[:200])

    def _check_in(self) -> None:
        hosts = [h.ref for h in Host.select(Host.ref).where(Host.active == True)]  # noqa: E712
        if not hosts:
            raise KioskError("no host pulled yet")
        self._visitors += 1
        visitor = VisitorDetails(
            f"{self._rng.choice(FIRST_NAMES)} {self._rng.choice(LAST_NAMES)}",
            company=self._rng.choice(COMPANIES),
        )
        self.kiosk.engine.check_in_walk_in(WalkIn(visitor, self._rng.choice(hosts)))

    # ------------------------------------------------------------------ sync

    def sync_until(self, stop: threading.Event) -> None:
        """Sync until `stop`, starting at a random moment of the first round's interval:
        kiosks are switched on at different times, not in step."""
        if not stop.wait(self._rng.uniform(0, self.sync_idle)):
            self.client.run_forever(stop, idle=self.sync_idle)

    def backlog(self) -> int:
        return self.client.status().backlog

    def close(self) -> None:
        self.client.close()
        self.kiosk.close()


def run_threads(targets: list[Callable[[], None]], name: str) -> list[threading.Thread]:
    threads = [
        threading.Thread(target=target, name=f"{name}-{number}", daemon=True)
        for number, target in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    return threads
