"""The checks made after a soak, from the kiosks' SQLite files and the office's database:

- every event a kiosk recorded is stored at the office exactly once (none lost, none
  twice, none the kiosk never made), in the kiosk's order (the office's ids follow the
  kiosk's sequence numbers, which are its outbox ids);
- no kiosk's queue holds an event the office confirmed to it (the confirmations each kiosk
  received are in its samples), and every queue is empty;
- each kiosk's pulled state equals the office's change feed: its cursor is the site's
  last change, and each visit and host of the feed is on the kiosk as the feed says.

`final_round` lets each kiosk sync once more first, with every fault off: the last kiosks
to push may have done so after the others' last pull.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from benchmarks.soak.fleet import KioskPlan, open_simulated
from kiosk.office.models import ChangeLog, Event, Site
from kiosk.office.models import Kiosk as OfficeKiosk
from kiosk.storage.models import Host, OutboxEvent, Visit
from kiosk.sync.apply import current_cursor
from kiosk.sync.client import SyncClient, SyncError


@dataclass
class KioskVerdict:
    name: str
    recorded: int = 0
    stored: int = 0
    lost: int = 0
    duplicated: int = 0
    foreign: int = 0  # stored for this kiosk, never in its outbox
    out_of_order: int = 0
    rejected: int = 0
    queued: int = 0
    confirmed_but_queued: int = 0
    feed_mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.lost or self.duplicated or self.foreign or self.out_of_order or self.rejected
            or self.queued or self.confirmed_but_queued or self.feed_mismatches
        )  # fmt: skip


@dataclass
class Verdict:
    kiosks: list[KioskVerdict]

    def totals(self) -> dict[str, int]:
        keys = ("recorded", "stored", "lost", "duplicated", "foreign", "out_of_order",
                "rejected", "queued", "confirmed_but_queued")  # fmt: skip
        totals = {key: sum(getattr(k, key) for k in self.kiosks) for key in keys}
        totals["feed_mismatches"] = sum(len(k.feed_mismatches) for k in self.kiosks)
        totals["kiosks_failing"] = sum(not k.ok for k in self.kiosks)
        return totals

    @property
    def ok(self) -> bool:
        return all(k.ok for k in self.kiosks)

    def failures(self, limit: int = 10) -> list[dict[str, Any]]:
        return [asdict(k) for k in self.kiosks if not k.ok][:limit]


def confirmations(sample_files: Iterable[Path]) -> dict[str, set[str]]:
    """The event ids each kiosk heard the office confirm, from the workers' samples."""
    heard: dict[str, set[str]] = defaultdict(set)
    for path in sample_files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if '"confirmed"' not in line:
                continue
            try:
                row = json.loads(line)
            except ValueError:
                continue  # the last line of a killed worker, cut short
            heard[row["k"]].update(row["confirmed"])
    return heard


def final_round(plan: KioskPlan) -> str:
    """One more push and pull for the kiosk, faults off; an error's text, else ""."""
    kiosk = open_simulated(plan)
    client = SyncClient(kiosk)
    try:
        client.run_once(force=True)
        return ""
    except SyncError as err:
        return str(err)
    finally:
        client.close()
        kiosk.close()


def check_kiosk(plan: KioskPlan, heard: set[str], office_db: Any) -> KioskVerdict:
    verdict = KioskVerdict(plan.name)
    kiosk = open_simulated(plan)
    try:
        with kiosk.using():
            seq = OutboxEvent._meta.primary_key  # the outbox id is the event's seq
            local = cast(list[tuple[int, str, Any, Any]], list(
                OutboxEvent.select(seq, OutboxEvent.event_id, OutboxEvent.sent_at,
                                   OutboxEvent.rejected_at)
                .order_by(seq).tuples()
            ))  # fmt: skip
            cursor = current_cursor()
            visits = {v.ref: v.state for v in Visit.select(Visit.ref, Visit.state)}
            hosts = {h.ref: h.name for h in Host.select(Host.ref, Host.name)}
        with office_db.connection_context():
            stored = [(e.event_id, e.seq) for e in Event.select(Event.event_id, Event.seq)
                      .join(OfficeKiosk).where(OfficeKiosk.kiosk_id == kiosk.kiosk_id)
                      .order_by(Event.id)]  # fmt: skip
            site = Site.get(Site.name == plan.site)
            feed = list(ChangeLog.select().where(ChangeLog.site == site).order_by(ChangeLog.id))
    finally:
        kiosk.close()
    _compare_events(verdict, local, stored, heard)
    _compare_feed(verdict, feed, cursor, visits, hosts)
    return verdict


def _compare_events(
    verdict: KioskVerdict,
    local: list[tuple[int, str, Any, Any]],
    stored: list[tuple[str, int]],
    heard: set[str],
) -> None:
    seq_of = {event_id: seq for seq, event_id, _sent, _rejected in local}
    stored_ids = [event_id for event_id, _seq in stored]
    verdict.recorded, verdict.stored = len(local), len(stored)
    verdict.lost = len(set(seq_of) - set(stored_ids))
    verdict.duplicated = len(stored_ids) - len(set(stored_ids))
    verdict.foreign = len(set(stored_ids) - set(seq_of))
    previous = 0
    for event_id, seq in stored:
        if seq_of.get(event_id) != seq or seq <= previous:
            verdict.out_of_order += 1
        previous = max(previous, seq)
    verdict.rejected = sum(rejected is not None for *_, rejected in local)
    queued = {event_id for _seq, event_id, sent, rejected in local if sent is None and not rejected}
    verdict.queued = len(queued)
    verdict.confirmed_but_queued = len(queued & heard)


def _compare_feed(
    verdict: KioskVerdict,
    feed: list[ChangeLog],
    cursor: int,
    visits: dict[str, str],
    hosts: dict[str, str],
) -> None:
    last = feed[-1].id if feed else 0
    if cursor != last:
        verdict.feed_mismatches.append(f"cursor {cursor}, the site's feed ends at {last}")
    for row in feed:
        data = json.loads(row.data)
        if row.entity == "visit" and visits.get(row.ref) != data.get("state"):
            verdict.feed_mismatches.append(
                f"visit {row.ref}: {visits.get(row.ref)!r} here, "
                f"{data.get('state')!r} at the office"
            )
        elif row.entity == "host" and hosts.get(row.ref) != data.get("name"):
            verdict.feed_mismatches.append(f"host {row.ref}: {hosts.get(row.ref)!r} here")
    del verdict.feed_mismatches[20:]  # the first ones say enough
