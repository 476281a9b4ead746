"""A simulated resident-ID card reader that speaks the SAM protocol on a pseudo-terminal.

The kiosk's real driver (pyserial, `kiosk.devices.id_reader`) opens the pty's other end as
it would /dev/ttyUSB0; this side answers command frames as a reader does, at the line's
real speed (10 bits a byte at `baudrate`) plus the reader's own time to read a card
(`read_delay_s`). Like OctoPrint's virtual printer it ships in the product and fails on
purpose:

    lay(card) / remove()       a card (a `FakeCard`, or a name of DEMO_CARDS) on the reader
    fault(name)                one of FAULTS; "clear" ends a lasting one
    unplug() / plug_in()       the reader goes away (the pty closes: the driver sees EIO)
                               and comes back on a new pty; `link_path`, if given, is a
                               symlink to the current one, as udev's /dev/kiosk-idreader

With `tray_dir`, a card (and a fault) can be laid from another process: `kiosk demo-card`
writes tray_dir/card.json, read here at the next "find card". A card laid from the tray
is picked up again after one complete read, as a visitor takes their card back.

Cards are encoded from the field layouts of `kiosk.domain.resident_card.LAYOUTS`; the
tests check those bytes against frames they build themselves from the specification.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import struct
import threading
import time
import tty
from collections import deque
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from kiosk.devices import sam_protocol as sam
from kiosk.domain.resident_card import CARD_TYPE_AT, LAYOUTS, TEXT_LENGTH, CardKind

log = logging.getLogger(__name__)

#: Faults by name. One-shot ones spoil the next card read; lasting ones stay until "clear".
ONE_SHOT_FAULTS = {
    "bad_check": "the base information's check byte is wrong",
    "short_read": "the base information stops half-way (then silence)",
    "removed_mid_read": "the card leaves during the read (status 41), and is gone",
    "unknown_status": "the read answers a status the protocol does not list (0x77)",
    "bad_text": "the card's name is not valid UCS-2 (a lone surrogate)",
    "control_characters": "the card's name holds a control character",
    "impossible_date": "the card's birth date is 30 February",
    "garbage": "the read answers bytes that are not a frame",
}
LASTING_FAULTS = {
    "slow": "every reply takes `slow_s` longer",
    "sam_fault": "the SAM fails its self-test: every command answers status 60",
    "silent": "the reader answers nothing",
}
FAULTS = {**ONE_SHOT_FAULTS, **LASTING_FAULTS, "gone": "unplug()", "clear": "no fault"}
PHOTO_LENGTH = 1024
#: A made-up SAM id, printed 05.01-20261207-0000012345-0000678901.
FAKE_SAM_ID = struct.pack("<HHIII", 5, 1, 20261207, 12345, 678901)


@dataclass(frozen=True)
class FakeCard:
    """A card's printed fields; `text()` is its 256 bytes as the SAM returns them."""

    kind: CardKind
    name: str
    sex: str
    birth_date: str  # YYYYMMDD
    number: str
    valid_from: str
    valid_until: str  # YYYYMMDD or 长期
    ethnicity: str = ""
    address: str = ""
    authority: str = ""
    english_name: str = ""
    nationality: str = ""
    pass_number: str = ""
    issues: str = ""
    version: str = "01"

    def text(self) -> bytes:
        out = bytearray(" ".encode("utf-16-le") * (TEXT_LENGTH // 2))
        for name, offset, length in LAYOUTS[self.kind]:
            value = getattr(self, name).encode("utf-16-le")[:length]
            out[offset : offset + len(value)] = value
        marker = {CardKind.PERMANENT_RESIDENT: "I", CardKind.RESIDENCE_PERMIT: "J"}.get(self.kind)
        if marker:
            out[CARD_TYPE_AT : CARD_TYPE_AT + 2] = marker.encode("utf-16-le")
        return bytes(out)


def _next_years(years: int) -> str:
    today = date.today()
    return f"{today.year + years}{today.month:02d}{min(today.day, 28):02d}"


#: The demo's cards (made-up people; the numbers' check characters are right).
DEMO_CARDS: dict[str, FakeCard] = {
    "resident": FakeCard(
        CardKind.RESIDENT,
        name="刘洋",
        sex="1",
        ethnicity="01",
        birth_date="19880512",
        address="上海市浦东新区世纪大道100号",
        number="310115198805120018",
        authority="上海市公安局浦东分局",
        valid_from="20180601",
        valid_until=_next_years(10),
    ),
    "permanent": FakeCard(
        CardKind.PERMANENT_RESIDENT,
        name="安娜",
        english_name="ERIKSSON, ANNA",
        sex="2",
        birth_date="19850304",
        number="SWE318503040017",
        nationality="SWE",
        authority="1500",
        valid_from="20200101",
        valid_until=_next_years(5),
    ),
    "permit": FakeCard(
        CardKind.RESIDENCE_PERMIT,
        name="陳家明",
        sex="1",
        birth_date="19900101",
        address="香港九龍彌敦道1號",
        number="810000199001010035",
        authority="公安部出入境管理局",
        valid_from="20210101",
        valid_until=_next_years(3),
        pass_number="H01234567",
        issues="01",
    ),
}
DEMO_CARDS["expired"] = replace(
    DEMO_CARDS["resident"], valid_from="20100101", valid_until="20200101"
)
DEMO_CARDS["long_term"] = replace(DEMO_CARDS["resident"], valid_until="长期")
DEMO_CARDS["bad_check"] = replace(DEMO_CARDS["resident"], number="310115198805120019")
DEMO_CARDS["wrong_birth"] = replace(DEMO_CARDS["resident"], birth_date="19880513")


class FakeIdReader:
    """The reader: a thread answering on the master side of a pty (see the module doc)."""

    def __init__(
        self,
        *,
        baudrate: int = 115200,
        read_delay_s: float = 0.4,
        command_delay_s: float = 0.005,
        slow_s: float = 3.0,
        link_path: Path | None = None,
        tray_dir: Path | None = None,
    ) -> None:
        self.baudrate = baudrate
        self.read_delay_s = read_delay_s
        self.command_delay_s = command_delay_s
        self.slow_s = slow_s
        self.link_path = link_path
        self.tray_dir = tray_dir
        self.card: FakeCard | None = None
        #: The latest commands received (bounded: `make run` polls all day), for the tests.
        self.commands: deque[sam.Command] = deque(maxlen=10_000)
        self.finds = 0  # "find card" commands received, ever
        self.reads = 0  # complete base-information reads
        self._one_shot: str | None = None
        self._lasting: str | None = None
        self._from_tray = False
        self._tray_seen = self._tray_stamp()  # an order left from before is not acted on
        self._lock = threading.Lock()
        self._master = self._slave = -1
        self._port = ""
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # ------------------------------------------------------------ the world

    @property
    def port(self) -> str:
        """Where the driver connects: the symlink if there is one, else the pty itself."""
        return str(self.link_path) if self.link_path else self._port

    @property
    def plugged_in(self) -> bool:
        return self._thread is not None

    def lay(self, card: FakeCard | str) -> None:
        with self._lock:
            self.card = DEMO_CARDS[card] if isinstance(card, str) else card
            self._from_tray = False

    def remove(self) -> None:
        with self._lock:
            self.card = None

    def fault(self, name: str) -> None:
        if name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}; one of {', '.join(FAULTS)}")
        if name == "gone":
            self.unplug()
            return
        with self._lock:
            if name == "clear":
                self._one_shot = self._lasting = None
            elif name in ONE_SHOT_FAULTS:
                self._one_shot = name
            else:
                self._lasting = name

    # ------------------------------------------------------------ the device

    def start(self) -> str:
        """Plug the reader in; returns the port to open."""
        self.plug_in()
        return self.port

    def plug_in(self) -> None:
        if self._thread is not None:
            return
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # bytes as they are: no echo, no CR/LF translation
        self._port = os.ttyname(self._slave)
        if self.link_path is not None:
            temporary = self.link_path.with_name(self.link_path.name + ".new")
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            temporary.symlink_to(self._port)
            os.replace(temporary, self.link_path)
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="fake-id-reader", daemon=True)
        self._thread.start()

    def unplug(self) -> None:
        """The USB cable pulled: the pty disappears, an open port reads EIO."""
        thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None:
            thread.join(timeout=5)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._master = self._slave = -1
        if self.link_path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.link_path.unlink()

    def stop(self) -> None:
        self.unplug()

    def _serve(self) -> None:
        frames = sam.FrameReader()
        master = self._master
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([master], [], [], 0.1)
                if not ready:
                    continue
                chunk = os.read(master, 4096)
            except OSError:
                return
            try:
                payloads = frames.feed(chunk)
            except sam.FrameError:
                self._send(master, sam.encode_reply(sam.Status.CHECK_ERROR))
                continue
            for payload in payloads:
                command, _data = sam.parse_command(payload)
                with self._lock:
                    self.commands.append(command)
                    self.finds += command == sam.FIND_CARD
                reply = self._answer(command)
                if reply is not None:
                    self._send(master, reply)

    def _send(self, master: int, reply: bytes) -> None:
        """Write at the line's speed: 10 bits a byte (8N1), in 64-byte pieces."""
        seconds_per_byte = 10 / self.baudrate
        for start in range(0, len(reply), 64):
            piece = reply[start : start + 64]
            if self._stop.wait(len(piece) * seconds_per_byte):
                return
            try:
                os.write(master, piece)
            except OSError:
                return

    # ------------------------------------------------------------ the SAM

    def _tray_stamp(self) -> int:
        if self.tray_dir is None:
            return 0
        try:
            return (self.tray_dir / "card.json").stat().st_mtime_ns
        except OSError:
            return 0

    def _check_tray(self) -> None:
        if self.tray_dir is None:
            return
        path = self.tray_dir / "card.json"
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return
        if stamp == self._tray_seen:
            return
        self._tray_seen = stamp
        try:
            order = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("%s is not a card order", path)
            return
        card, fault = order.get("card"), order.get("fault")
        if fault in FAULTS and fault != "gone":
            self.fault(fault)
        with self._lock:
            if card in DEMO_CARDS:
                self.card, self._from_tray = DEMO_CARDS[card], True
            elif card is None and "card" in order:
                self.card = None

    def _answer(self, command: sam.Command) -> bytes | None:
        if command == sam.FIND_CARD:
            self._check_tray()
        with self._lock:
            lasting, card = self._lasting, self.card
        if lasting == "silent":
            return None
        if lasting == "slow" and self._stop.wait(self.slow_s):
            return None
        if lasting == "sam_fault":
            return sam.encode_reply(sam.Status.SAM_SELF_TEST_FAILED)
        time.sleep(self.command_delay_s)
        if command in (sam.SAM_RESET, sam.SAM_STATUS):
            return sam.encode_reply(sam.Status.SUCCESS)
        if command == sam.SAM_ID:
            return sam.encode_reply(sam.Status.SUCCESS, FAKE_SAM_ID)
        if command == sam.FIND_CARD:
            if card is None:
                return sam.encode_reply(sam.Status.NO_CARD)
            return sam.encode_reply(sam.Status.CARD_FOUND, bytes(4))
        if command == sam.SELECT_CARD:
            if card is None:
                return sam.encode_reply(sam.Status.SELECT_FAILED)
            return sam.encode_reply(sam.Status.SUCCESS, bytes(8))
        if command in (sam.READ_BASE_INFO, sam.READ_BASE_INFO_FINGERPRINT):
            if card is None:
                return sam.encode_reply(sam.Status.READ_FAILED)
            self._stop.wait(self.read_delay_s)  # the SAM's own work: talking to the card
            return self._base_info(card, command == sam.READ_BASE_INFO_FINGERPRINT)
        return sam.encode_reply(sam.Status.COMMAND_ERROR)

    def _base_info(self, card: FakeCard, with_fingerprint: bool) -> bytes:
        with self._lock:
            fault, self._one_shot = self._one_shot, None
        text = bytearray(card.text())
        if fault == "bad_text":
            text[0:2] = b"\x00\xd8"  # a high surrogate with no low one after it
        elif fault == "control_characters":
            text[2:4] = "\x07".encode("utf-16-le")
        elif fault == "impossible_date":
            text[36:52] = "19880230".encode("utf-16-le")
        photo = bytes(range(256)) * (PHOTO_LENGTH // 256)  # stands for the licensed codec
        head = struct.pack(">HH", len(text), len(photo))
        tail = b""
        if with_fingerprint:
            head += struct.pack(">H", 1024)
            tail = bytes(1024)
        frame = sam.encode_reply(sam.Status.SUCCESS, head + bytes(text) + photo + tail)
        with self._lock:
            if fault == "removed_mid_read":
                self.card = None
                return sam.encode_reply(sam.Status.READ_FAILED)
            self.reads += 1
            if self._from_tray:
                self.card = None  # the visitor takes the card back
        if fault == "bad_check":
            return frame[:-1] + bytes([frame[-1] ^ 0xFF])
        if fault == "short_read":
            return frame[: len(frame) // 2]
        if fault == "unknown_status":
            return sam.encode_reply(0x77)
        if fault == "garbage":
            return bytes((i * 37 + 11) % 256 for i in range(300))
        return frame


def lay_on_tray(tray_dir: Path, card: str | None = None, fault: str | None = None) -> Path:
    """For `kiosk demo-card`: order a card (None: lift it) and/or a fault for the fake
    reader of the kiosk running with this tray."""
    if card is not None and card not in DEMO_CARDS:
        raise ValueError(f"unknown card {card!r}; one of {', '.join(DEMO_CARDS)}")
    if fault is not None and (fault not in FAULTS or fault == "gone"):
        raise ValueError(f"unknown fault {fault!r}; one of {', '.join(set(FAULTS) - {'gone'})}")
    tray_dir.mkdir(parents=True, exist_ok=True)
    order: dict[str, str | None] = {"card": card}
    if fault is not None:
        order["fault"] = fault
    path = tray_dir / "card.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(order), encoding="utf-8")
    os.replace(temporary, path)
    return path
