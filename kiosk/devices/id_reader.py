"""The resident-ID card reader: pyserial transport, SAM commands and the polling loop.

    SamReader        one reader on a serial port: `transact` a command (frames from
                     kiosk.devices.sam_protocol), then the SAM's commands by name and
                     `read_card_text` (find, select, read base information)
    CardReaderLoop   polls while a screen asks (`start`/`stop`), reads each card laid on
                     the reader once, reports a `CardOutcome`; reopens the port when the
                     reader is unplugged and plugged back in, with no restart
    open_card_reader the factory: configuration in, loop out (the fake on a pseudo-terminal
                     for kind "fake", or "auto" without a reader)

Nothing here keeps a card's contents: the text goes to `kiosk.domain.resident_card` in
memory and the photo is skipped over undecoded (`sam_protocol.split_base_info`). Logs and
`last_error` name what failed, never what the card says.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kiosk.devices import hardware
from kiosk.devices import sam_protocol as sam
from kiosk.devices.config import IdReaderConfig
from kiosk.devices.errors import IdReaderError, ReaderProblem
from kiosk.devices.protocols import DeviceEvent, DeviceEventKind, EventCallback
from kiosk.domain.resident_card import CardRejected, ResidentCard, parse_card_text

log = logging.getLogger(__name__)

#: Statuses after which the next poll simply tries again (the person re-lays the card).
_CARD_MOVED = {sam.Status.READ_FAILED, sam.Status.SELECT_FAILED, sam.Status.NO_CARD}


class SamReader:
    """One reader on `port`. Opens lazily; any transport failure closes the port, so the
    next command reopens it (a reader unplugged and plugged back in is found again)."""

    def __init__(self, port: str, *, baudrate: int = 115200, reply_timeout_s: float = 2.0):
        self.port = port
        self.baudrate = baudrate
        self.reply_timeout_s = reply_timeout_s
        self._serial: Any = None
        self._frames = sam.FrameReader()
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def open(self) -> None:
        serial = hardware.require("serial")
        assert serial is not None
        if self._serial is not None:
            return
        try:
            # exclusive: a second program on the same line would interleave its frames.
            self._serial = serial.Serial(
                self.port, self.baudrate, timeout=0.05, write_timeout=1.0, exclusive=True
            )
        except (OSError, serial.SerialException) as err:
            raise IdReaderError(
                ReaderProblem.NOT_CONNECTED, f"ID card reader {self.port}: cannot open ({err})"
            ) from err
        self._frames.clear()

    def close(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            except Exception:  # already gone; closing is best effort
                log.debug("closing %s failed", self.port, exc_info=True)
            self._serial = None

    def transact(self, command: sam.Command, data: bytes = b"") -> sam.Reply:
        """Send one command and return its reply; IdReaderError for every failure."""
        with self._lock:
            self.open()
            try:
                self._serial.reset_input_buffer()  # what a previous, failed reply left
                self._frames.clear()
                self._serial.write(sam.encode_command(command, data))
                return self._read_reply()
            except IdReaderError as err:
                if err.problem is not ReaderProblem.NOT_CONNECTED:
                    self._flush_after_error()
                else:
                    self.close()
                raise
            except Exception as err:  # pyserial's SerialException, OSError (EIO): gone
                self.close()
                raise IdReaderError(
                    ReaderProblem.NOT_CONNECTED, f"ID card reader {self.port}: lost ({err})"
                ) from err

    def _read_reply(self) -> sam.Reply:
        deadline = time.monotonic() + self.reply_timeout_s
        while time.monotonic() < deadline:
            chunk = self._serial.read(max(1, self._serial.in_waiting))
            if not chunk:
                continue
            try:
                frames = self._frames.feed(chunk)
            except sam.FrameError as err:
                raise IdReaderError(ReaderProblem.BAD_FRAME, f"{self.port}: {err}") from err
            if frames:
                try:
                    return sam.parse_reply(frames[0])
                except sam.FrameError as err:
                    raise IdReaderError(ReaderProblem.BAD_FRAME, f"{self.port}: {err}") from err
        if self._frames.pending:
            raise IdReaderError(
                ReaderProblem.SHORT_READ,
                f"{self.port}: a reply cut short ({self._frames.pending} bytes, then silence)",
            )
        raise IdReaderError(ReaderProblem.NO_ANSWER, f"{self.port}: no answer in time")

    def _flush_after_error(self) -> None:
        """Let what is left of a bad reply arrive, and drop it, before the next command."""
        try:
            time.sleep(0.05)
            self._serial.reset_input_buffer()
        except Exception:
            self.close()
        self._frames.clear()

    # ------------------------------------------------------------ the SAM's commands

    def _expect(self, reply: sam.Reply, *ok: sam.Status) -> sam.Reply:
        status = reply.known_status
        if status in ok:
            return reply
        if status is None:
            raise IdReaderError(
                ReaderProblem.UNKNOWN_STATUS, f"{self.port}: unknown status 0x{reply.status:02x}"
            )
        if status in sam.SAM_FAULTS:
            raise IdReaderError(ReaderProblem.SAM_FAULT, f"{self.port}: SAM fault ({status.name})")
        if status in _CARD_MOVED:
            raise IdReaderError(ReaderProblem.CARD_MOVED, f"{self.port}: {status.name}")
        raise IdReaderError(ReaderProblem.BAD_FRAME, f"{self.port}: the SAM said {status.name}")

    def sam_id(self) -> str:
        reply = self._expect(self.transact(sam.SAM_ID), sam.Status.SUCCESS)
        try:
            return sam.format_sam_id(reply.data)
        except sam.FrameError as err:
            raise IdReaderError(ReaderProblem.BAD_FRAME, f"{self.port}: {err}") from err

    def sam_status(self) -> None:
        """Raises unless the SAM reports itself in working order."""
        self._expect(self.transact(sam.SAM_STATUS), sam.Status.SUCCESS)

    def reset_sam(self) -> None:
        self._expect(self.transact(sam.SAM_RESET), sam.Status.SUCCESS)

    def find_card(self) -> bool:
        reply = self.transact(sam.FIND_CARD)
        if reply.known_status is sam.Status.NO_CARD:
            return False
        self._expect(reply, sam.Status.CARD_FOUND)
        return True

    def read_card_text(self) -> bytes:
        """Select the card found and read its base information; the 256-byte text only."""
        self._expect(self.transact(sam.SELECT_CARD), sam.Status.SUCCESS)
        reply = self._expect(self.transact(sam.READ_BASE_INFO), sam.Status.SUCCESS)
        try:
            return sam.split_base_info(reply.data).text
        except sam.FrameError as err:
            raise IdReaderError(ReaderProblem.SHORT_READ, f"{self.port}: {err}") from err


@dataclass(frozen=True)
class CardOutcome:
    """One card laid on the reader: its checked contents, or why it could not be read."""

    card: ResidentCard | None = None
    rejected: CardRejected | None = None  # the card's text is wrong (a person cannot fix)
    reader_problem: ReaderProblem | None = None  # re-lay the card, or see the reader


CardCallback = Callable[[CardOutcome], None]


@dataclass
class ReaderState:
    """What `kiosk doctor` shows: written to `status_path` when it changes."""

    port: str
    kind: str
    connected: bool = False
    sam_id: str = ""
    last_error: str = ""
    last_error_at: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class CardReaderLoop:
    """Polls `reader` every `poll_interval_s` on its own thread while started.

    A card is read once: after an outcome, the next is reported only once the reader has
    said "no card" (the card was lifted). A reader that goes away is retried every second
    (`ID_READER_LOST` once, `ID_READER_RESTORED` when it answers again). Callbacks run on
    the loop's thread.
    """

    def __init__(
        self,
        reader: SamReader,
        *,
        poll_interval_s: float = 0.3,
        today: Callable[[], date] = date.today,
        kind: str = "serial",
        status_path: Path | None = None,
        fake: Any = None,
    ) -> None:
        self.reader = reader
        self.poll_interval_s = poll_interval_s
        self.fake = fake  # the simulated reader behind the port, if it is one
        self._today = today
        self._status_path = status_path
        self.state = ReaderState(reader.port, kind)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._on_card: CardCallback | None = None
        self._on_event: EventCallback | None = None
        self._card_present = False
        self._lost_reported = False
        self._identified = False

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, on_card: CardCallback, on_event: EventCallback | None = None) -> None:
        with self._lock:
            self._on_card, self._on_event = on_card, on_event
            if self.running:
                return
            self.plug_in_fake()
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="id-reader", daemon=True)
            self._thread.start()

    def plug_in_fake(self) -> None:
        """The simulated reader, if it is one, plugged in (its pty made) before first use."""
        if self.fake is not None and not self.fake.plugged_in:
            self.reader.port = self.state.port = self.fake.start()

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
            self._on_card = None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self.reader.close()  # free the line for `kiosk doctor` and `kiosk id-card`

    def close(self) -> None:
        self.stop()
        if self.fake is not None:
            self.fake.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.poll_once()
            except Exception:  # a bug here must not end polling for the day
                log.exception("ID card reader poll failed")
            if not self.reader.is_open:
                wait = 1.0  # not connected: try the port again each second
            else:
                wait = self.poll_interval_s - (time.monotonic() - started)
            self._stop.wait(max(0.0, wait))

    def poll_once(self) -> CardOutcome | None:
        """One poll: the outcome reported, or None (no card, or the same card still there).

        Failures before a card is found (a SAM fault, garbage on the line) are the
        reader's, noted for `kiosk doctor` and not put to the visitor; failures while a
        card is read are reported, so the screen can ask for the card again."""
        try:
            self._connect()
            found = self.reader.find_card()
        except IdReaderError as err:
            self._failed(err)
            return None
        if not found:
            self._card_present = False
            return None
        if self._card_present:
            return None  # read already; waiting for it to be lifted
        try:
            text = self.reader.read_card_text()
        except IdReaderError as err:
            self._failed(err)
            self._card_present = False  # ready for the next try at once
            outcome = CardOutcome(reader_problem=err.problem)
        else:
            self._card_present = True
            outcome = self._parsed(text)
        self._report(outcome)
        return outcome

    def _failed(self, err: IdReaderError) -> None:
        if err.problem is ReaderProblem.NOT_CONNECTED:
            self._lost(err)
        else:
            self._note_error(err.problem.value, str(err))

    def _parsed(self, text: bytes) -> CardOutcome:
        try:
            return CardOutcome(card=parse_card_text(text, self._today()))
        except CardRejected as err:
            self._note_error(err.problem.value, f"card refused: {err.message}")
            return CardOutcome(rejected=err)

    def _connect(self) -> None:
        if self.reader.is_open and self._identified:
            return
        self.reader.open()
        sam_id = self.reader.sam_id()
        self.state.connected, self.state.sam_id = True, sam_id
        self._identified = True
        self._write_state()
        log.info("ID card reader on %s, SAM %s", self.reader.port, sam_id)
        if self._lost_reported:
            self._lost_reported = False
            self._event(DeviceEventKind.ID_READER_RESTORED, f"ID card reader {self.reader.port}")

    def _lost(self, err: IdReaderError) -> None:
        self.reader.close()
        self._identified = False
        self._card_present = False
        if self.state.connected or not self._lost_reported:
            self.state.connected = False
            self._note_error(err.problem.value, str(err))
        if not self._lost_reported:
            self._lost_reported = True
            log.warning("%s", err)
            self._event(DeviceEventKind.ID_READER_LOST, str(err), err)

    def _note_error(self, problem: str, message: str) -> None:
        if message == self.state.last_error:
            return  # a fault that lasts is said once, not at every poll
        log.warning("ID card reader: %s (%s)", message, problem)
        self.state.last_error = message
        self.state.last_error_at = datetime.now().astimezone().isoformat(timespec="seconds")
        self._write_state()

    def _write_state(self) -> None:
        if self._status_path is None:
            return
        try:
            self._status_path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self._status_path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.state.as_dict()), encoding="utf-8")
            os.replace(temporary, self._status_path)
        except OSError:
            log.warning("cannot write %s", self._status_path, exc_info=True)

    def _report(self, outcome: CardOutcome) -> None:
        callback = self._on_card
        if callback is None:
            return
        try:
            callback(outcome)
        except Exception:  # a listener's bug is logged, never propagated (house style)
            log.exception("the ID card callback failed")

    def _event(self, kind: DeviceEventKind, message: str, error: Exception | None = None) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(DeviceEvent(kind, message, datetime.now().astimezone(), error))
        except Exception:
            log.exception("the ID card reader's event listener failed")


def read_state(status_path: Path) -> dict[str, Any] | None:
    """What the running kiosk last wrote about its reader; None when it never did."""
    try:
        loaded = json.loads(status_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def open_card_reader(
    config: IdReaderConfig,
    *,
    data_dir: Path,
    today: Callable[[], date] = date.today,
    port: str | None = None,
) -> CardReaderLoop | None:
    """The configured reader's loop (not started), None for kind "off". Kind "fake" (and
    "auto" when the port does not exist) uses the simulated reader on a pseudo-terminal
    (plugged in when the loop first starts, so a kiosk that never polls opens no pty),
    with its tray in `fake_tray_dir` (or DATA_DIR/id-card-tray) for `kiosk demo-card`."""
    if config.kind == "off" and port is None:
        return None
    hardware.require("serial")
    chosen = port or config.port
    fake = None
    kind = "serial"
    if port is None and (
        config.kind == "fake" or (config.kind == "auto" and not os.path.exists(config.port))
    ):
        from kiosk.devices.fake_id_reader import FakeIdReader

        if config.kind == "auto":
            log.warning("no ID card reader at %s: using the simulated one", config.port)
        tray = Path(config.fake_tray_dir) if config.fake_tray_dir else data_dir / "id-card-tray"
        fake = FakeIdReader(
            baudrate=config.baudrate, read_delay_s=config.fake_read_delay_s, tray_dir=tray
        )
        chosen, kind = "(the simulated reader, plugged in when polling starts)", "fake"
    reader = SamReader(chosen, baudrate=config.baudrate, reply_timeout_s=config.reply_timeout_s)
    return CardReaderLoop(
        reader,
        poll_interval_s=config.poll_interval_s,
        today=today,
        kind=kind,
        status_path=data_dir / "id-reader.json",
        fake=fake,
    )
