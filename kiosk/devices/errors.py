"""Device errors: everything the camera, decoders and printers raise on purpose.

    KioskError                      (kiosk.domain.errors)
    └── DeviceError                 a device could not do what was asked
        ├── HardwareUnavailable     an optional driver or library is not installed (with advice)
        ├── CameraLost              the camera stopped answering or disappeared
        ├── PrinterError            a print job could not be delivered (carries a PrinterStatus)
        ├── IdReaderError           the ID card reader failed a command (carries a ReaderProblem)
        └── RenderError             a badge could not be drawn (e.g. no font for the text)

Third-party errors (OpenCV, pyusb, pyserial, python-escpos, Pillow) are re-raised as one of
these at the boundary, `raise ... from err`, so callers only need this tree.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from kiosk.domain.errors import KioskError

if TYPE_CHECKING:
    from kiosk.devices.protocols import PrinterStatus


class DeviceError(KioskError):
    """Base class of every device error."""


class HardwareUnavailable(DeviceError):
    """An optional dependency is missing; `advice` says exactly what to install."""

    def __init__(self, feature: str, advice: str) -> None:
        self.feature = feature
        self.advice = advice
        super().__init__(f"{feature} is not available: {advice}")


class CameraLost(DeviceError):
    """The camera cannot be opened or stopped delivering frames."""


class PrinterError(DeviceError):
    """A job could not be printed; `status` is what the printer said (often UNKNOWN)."""

    def __init__(self, message: str, status: PrinterStatus | None = None) -> None:
        self.status = status
        super().__init__(message)


class RenderError(DeviceError):
    """A badge, roll call or test page could not be rendered."""


class ReaderProblem(StrEnum):
    """What went wrong between the kiosk and its ID card reader; stable values (logs, JSON,
    `kiosk doctor`), never the card's contents."""

    NOT_CONNECTED = "not_connected"  # no such port, or it went away
    NO_ANSWER = "no_answer"  # the reader said nothing in time
    BAD_FRAME = "bad_frame"  # garbage on the line, or a wrong check byte
    SHORT_READ = "short_read"  # a reply cut short
    CARD_MOVED = "card_moved"  # the card left or moved during the read
    UNKNOWN_STATUS = "unknown_status"  # a status byte the protocol does not list
    SAM_FAULT = "sam_fault"  # the security module itself failed


class IdReaderError(DeviceError):
    """An ID card reader command failed; `problem` says how."""

    def __init__(self, problem: ReaderProblem | str, message: str) -> None:
        self.problem = ReaderProblem(problem)
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        return type(self), (self.problem.value, str(self))
