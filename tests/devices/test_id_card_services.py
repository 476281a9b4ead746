"""A card laid on the (simulated) reader, as the touchscreen's services report it: what is
kept (name, keyed hash, last four, expired), the problems in the screen's terms, and the
reader's loss recorded as a device problem."""

from __future__ import annotations

import json
import queue
import time
from pathlib import Path

from kiosk.app import Kiosk, KioskServices, build_kiosk
from kiosk.config import KioskConfig
from kiosk.devices.fake_id_reader import DEMO_CARDS, FakeIdReader
from kiosk.devices.id_reader import CardReaderLoop, SamReader
from kiosk.devices.printers import FakePrinter
from kiosk.domain.clock import ManualClock
from kiosk.domain.identity import hash_document_number
from kiosk.services.keys import KeyStore
from kiosk.storage.db import open_database
from kiosk.storage.models import KioskState, OutboxEvent
from kiosk.ui.services import CardRead


def kiosk_on_a_file(config: KioskConfig, clock: ManualClock, path: Path) -> Kiosk:
    """A kiosk on a database file, as on a real one: the reader's thread records its
    problems there (an in-memory database is one per thread)."""
    keys = KeyStore(config.keys_dir)
    keys.ensure(standalone=True)
    db = open_database(str(path))
    KioskState.insert(key="kiosk_id", value="kiosk-test").on_conflict_ignore().execute()
    keys.register_own_keys("kiosk-test", clock.now())
    return build_kiosk(config, db, clock)


def lift(fake: FakeIdReader) -> None:
    """Take the card away for as long as a visitor does: until the reader was asked twice."""
    fake.remove()
    asked = len(fake.commands)
    deadline = time.monotonic() + 5
    while len(fake.commands) < asked + 2 and time.monotonic() < deadline:
        time.sleep(0.01)


def test_cards_reach_the_screen_as_documents(
    config: KioskConfig, clock: ManualClock, tmp_path: Path
) -> None:
    kiosk = kiosk_on_a_file(config, clock, tmp_path / "kiosk.sqlite3")
    fake = FakeIdReader(read_delay_s=0.0)
    loop = CardReaderLoop(SamReader("", reply_timeout_s=0.5), poll_interval_s=0.05, fake=fake)
    services = KioskServices(kiosk, printer=FakePrinter(), card_reader=loop)
    reads: queue.Queue[CardRead] = queue.Queue()
    try:
        services.start_card_reader(reads.put)
        fake.lay("resident")
        read = reads.get(timeout=5)
        assert read.problem is None and read.document is not None
        salt = kiosk.keys.document_salt()
        assert read.document.name == "刘洋"
        assert read.document.document_hash == hash_document_number(
            DEMO_CARDS["resident"].number, salt
        )
        assert read.document.document_last4 == "0018" and not read.document.expired
        assert services.card_reading.state == "ok"
        for card, problem in (("bad_check", "invalid"), ("expired", None)):
            lift(fake)
            fake.lay(card)
            read = reads.get(timeout=5)
            assert read.problem == problem
        assert read.document is not None and read.document.expired
        lift(fake)
        fake.fault("removed_mid_read")
        fake.lay("resident")
        assert reads.get(timeout=5) == CardRead(None, "misread")
        services.stop_card_reader()
        fake.lay("permit")
        assert reads.empty() and not loop.running  # polls only between start and stop
        services.start_card_reader(reads.put)
        fake.unplug()
        problems = OutboxEvent.select().where(OutboxEvent.kind == "device.problem")
        deadline = time.monotonic() + 5
        while not problems.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [json.loads(event.payload)["device"] for event in problems] == ["id_reader"]
        assert services.card_reading.state == "lost"
    finally:
        services.close()
        kiosk.close()


def test_the_card_s_hash_meets_the_watchlist_and_expiry_rules(
    kiosk: Kiosk, hosts: dict[str, str]
) -> None:
    """As for any document: the watchlist matches the card's number hash (whatever name
    is on it), and an expired card is refused where the visitor type says so."""
    from kiosk.card_reading import screen_value
    from kiosk.domain.errors import CheckInRefused, RefusalReason
    from kiosk.ui.services import Captured, VisitorForm

    fake = FakeIdReader(read_delay_s=0.0)
    loop = CardReaderLoop(SamReader(fake.start(), reply_timeout_s=0.5))
    services = KioskServices(kiosk, printer=FakePrinter(), card_reader=loop)
    salt = kiosk.keys.document_salt()
    today = kiosk.clock.now().date()
    try:
        kiosk.directory.add_watchlist_entry(
            "Someone Else",
            reason="test",
            document_hash=hash_document_number(DEMO_CARDS["permit"].number, salt),
        )
        for card, reason in (
            ("permit", RefusalReason.WATCHLIST),
            ("expired", RefusalReason.DOCUMENT_EXPIRED),
        ):
            fake.lay(card)
            outcome = loop.poll_once()
            assert outcome is not None
            document = screen_value(outcome, salt, today).document
            assert document is not None
            form = VisitorForm(
                name=document.name,
                host_ref=hosts["Maria Schmidt"],
                document_hash=document.document_hash,
                document_last4=document.document_last4,
                document_expired=document.expired,
                name_from_card=True,
            )
            try:
                services.check_in_walk_in(form, Captured(), proceed_if_absent=True)
            except CheckInRefused as refused:
                assert refused.reason is reason
            else:
                raise AssertionError(f"{card}: checked in")
            fake.remove()
            loop.poll_once()
    finally:
        services.close()
        fake.stop()
