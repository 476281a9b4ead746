"""The small typed seams between the kiosk and its devices.

    FrameSource   where frames come from (UVC, picamera2, replay, fake); no threads
    Camera        a running capture+decode loop that reports codes to a callback
    CodeReader    frame -> list[DecodedCode], raw bytes kept exactly as encoded
    Printer       raw job bytes (whole or streamed) -> paper; status as ok / problem / unknown

Frames are numpy arrays: 2-D uint8 grayscale or 3-D uint8 BGR (OpenCV's order).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class DecodedCode:
    """One code found in a frame.

    `raw` is the payload as encoded, byte for byte (AAMVA uses LF/RS/CR separators, so never
    rely on a text conversion); `format` is a stable lower-case name: "qr", "pdf417",
    "code128", "ean13", ...; `text` is a convenience decoding (UTF-8, replacement on errors).
    """

    raw: bytes
    format: str
    decoder: str = ""
    position: tuple[tuple[int, int], ...] = ()

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", errors="replace")


class CodeReader(Protocol):
    name: str

    def decode(self, frame: Frame) -> list[DecodedCode]:
        """Every code visible in `frame`; an empty list when there is none."""
        ...


@runtime_checkable
class FrameSource(Protocol):
    """A blocking source of frames. `read` raises CameraLost when the device is gone."""

    def open(self) -> None: ...

    def read(self) -> Frame: ...

    def close(self) -> None: ...


class DeviceEventKind(StrEnum):
    CAMERA_LOST = "camera_lost"
    CAMERA_RESTORED = "camera_restored"
    PRINT_QUEUED = "print_queued"
    PRINT_DONE = "print_done"
    PRINT_FAILED = "print_failed"
    ID_READER_LOST = "id_reader_lost"
    ID_READER_RESTORED = "id_reader_restored"


@dataclass(frozen=True)
class DeviceEvent:
    """Something a person (or the guard's screen) may need to know about a device."""

    kind: DeviceEventKind
    message: str
    at: datetime
    error: BaseException | None = None
    detail: dict[str, Any] = field(default_factory=dict)


CodeCallback = Callable[[DecodedCode], None]
EventCallback = Callable[[DeviceEvent], None]


class Camera(Protocol):
    """A capture loop on its own thread; callbacks run on that thread, never on the UI's."""

    def start(self, on_code: CodeCallback, on_event: EventCallback | None = None) -> None: ...

    def stop(self) -> None: ...

    def latest_frame(self) -> Frame | None:
        """The most recent frame, for a preview; None before the first one."""
        ...


class StatusLevel(StrEnum):
    OK = "ok"
    PROBLEM = "problem"
    UNKNOWN = "unknown"  # no answer: the transport cannot read, or the printer is silent


@dataclass(frozen=True)
class PrinterStatus:
    level: StatusLevel
    detail: str = ""
    paper_low: bool = False

    @classmethod
    def ok(cls, detail: str = "ready", *, paper_low: bool = False) -> PrinterStatus:
        return cls(StatusLevel.OK, detail, paper_low)

    @classmethod
    def problem(cls, detail: str) -> PrinterStatus:
        return cls(StatusLevel.PROBLEM, detail)

    @classmethod
    def unknown(cls, detail: str = "no status answer") -> PrinterStatus:
        return cls(StatusLevel.UNKNOWN, detail)


class Printer(Protocol):
    """A transport for ESC/POS bytes; what the bytes say is decided by `escpos_codec`."""

    name: str
    dot_width: int

    def send(self, job: bytes) -> None:
        """Deliver every byte of `job` or raise PrinterError; partial delivery is a failure."""
        ...

    def send_stream(self, chunks: Iterable[bytes]) -> None:
        """Deliver the chunks as they come (the first one prints while later ones are being
        encoded); the same contract as `send` for the whole."""
        ...

    def status(self) -> PrinterStatus: ...

    def close(self) -> None: ...
