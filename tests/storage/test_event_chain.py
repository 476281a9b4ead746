"""The outbox's hash chain: every event is linked to the one before in seq order, written
with the event; the migration chains the events already queued; the chain goes on after
sent events are purged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from peewee import SqliteDatabase

from kiosk.storage.db import open_database
from kiosk.storage.journal import (
    CHAIN_HEAD,
    GENESIS,
    canonical_json,
    enqueue_event,
    event_chain_hash,
    payload_digest,
)
from kiosk.storage.migrations import MIGRATIONS
from kiosk.storage.models import KioskState, OutboxEvent

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def assert_chained(events: list[OutboxEvent], start_hash: str = GENESIS) -> None:
    prev = start_hash
    for event in events:
        assert event.prev_hash == prev
        digest = payload_digest(canonical_json(json.loads(event.payload)))
        assert event.event_hash == event_chain_hash(
            prev, event.id, event.event_id, event.kind, _ms(event.occurred_at), digest
        )
        prev = event.event_hash


def test_each_event_links_to_the_one_before() -> None:
    db = open_database(":memory:")
    with db.atomic():
        for n in range(5):
            enqueue_event(NOW + timedelta(seconds=n), "visit.checked_in", f"v{n}", {"n": n})
    events = list(OutboxEvent.select().order_by(OutboxEvent.id))
    assert [e.id for e in events] == [1, 2, 3, 4, 5]
    assert_chained(events)
    assert KioskState.get_by_id(CHAIN_HEAD).value == f"5 {events[-1].event_hash}"


def test_the_hash_covers_the_payload_digest_and_every_field() -> None:
    db = open_database(":memory:")
    with db.atomic():
        event = enqueue_event(NOW, "visit.checked_in", "v1", {"visitor": {"name": "张伟"}})
    digest = payload_digest(canonical_json({"visitor": {"name": "张伟"}}))
    good = event_chain_hash(GENESIS, 1, event.event_id, "visit.checked_in", _ms(NOW), digest)
    assert event.event_hash == good
    for changed in (
        event_chain_hash(GENESIS, 2, event.event_id, "visit.checked_in", _ms(NOW), digest),
        event_chain_hash(GENESIS, 1, event.event_id, "visit.denied", _ms(NOW), digest),
        event_chain_hash(GENESIS, 1, event.event_id, "visit.checked_in", _ms(NOW) + 1, digest),
        event_chain_hash(
            GENESIS, 1, event.event_id, "visit.checked_in", _ms(NOW), payload_digest("{}")
        ),
    ):
        assert changed != good


def test_the_chain_goes_on_after_sent_events_are_purged() -> None:
    db = open_database(":memory:")
    with db.atomic():
        for n in range(3):
            enqueue_event(NOW, "visit.checked_in", f"v{n}", {"n": n})
    last = OutboxEvent.get_by_id(3)
    OutboxEvent.delete().execute()  # the kiosk's purge removes sent events
    with db.atomic():
        event = enqueue_event(NOW, "visit.checked_out", "v9", {"n": 9})
    assert event.id == 4  # not a reused id: the office would take it for an old seq
    assert event.prev_hash == last.event_hash


def test_an_event_written_around_the_chain_does_not_collide() -> None:
    db = open_database(":memory:")
    with db.atomic():
        enqueue_event(NOW, "visit.checked_in", "v1", {})
    OutboxEvent.create(event_id="f" * 32, kind="x", payload="{}", occurred_at=NOW)
    with db.atomic():
        event = enqueue_event(NOW, "visit.checked_out", "v1", {})
    assert event.id == 3 and event.prev_hash == OutboxEvent.get_by_id(1).event_hash


def test_a_failed_transaction_leaves_no_link_behind() -> None:
    db = open_database(":memory:")
    try:
        with db.atomic():
            enqueue_event(NOW, "visit.checked_in", "v1", {})
            raise RuntimeError("the check-in failed")
    except RuntimeError:
        pass
    assert not KioskState.select().where(KioskState.key == CHAIN_HEAD).exists()
    with db.atomic():
        event = enqueue_event(NOW, "visit.checked_in", "v2", {})
    assert event.id == 1 and event.prev_hash == GENESIS


def test_the_migration_chains_the_events_already_queued(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = SqliteDatabase(str(path))
    for version, step in MIGRATIONS:
        if version < 4:
            step(old)
    old.execute_sql("PRAGMA user_version = 3")
    payloads = [{"visit": "a"}, {"visit": "b", "visitor": {"name": "李娜"}}, {}]
    for n, payload in enumerate(payloads):
        old.execute_sql(
            "INSERT INTO outbox_event (id, event_id, kind, subject_ref, payload, occurred_at,"
            " attempts, last_error) VALUES (?, ?, 'visit.checked_in', '', ?, ?, 0, '')",
            (n * 2 + 1, f"{n:032x}", json.dumps(payload), _ms(NOW) + n),
        )
    old.close()

    db = open_database(path)
    events = list(OutboxEvent.select().order_by(OutboxEvent.id))
    assert [e.id for e in events] == [1, 3, 5]
    assert_chained(events)
    with db.atomic():
        new = enqueue_event(NOW, "visit.checked_out", "b", {})
    assert new.id == 6 and new.prev_hash == events[-1].event_hash
    db.close()
