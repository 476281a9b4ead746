"""The real driver (pyserial) against the fake reader on a pseudo-terminal: every card
kind, every fault, slow replies, garbage, and a reader unplugged and plugged back in."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from kiosk.devices.config import IdReaderConfig
from kiosk.devices.errors import ReaderProblem
from kiosk.devices.fake_id_reader import FakeIdReader, lay_on_tray
from kiosk.devices.id_reader import CardOutcome, CardReaderLoop, SamReader, open_card_reader
from kiosk.devices.id_reader_doctor import check_id_reader
from kiosk.devices.protocols import DeviceEvent, DeviceEventKind
from kiosk.domain.resident_card import CardKind, CardProblem

TODAY = date(2026, 12, 7)


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeIdReader]:
    reader = FakeIdReader(read_delay_s=0.0, slow_s=0.3, link_path=tmp_path / "kiosk-idreader")
    reader.start()
    yield reader
    reader.stop()


@pytest.fixture
def loop(fake: FakeIdReader, tmp_path: Path) -> Iterator[CardReaderLoop]:
    reader = SamReader(fake.port, reply_timeout_s=0.5)
    made = CardReaderLoop(
        reader, today=lambda: TODAY, poll_interval_s=0.05, status_path=tmp_path / "state.json"
    )
    yield made
    made.stop()


@pytest.mark.parametrize(
    ("card", "kind", "name"),
    [
        ("resident", CardKind.RESIDENT, "刘洋"),
        ("permanent", CardKind.PERMANENT_RESIDENT, "Anna Eriksson"),
        ("permit", CardKind.RESIDENCE_PERMIT, "陳家明"),
    ],
)
def test_each_kind_of_card_is_read_once(
    fake: FakeIdReader, loop: CardReaderLoop, card: str, kind: CardKind, name: str
) -> None:
    assert loop.poll_once() is None  # nothing on the reader
    fake.lay(card)
    outcome = loop.poll_once()
    assert outcome is not None and outcome.card is not None
    assert (outcome.card.kind, outcome.card.display_name) == (kind, name)
    assert loop.state.sam_id == "05.01-20261207-0000012345-0000678901"
    assert loop.poll_once() is None  # still there: not read again
    fake.remove()
    assert loop.poll_once() is None
    fake.lay(card)
    assert loop.poll_once() is not None  # laid again: read again
    assert fake.reads == 2


@pytest.mark.parametrize(
    ("fault", "reader_problem", "card_problem"),
    [
        ("bad_check", ReaderProblem.BAD_FRAME, None),
        ("short_read", ReaderProblem.SHORT_READ, None),
        ("removed_mid_read", ReaderProblem.CARD_MOVED, None),
        ("unknown_status", ReaderProblem.UNKNOWN_STATUS, None),
        ("garbage", ReaderProblem.BAD_FRAME, None),
        ("bad_text", None, CardProblem.NOT_TEXT),
        ("control_characters", None, CardProblem.CONTROL_CHARACTERS),
        ("impossible_date", None, CardProblem.IMPOSSIBLE_DATE),
    ],
)
def test_every_fault_is_reported_and_the_next_try_works(
    fake: FakeIdReader,
    loop: CardReaderLoop,
    tmp_path: Path,
    fault: str,
    reader_problem: ReaderProblem | None,
    card_problem: CardProblem | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.lay("resident")
    fake.fault(fault)
    outcome = loop.poll_once()
    assert outcome is not None and outcome.card is None
    assert outcome.reader_problem is reader_problem
    assert (outcome.rejected.problem if outcome.rejected else None) is card_problem
    state = (tmp_path / "state.json").read_text(encoding="utf-8")
    assert json.loads(state)["last_error"]
    for said in (state, caplog.text):  # logged and written without the card's contents
        assert "刘洋" not in said and "0018" not in said and "上海" not in said
    assert caplog.text  # but logged
    fake.lay("resident")  # the visitor lays it again (after a bad card text: lifts it first)
    if card_problem is not None:
        fake.remove()
        assert loop.poll_once() is None
        fake.lay("resident")
    again = loop.poll_once()
    assert again is not None and again.card is not None and again.card.name == "刘洋"


def test_cards_whose_data_does_not_check_out(fake: FakeIdReader, loop: CardReaderLoop) -> None:
    for card, problem in (
        ("bad_check", CardProblem.CHECK_CHARACTER),
        ("wrong_birth", CardProblem.BIRTH_DATE_MISMATCH),
    ):
        fake.lay(card)
        outcome = loop.poll_once()
        assert outcome is not None and outcome.rejected is not None
        assert outcome.rejected.problem is problem
        fake.remove()
        loop.poll_once()
    fake.lay("expired")
    outcome = loop.poll_once()
    assert outcome is not None and outcome.card is not None and outcome.card.expired(TODAY)


def test_slow_replies_within_the_timeout_still_read(
    fake: FakeIdReader, loop: CardReaderLoop
) -> None:
    fake.fault("slow")  # 0.3 s more per reply, under the 0.5 s reply timeout
    fake.lay("resident")
    outcome = loop.poll_once()
    assert outcome is not None and outcome.card is not None
    fake.fault("silent")
    fake.remove()
    assert loop.poll_once() is None  # no answer: noted, not put to the visitor
    assert "no answer" in loop.state.last_error


def test_a_sam_fault_is_the_reader_s_not_the_visitor_s(
    fake: FakeIdReader, loop: CardReaderLoop
) -> None:
    fake.fault("sam_fault")
    fake.lay("resident")
    assert loop.poll_once() is None
    assert "SAM fault" in loop.state.last_error and not loop.state.connected
    fake.fault("clear")
    outcome = loop.poll_once()
    assert outcome is not None and outcome.card is not None and loop.state.connected


def test_unplugged_and_plugged_back_in_without_a_restart(
    fake: FakeIdReader, loop: CardReaderLoop, tmp_path: Path
) -> None:
    cards: list[CardOutcome] = []
    events: list[DeviceEvent] = []
    seen = threading.Event()

    def on_card(outcome: CardOutcome) -> None:
        cards.append(outcome)
        seen.set()

    loop.start(on_card, events.append)
    fake.lay("resident")
    assert seen.wait(5)
    fake.unplug()  # the pty disappears: the open port reads EIO
    deadline = time.monotonic() + 5
    while not events and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [e.kind for e in events] == [DeviceEventKind.ID_READER_LOST]
    seen.clear()
    fake.plug_in()  # a new pty, behind the same /dev/kiosk-idreader symlink
    fake.lay("permit")
    assert seen.wait(5)
    assert [c.card.kind if c.card else None for c in cards] == [
        CardKind.RESIDENT,
        CardKind.RESIDENCE_PERMIT,
    ]
    assert events[-1].kind is DeviceEventKind.ID_READER_RESTORED
    loop.stop()
    assert not loop.running and not loop.reader.is_open  # the line is free for the doctor


def test_the_doctor_asks_the_reader_when_the_line_is_free(
    fake: FakeIdReader, tmp_path: Path
) -> None:
    config = IdReaderConfig(kind="serial", port=fake.port)
    found = check_id_reader(config, tmp_path)
    assert found.status == "ok" and "SAM 05.01-20261207-0000012345-0000678901" in found.detail
    assert check_id_reader(IdReaderConfig(kind="serial", port=str(tmp_path / "no")), tmp_path)
    missing = check_id_reader(IdReaderConfig(kind="serial", port=str(tmp_path / "no")), tmp_path)
    assert missing.status == "fail" and "udev" in missing.fix
    fake.fault("sam_fault")
    faulty = check_id_reader(config, tmp_path)
    assert faulty.status == "fail" and "sam_fault" in faulty.detail


def test_the_demo_s_tray_lays_a_card_from_another_process(tmp_path: Path) -> None:
    config = IdReaderConfig(kind="auto", port=str(tmp_path / "absent"), fake_read_delay_s=0.0)
    loop = open_card_reader(config, data_dir=tmp_path, today=lambda: TODAY)
    assert loop is not None and loop.fake is not None  # no reader there: the simulated one
    try:
        loop.plug_in_fake()
        assert loop.poll_once() is None
        lay_on_tray(tmp_path / "id-card-tray", "permanent")
        outcome = loop.poll_once()
        assert outcome is not None and outcome.card is not None
        assert outcome.card.kind is CardKind.PERMANENT_RESIDENT
        loop.poll_once()
        assert loop.fake.card is None  # the visitor took the card back after the read
    finally:
        loop.close()
    assert open_card_reader(IdReaderConfig(kind="off"), data_dir=tmp_path) is None
