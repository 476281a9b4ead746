"""A serial ESC/POS printer at the far end of a pseudo-terminal, taking bytes at its baud rate.

The kiosk's real serial driver (python-escpos `Serial` over pyserial) opens `path` as it
would /dev/ttyUSB0. The simulator reads the other end no faster than the line allows
(`baud` / 10 bytes a second: 8 data bits, start and stop), so a writer that runs ahead
blocks once the terminal's buffer is full, as with a real printer holding CTS. It answers
the real-time status requests DLE EOT 1 and DLE EOT 4 wherever they appear (Epson printers
process real-time commands even inside graphics data), with faults on purpose:
`fault("paper_out")`, `fault("offline")`, `fault("clear")`.

`received` holds every byte, `first_byte_at` / `last_byte_at` when they arrived
(time.perf_counter), for measuring a print job from the first byte to the last.
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import threading
import time
import tty

_REPLIES = {
    "clear": {1: b"\x12", 4: b"\x12"},
    "paper_out": {1: b"\x1a", 4: b"\x72"},
    "offline": {1: b"\x1a", 4: b"\x12"},
}


class SerialPrinterSimulator:
    def __init__(self, baud: int = 115_200) -> None:
        self.bytes_per_second = baud / 10
        self._master, self._slave = pty.openpty()
        tty.setraw(self._slave)  # no echo, no newline translation: bytes as sent
        self.path = os.ttyname(self._slave)
        self.received = bytearray()
        self.first_byte_at: float | None = None
        self.last_byte_at: float | None = None
        self._fault = "clear"
        self._lock = threading.Lock()
        self._started: float | None = None
        self._count = 0
        self._running = True
        self._tail = b""
        self._thread = threading.Thread(target=self._loop, name="serial-printer", daemon=True)
        self._thread.start()

    def fault(self, name: str) -> None:
        if name not in _REPLIES:
            raise ValueError(f"unknown fault {name!r}; one of {sorted(_REPLIES)}")
        self._fault = name

    def reset_clock(self) -> None:
        """Forget what arrived: the next byte starts a new measurement."""
        with self._lock:
            self.received.clear()
            self.first_byte_at = self.last_byte_at = None
            self._started = None

    def wait_for(self, count: int, timeout: float = 30.0) -> bool:
        """Block until `count` bytes have arrived in all; False on timeout."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True

    def _loop(self) -> None:
        while self._running:
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self._master, 256)
            except OSError:
                return
            now = time.perf_counter()
            with self._lock:
                if self._started is None:
                    self._started, self.first_byte_at, self._count = now, now, 0
                self._count += len(chunk)
                due = self._started + self._count / self.bytes_per_second
            self._answer(chunk)
            # The line's pace: these bytes cannot have arrived sooner than this.
            if due > now:
                time.sleep(due - now)
            with self._lock:
                self.received += chunk
                self.last_byte_at = max(due, time.perf_counter())

    def _answer(self, chunk: bytes) -> None:
        data = self._tail + chunk
        replies = _REPLIES[self._fault]
        at = data.find(b"\x10\x04")
        while at != -1 and at + 2 < len(data):
            reply = replies.get(data[at + 2])
            if reply:
                os.write(self._master, reply)
            at = data.find(b"\x10\x04", at + 3)
        self._tail = data[-2:]

    def close(self) -> None:
        self._running = False
        self._thread.join(2)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
