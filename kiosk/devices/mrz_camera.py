"""The camera loop's MRZ reading: OCR on a worker thread, for frames with no barcode.

`MrzOcrReader` wraps the camera's CodeReader. A frame in which the barcode reader finds
nothing is handed to one OCR worker thread when it is idle and has been for `interval_s`
(default 0.5 s); the decode thread never waits for the OCR, and the UI thread never sees
it. An MRZ the worker reads (every check digit verified) comes out of a later `decode` call
as `DecodedCode(format="mrz", raw=<the MRZ's lines>)`, which the kiosk's
code classification parses like a scanned MRZ (kiosk.app). An attempt does at most ~400 ms
of work (`mrz_ocr.ATTEMPT_BUDGET_S`), ~115 ms for a passport read at once, so at the
default interval the OCR takes ~20 % of one core while a passport is held up, never more
than 45 %, and ~1 % while the camera shows no wide text band (locating one costs ~5 ms).

`make_mrz_reader(inner, mode)` applies the `devices.camera.mrz_ocr` setting: "off"; "on"
(start-up fails with install advice when Tesseract or the model is missing); "auto" (the
default: OCR when the binding and model load, else off with one warning in the log, and
`kiosk doctor` says how to install them).

The frame handed to the worker is a copy it drops as soon as it is read; nothing of it is
kept but the MRZ's text, which the classification parses and discards as for any scan. A
read not collected within `FRESH_S` (the camera stopped meanwhile, the visitor walked away)
is dropped: the next scan must never see the last visitor's document.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Literal

from kiosk.devices.errors import HardwareUnavailable
from kiosk.devices.mrz_ocr import OcrFunction, read_mrz_text, shared_mrz_ocr
from kiosk.devices.protocols import CodeReader, DecodedCode, Frame

log = logging.getLogger(__name__)

MrzOcrMode = Literal["auto", "on", "off"]

#: How long a read waits for the camera loop to collect it before it is dropped.
FRESH_S = 2.0


class MrzOcrReader:
    """A CodeReader: `inner`'s codes, else now and then an MRZ read on the OCR worker."""

    def __init__(
        self,
        inner: CodeReader,
        ocr: OcrFunction,
        interval_s: float = 0.5,
        ocr_name: str = "tesseract",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.name = inner.name  # the barcode decoder's: MRZ codes carry the OCR's as `decoder`
        self.interval_s = interval_s
        self.attempts = 0  # frames the worker has read, for tests and the benchmark
        self._ocr = ocr
        self._ocr_name = ocr_name
        self._clock = clock
        self._lock = threading.Condition()
        self._pending: Frame | None = None
        self._busy = False
        self._read: str | None = None
        self._read_at = float("-inf")
        self._idle_since = float("-inf")
        self._worker: threading.Thread | None = None

    def decode(self, frame: Frame) -> list[DecodedCode]:
        codes = self.inner.decode(frame)
        if codes:
            return codes
        with self._lock:
            read, self._read = self._read, None
            now = self._clock()
            if read is not None and now - self._read_at > FRESH_S:
                read = None  # read for someone who has gone: never handed to the next one
            if not self._busy and now - self._idle_since >= self.interval_s:
                self._busy = True
                self._pending = frame.copy()  # the camera reuses its buffers
                self._ensure_worker()
                self._lock.notify()
        if read is None:
            return []
        return [DecodedCode(read.encode("ascii"), "mrz", self._ocr_name)]

    def wait_idle(self, timeout_s: float = 5.0) -> bool:
        """Block until the worker has finished its frame (tests); True if it has."""
        deadline = self._clock() + timeout_s
        with self._lock:
            while self._busy and self._clock() < deadline:
                self._lock.wait(0.01)
            return not self._busy

    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name="camera-mrz-ocr", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                while self._pending is None:
                    self._lock.wait()
                frame, self._pending = self._pending, None
            text: str | None = None
            try:
                text = read_mrz_text(frame, self._ocr)
            except Exception:  # a failing OCR must not end the camera's reading of codes
                log.exception("MRZ OCR failed on a frame")
            del frame  # the frame is not kept
            with self._lock:
                self.attempts += 1
                if text is not None:
                    self._read, self._read_at = text, self._clock()
                self._busy, self._idle_since = False, self._clock()
                self._lock.notify_all()


def make_mrz_reader(inner: CodeReader, mode: MrzOcrMode, interval_s: float = 0.5) -> CodeReader:
    """`inner` with MRZ OCR as `mode` says; "on" raises HardwareUnavailable when it cannot."""
    if mode == "off":
        return inner
    try:
        ocr = shared_mrz_ocr()
    except HardwareUnavailable as err:
        if mode == "on":
            raise
        log.warning("MRZ reading from the camera is off: %s", err)
        return inner
    return MrzOcrReader(inner, ocr, interval_s, ocr.name)
