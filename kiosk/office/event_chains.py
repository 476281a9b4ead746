"""The check of each kiosk's event chain at the office: every event a kiosk pushed links to
the one before by its hash (kiosk.domain.event_chain), so a changed, replaced or missing
event shows as a break or a gap."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from kiosk.domain.event_chain import GENESIS, canonical_json, event_chain_hash, payload_digest
from kiosk.office.models import Event, Kiosk


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass
class ChainCheck:
    kiosk_id: str
    kiosk_name: str
    checked: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    unchained: int = 0  # sent before the kiosk chained its events
    gaps: list[tuple[int, int]] = field(default_factory=list)
    broken_seq: int | None = None
    problem: str = ""

    @property
    def status(self) -> str:
        if self.broken_seq is not None:
            return "broken"
        if self.gaps:
            return "gap"
        return "ok" if self.checked else "empty"


def verify_chain(kiosk: Kiosk) -> ChainCheck:
    """Walk one kiosk's events in seq order and check every link: the payload against its
    digest (unless the purge anonymised it), each hash against its fields, and each
    prev_hash against the event before. Missing seqs are gaps, not breaks: those events
    were not received (still unsent, or refused by the office); the link across a gap
    cannot be checked. Events the office made itself (seq 0) are not the kiosk's."""
    check = ChainCheck(kiosk.kiosk_id, kiosk.name or kiosk.kiosk_id)
    query = (
        Event.select(
            Event.seq,
            Event.event_id,
            Event.kind,
            Event.occurred_at,
            Event.payload,
            Event.prev_hash,
            Event.event_hash,
            Event.payload_digest,
            Event.anonymised_at,
        )
        .where((Event.kiosk == kiosk.id) & (Event.seq > 0))
        .order_by(Event.seq, Event.id)
        .tuples()
    )
    previous_seq: int | None = None
    previous_hash: str | None = None
    for (
        seq,
        event_id,
        kind,
        occurred,
        payload,
        prev_hash,
        event_hash,
        digest,
        anonymised,
    ) in query.iterator():
        check.checked += 1
        check.first_seq = seq if check.first_seq is None else check.first_seq
        check.last_seq = seq

        def broken(problem: str, at: int = seq) -> ChainCheck:
            check.broken_seq, check.problem = at, problem
            return check

        if previous_seq is not None and seq == previous_seq:
            return broken(f"two events carry seq {seq}")
        expected_before = (previous_seq or 0) + 1
        if seq > expected_before:
            check.gaps.append((expected_before, seq - 1))
            previous_hash = None
        if not event_hash:
            check.unchained += 1
            previous_seq, previous_hash = seq, None
            continue
        if anonymised is None and payload_digest(canonical_json(json.loads(payload))) != digest:
            return broken("its payload was changed after it arrived")
        if event_chain_hash(prev_hash, seq, event_id, kind, _ms(occurred), digest) != event_hash:
            return broken("its fields do not match its hash: it was changed")
        if seq == 1 and prev_hash != GENESIS:
            return broken("the first event does not start the chain")
        if previous_hash is not None and prev_hash != previous_hash:
            return broken(
                f"it does not follow event {previous_seq}: that one was changed or replaced"
            )
        previous_seq, previous_hash = seq, event_hash
    return check


def verify_site_chains(site_id: int) -> list[ChainCheck]:
    return [
        verify_chain(kiosk)
        for kiosk in Kiosk.select().where(Kiosk.site == site_id).order_by(Kiosk.name, Kiosk.id)
    ]
