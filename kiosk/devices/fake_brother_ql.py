"""A Brother QL label printer in software, written from Brother's raster command reference
(QL-800/810W/820NWB and QL-1100 "Raster Command Reference"), sharing no code with the
encoder (brother_ql) that the kiosk uses to make jobs.

It sits where the real one would: at the far end of a pseudo-terminal, opened by the real
`linux_kernel` backend as if it were /dev/usb/lp0 (`path`), and/or on a loopback TCP port
for the `network` backend (`tcp_port`, like port 9100). It reads the command stream:

    NUL x n                invalidate (ignored between commands)
    ESC @                  initialise
    ESC i S                status information request -> one 32-byte status reply
    ESC i a n              switch dynamic command mode (1 = raster)
    ESC i z f t w l rrrr p 0   print information: validity flags, media type, width mm,
                           length mm, raster lines (little endian), page, 0
    ESC i M n / ESC i A n / ESC i K n / ESC i d nL nH     various mode, cut every n pages,
                           expanded mode (bit 0 two colours), feed margin in dots
    M n                    compression: 0 none, 2 TIFF PackBits
    g 0 n data             one raster line (n bytes, compressed or not)
    w 1 n data, w 2 n data two-colour raster line: first colour (black), second (red)
    Z                      an empty raster line
    FF (0x0C) / SUB (0x1A) print the page (SUB: the last one, then feed and cut)

and answers as the reference says: after a print, a phase change to "printing", then
"printing completed", then a phase change back to "waiting to receive"; on an error a
status of type "error occurred" with the error bits set. Faults on purpose:
`fault("paper_out")`, `fault("cover_open")`, `fault("wrong_label")` (a 29 mm roll is in),
`fault("unplug_mid_job", after_bytes=n)`, `fault("clear")`.

Each printed page is kept as a picture (`pages`, RGB: red where the second colour is
printed) cropped to the label's printable width, and written as PNG to `output_dir`.
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import socket
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

ESC = 0x1B

#: Model codes of the status reply (byte 4), and the print head: pins, and the pins right
#: of a 62 mm label's printable area (the reference's media tables).
MODELS = {
    "QL-800": (0x38, 720, 12),
    "QL-810W": (0x39, 720, 12),
    "QL-820NWB": (0x41, 720, 12),
    "QL-1100": (0x43, 1296, 56),
}
#: Media: width mm, length mm (0 = continuous), media type byte, printable dots at 300 dpi.
MEDIA = {
    "DK-22205": (62, 0, 0x0A, 696),  # 62 mm continuous paper
    "DK-22251": (62, 0, 0x0A, 696),  # 62 mm continuous, black and red
    "DK-11202": (62, 100, 0x0B, 696),  # 62 x 100 mm die-cut
    "DK-22210": (29, 0, 0x0A, 306),  # 29 mm continuous: the "wrong label" fault
}
STATUS_REPLY, PRINTING_COMPLETED, ERROR_OCCURRED, PHASE_CHANGE = 0x00, 0x01, 0x02, 0x06
NO_MEDIA, END_OF_MEDIA = 0x01, 0x02  # error information 1
REPLACE_MEDIA, COVER_OPEN = 0x01, 0x10  # error information 2


@dataclass
class _Job:
    lines: list[tuple[np.ndarray, np.ndarray | None]]
    compressed: bool = False
    two_colour: bool = False
    info: bytes = b""


def unpack_bits(data: bytes) -> bytes:
    """TIFF PackBits, as the reference describes it: a header byte n, then n + 1 literal
    bytes (n 0..127) or one byte repeated 1 - n times (n -1..-127); -128 is skipped."""
    out = bytearray()
    i = 0
    while i < len(data):
        n = data[i] - 256 if data[i] > 127 else data[i]
        if n >= 0:
            out += data[i + 1 : i + 2 + n]
            i += 2 + n
        elif n != -128:
            out += bytes([data[i + 1]]) * (1 - n)
            i += 2
        else:
            i += 1
    return bytes(out)


class FakeBrotherQL:
    def __init__(
        self,
        model: str = "QL-820NWB",
        media: str = "DK-22205",
        *,
        output_dir: str | Path | None = None,
        tcp: bool = False,
    ) -> None:
        self.model = model
        self.model_code, self.pins, self.right_margin = MODELS[model]
        self.media = media
        self.output_dir = Path(output_dir) if output_dir else None
        self.pages: list[Image.Image] = []
        self.received = bytearray()
        self.errors: tuple[int, int] = (0, 0)
        self._fault = "clear"
        self._unplug_after = 0
        self._lock = threading.Lock()
        self._running = True
        self._master, slave = pty.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave
        self._server: socket.socket | None = None
        self.tcp_port = 0
        threads = [threading.Thread(target=self._serve_pty, daemon=True, name="fake-ql-pty")]
        if tcp:
            self._server = socket.create_server(("127.0.0.1", 0))
            self.tcp_port = self._server.getsockname()[1]
            threads.append(threading.Thread(target=self._serve_tcp, daemon=True, name="fake-ql"))
        self._threads = threads
        for thread in threads:
            thread.start()

    # -- faults ---------------------------------------------------------------------------
    def fault(self, name: str, *, after_bytes: int = 4096) -> None:
        if name not in ("clear", "paper_out", "cover_open", "wrong_label", "unplug_mid_job"):
            raise ValueError(f"unknown fault {name!r}")
        with self._lock:
            self._fault = name
            self._unplug_after = after_bytes
            self.errors = {
                "paper_out": (NO_MEDIA, 0),
                "cover_open": (0, COVER_OPEN),
            }.get(name, (0, 0))

    def _loaded(self) -> str:
        return "DK-22210" if self._fault == "wrong_label" else self.media

    # -- status replies -------------------------------------------------------------------
    def status_reply(self, status_type: int = STATUS_REPLY, phase: int = 0) -> bytes:
        """The 32-byte status information, field by field as the reference lists them."""
        width, length, media_type, _dots = MEDIA[self._loaded()]
        error_1, error_2 = self.errors
        if error_1 & NO_MEDIA:
            width, length, media_type = 0, 0, 0x00
        reply = bytearray(32)
        reply[0:8] = bytes([0x80, 0x20, 0x42, 0x34, self.model_code, 0x30, 0x30, 0x00])
        reply[8], reply[9] = error_1, error_2
        reply[10], reply[11] = width, media_type
        reply[17] = length
        reply[18], reply[19] = status_type, phase
        return bytes(reply)

    # -- transports -----------------------------------------------------------------------
    def _serve_pty(self) -> None:
        self._serve(lambda: self._read_fd(self._master), lambda b: os.write(self._master, b))

    def _read_fd(self, fd: int) -> bytes | None:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready:
            return b""
        try:
            return os.read(fd, 4096)
        except OSError:
            return None

    def _serve_tcp(self) -> None:
        assert self._server is not None
        self._server.settimeout(0.1)
        while self._running:
            try:
                connection, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            with connection:
                connection.settimeout(0.05)

                def read(conn: socket.socket = connection) -> bytes | None:
                    try:
                        return conn.recv(4096) or None
                    except TimeoutError:
                        return b""
                    except OSError:
                        return None

                self._serve(read, connection.sendall, once=True)

    def _serve(
        self, read: Callable[[], bytes | None], write: Callable[[bytes], object], once: bool = False
    ) -> None:
        parser = _StreamParser(self, write)
        while self._running:
            data = read()
            if data is None:
                if once:
                    return
                time.sleep(0.05)
                continue
            if not data:
                continue
            with self._lock:
                fault, limit = self._fault, self._unplug_after
            if fault == "unplug_mid_job" and len(self.received) + len(data) > limit:
                self.received += data[: max(0, limit - len(self.received))]
                self._unplug()
                return
            self.received += data
            parser.feed(data)

    def _unplug(self) -> None:
        """The cable is pulled: the device end goes away, writes to it fail."""
        with contextlib.suppress(OSError):
            os.close(self._master)

    def save_page(self, page: Image.Image) -> None:
        self.pages.append(page)
        if self.output_dir is not None:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y%m%d-%H%M%S")
            page.save(self.output_dir / f"label-{stamp}-{time.time_ns() % 10**9:09d}.png")

    def close(self) -> None:
        self._running = False
        for thread in self._threads:  # before the fds close: their numbers are reused
            thread.join(2)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._server is not None:
            self._server.close()


class _StreamParser:
    """The printer's command interpreter: bytes in, pages and status replies out."""

    def __init__(self, printer: FakeBrotherQL, write: Callable[[bytes], object]) -> None:
        self.printer = printer
        self.write = write
        self.buffer = bytearray()
        self.job = _Job([])

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while self.buffer:
            used = self._command(bytes(self.buffer))
            if used == 0:
                return  # incomplete: wait for more bytes
            del self.buffer[:used]

    def _command(self, data: bytes) -> int:
        first = data[0]
        if first == 0x00:
            return 1
        if first == ESC:
            if len(data) < 2:
                return 0
            if data[1] == ord("@"):
                self.job = _Job([])
                return 2
            if data[1] != ord("i") or len(data) < 3:
                return 0 if len(data) < 3 else self._unknown(data)
            return self._esc_i(data)
        if first == ord("M"):
            if len(data) < 2:
                return 0
            self.job.compressed = data[1] == 0x02
            return 2
        if first == ord("Z"):
            self.job.lines.append((np.zeros(self.printer.pins // 8, np.uint8), None))
            return 1
        if first in (ord("g"), ord("w")):
            return self._raster_line(data)
        if first in (0x0C, 0x1A):
            self._print_page()
            return 1
        return self._unknown(data)

    def _esc_i(self, data: bytes) -> int:
        sizes = {ord("S"): 0, ord("a"): 1, ord("z"): 10, ord("M"): 1, ord("A"): 1, ord("K"): 1}
        sizes[ord("d")] = 2
        command = data[2]
        if command not in sizes:
            return self._unknown(data)
        size = sizes[command]
        if len(data) < 3 + size:
            return 0
        argument = data[3 : 3 + size]
        if command == ord("S"):
            self.write(self.printer.status_reply())
        elif command == ord("z"):
            self.job.info = argument
        elif command == ord("K"):
            self.job.two_colour = bool(argument[0] & 0x01)
        return 3 + size

    def _raster_line(self, data: bytes) -> int:
        if len(data) < 3:
            return 0
        length = data[2]
        if len(data) < 3 + length:
            return 0
        payload = data[3 : 3 + length]
        line = unpack_bits(payload) if self.job.compressed else payload
        row = np.frombuffer(line.ljust(self.printer.pins // 8, b"\x00"), np.uint8)
        if data[0] == ord("w") and data[1] == 0x02:  # the second colour of the last line
            black, _ = self.job.lines[-1]
            self.job.lines[-1] = (black, row)
        else:
            self.job.lines.append((row, None))
        return 3 + length

    def _unknown(self, data: bytes) -> int:
        raise ValueError(f"fake QL: command {data[:4].hex(' ')} is not in the reference")

    def _print_page(self) -> None:
        printer = self.printer
        error_1, error_2 = printer.errors
        width, _length, media_type, dots = MEDIA[printer._loaded()]
        info = self.job.info
        if not error_1 and not error_2 and info:
            flags = info[0]
            wrong_type = flags & 0x02 and info[1] != media_type
            wrong_width = flags & 0x04 and info[2] != width
            if wrong_type or wrong_width:
                error_2 = REPLACE_MEDIA
        if error_1 or error_2:
            printer.errors = (error_1, error_2)
            self.write(printer.status_reply(ERROR_OCCURRED, 0))
            self.job = _Job([])
            return
        self.write(printer.status_reply(PHASE_CHANGE, 1))
        printer.save_page(self._picture(dots))
        self.write(printer.status_reply(PRINTING_COMPLETED, 1))
        self.write(printer.status_reply(PHASE_CHANGE, 0))
        self.job = _Job([])

    def _picture(self, dots: int) -> Image.Image:
        """The page as printed: pin 1 is the label's right edge seen from the printed side,
        so each line is mirrored; cropped to the printable dots of the loaded label."""
        pins, right = self.printer.pins, self.printer.right_margin
        height = max(1, len(self.job.lines))
        picture = np.full((height, pins, 3), 255, np.uint8)
        for y, (black, red) in enumerate(self.job.lines):
            black_dots = np.unpackbits(black)[:pins][::-1] == 1
            picture[y][black_dots] = (0, 0, 0)
            if red is not None:
                red_dots = np.unpackbits(red)[:pins][::-1] == 1
                picture[y][red_dots] = (220, 0, 0)
        left = pins - right - dots
        return Image.fromarray(picture[:, left : pins - right], "RGB")
