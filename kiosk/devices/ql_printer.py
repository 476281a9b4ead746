"""Brother QL label printers (QL-800, QL-810W, QL-820NWB, QL-1100) through brother_ql_next.

    ql_image_job     a picture -> the printer's raster instructions (brother_ql.conversion)
    ql_badge_job     the badge drawn for the label (62 mm at 300 dpi), band in red on
                     DK-22251 when the model prints two colours
    BrotherQLPrinter the `Printer`: brother_ql's backends carry the bytes (linux_kernel for
                     /dev/usb/lp*, pyusb for usb://, network for tcp://host:9100); the
                     status reply (32 bytes, brother_ql.reader) becomes ok / problem / unknown
    ql_status        that mapping: no labels, wrong labels, cover open, errors

Why brother_ql_next: of the maintained forks of brother_ql on the package index it is the
one with a stable release line and recent releases (0.12, 2026), the QL-8xx/1100 models
and the DK-22251 red labels; brother-label is still alpha (2.0a), brother_ql_inventree
stopped in 2024 and brother_ql itself in 2019. It keeps the import name `brother_ql`.

A job is checked before its first raster line: the printer is asked for its status, and a
missing roll, an open cover or the wrong labels fail the job at once (the queue keeps it,
staff are alerted); after the last byte the printer's own "printing completed" is awaited.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PIL import Image

from kiosk.devices.errors import PrinterError
from kiosk.devices.fonts import FontBook
from kiosk.devices.protocols import PrinterStatus
from kiosk.devices.render import BadgeDrawing, draw_badge
from kiosk.domain.values import BadgeContent

if TYPE_CHECKING:
    from kiosk.devices.fake_brother_ql import FakeBrotherQL

log = logging.getLogger(__name__)

DPI = 300


@dataclass(frozen=True)
class QlLabel:
    name: str  # brother_ql's label identifier
    roll: str  # Brother's DK part number
    width_mm: int
    length_mm: int  # 0: continuous
    red: bool = False

    @property
    def media_type(self) -> str:
        return "Die-cut labels" if self.length_mm else "Continuous length tape"


LABELS = {
    "62": QlLabel("62", "DK-22205", 62, 0),
    "62x100": QlLabel("62x100", "DK-11202", 62, 100),
    "62red": QlLabel("62red", "DK-22251", 62, 0, red=True),
}


def label_dots(label: QlLabel) -> tuple[int, int]:
    """Printable dots (width, height; height 0 when continuous) from brother_ql's table."""
    from brother_ql.labels import LabelsManager

    width, height = LabelsManager()[label.name].dots_printable
    return int(width), int(height)


def two_colour(model: str) -> bool:
    from brother_ql.models import ModelsManager

    return bool(ModelsManager()[model].two_color)


def ql_image_job(image: Image.Image, model: str, label: QlLabel, *, cut: bool = True) -> bytes:
    """Raster instructions for `image` (L or 1 mode; RGB with pure red where red prints)."""
    from brother_ql.conversion import convert
    from brother_ql.models import ModelsManager
    from brother_ql.raster import BrotherQLRaster

    raster = BrotherQLRaster(model)
    raster.exception_on_warning = True
    red = label.red and two_colour(model)
    if red:
        return _two_colour_job(raster, label_pages(image.convert("RGB"), label), label, cut)
    return bytes(
        convert(
            raster,
            label_pages(image.convert("RGB" if red else "L"), label),
            label.name,
            cut=cut,
            red=red,
            rotate=0,
            compress=bool(ModelsManager()[model].compression),
        )
    )


def _two_colour_job(raster: Any, pages: list[Image.Image], label: QlLabel, cut: bool) -> bytes:
    """brother_ql's own command sequence for black and red (as `convert` writes it), with
    the two colour planes taken straight from the picture's pixels: `convert` finds red by
    an HSV filter in a Python loop per pixel, about a second a label on a Pi-class core."""
    import numpy as np
    from brother_ql.labels import LabelsManager

    specs = LabelsManager()[label.name]
    device_width = raster.get_pixel_width()
    right = specs.offset_r + raster.model.additional_offset_r
    raster.add_switch_mode()
    raster.add_invalidate()
    raster.add_initialize()
    raster.add_switch_mode()
    for page in pages:
        rgb = np.asarray(page.convert("RGB")).astype(np.int16)
        red = (rgb[..., 0] >= 128) & (rgb[..., 1] < 128) & (rgb[..., 2] < 128)
        black = (rgb.max(axis=2) < 128) & ~red
        planes = []
        for plane in (black, red):
            line = np.zeros((page.height, device_width), bool)
            left = device_width - page.width - right
            line[:, left : left + page.width] = plane
            planes.append(Image.fromarray(line))  # 1 = a dot printed, as add_raster_data takes
        raster.add_status_information()
        raster.mtype, raster.mwidth, raster.mlength = 0x0A, specs.tape_size[0], 0
        raster.pquality = 1
        raster.add_media_and_quality(page.height)
        if cut:
            raster.add_autocut(True)
            raster.add_cut_every(1)
        raster.dpi_600, raster.cut_at_end, raster.two_color_printing = False, cut, True
        raster.add_expanded_mode()
        raster.add_margins(specs.feed_margin)
        if raster.model.compression:
            raster.add_compression(True)
        raster.add_raster_data(planes[0], planes[1])
        raster.add_print()
    return bytes(raster.data)


def label_pages(image: Image.Image, label: QlLabel) -> list[Image.Image]:
    """`image` on as many labels as it takes: die-cut labels each filled to their printable
    size (a long roll call runs over several, a short test page is centred on one);
    continuous tape as one piece, at least the 150 dots the printers feed."""
    width, height = label_dots(label)
    if image.width != width:
        page = Image.new(image.mode, (width, image.height), "white")
        page.paste(image, ((width - image.width) // 2, 0))
        image = page
    if not height:
        if image.height >= 150:
            return [image]
        page = Image.new(image.mode, (width, 150), "white")
        page.paste(image, (0, 0))
        return [page]
    pages = []
    for top in range(0, image.height, height):
        piece = image.crop((0, top, width, min(image.height, top + height)))
        page = Image.new(image.mode, (width, height), "white")
        page.paste(piece, (0, (height - piece.height) // 2 if top == 0 else 0))
        pages.append(page)
    return pages


def ql_badge_drawing(
    content: BadgeContent, model: str, label: QlLabel, fonts: FontBook
) -> Image.Image:
    """The badge laid out for the label: the same layout at 300 dpi, 696 dots wide; on a
    die-cut label the whole badge is scaled to fit its length and centred on it; on a
    two-colour label (and a model that prints red) the bands are red."""
    width, height = label_dots(label)
    drawing = draw_badge(content, width, fonts, dpi=DPI)
    if height and drawing.image.height > height:
        narrower = width * height // drawing.image.height
        narrower -= narrower % 16
        drawing = draw_badge(content, narrower, fonts, dpi=DPI)
    picture = _coloured(drawing) if label.red and two_colour(model) else drawing.image.convert("L")
    if height:
        page = Image.new(picture.mode, (width, height), "white")
        page.paste(picture, ((width - picture.width) // 2, (height - picture.height) // 2))
        return page
    if picture.width < width:
        page = Image.new(picture.mode, (width, picture.height), "white")
        page.paste(picture, ((width - picture.width) // 2, 0))
        return page
    return picture


def _coloured(drawing: BadgeDrawing) -> Image.Image:
    """Black ink, but red in the bands' rows (the visitor type and ESCORT REQUIRED)."""
    import numpy as np

    ink = np.asarray(drawing.image.convert("L")) < 128
    rgb = np.full((*ink.shape, 3), 255, np.uint8)
    rgb[ink] = (0, 0, 0)
    for top, bottom in drawing.bands:
        rows = ink[top:bottom]
        rgb[top:bottom][rows] = (255, 0, 0)
    return Image.fromarray(rgb, "RGB")


def ql_badge_job(
    content: BadgeContent, model: str, label: QlLabel, fonts: FontBook, *, cut: bool = True
) -> bytes:
    return ql_image_job(ql_badge_drawing(content, model, label, fonts), model, label, cut=cut)


# -- status -------------------------------------------------------------------------------
_OUT_OF_LABELS = (
    "No media when printing",
    "End of media (die-cut size only)",
    "Media cannot be fed (also when the media end is detected)",
)


def ql_status(reply: dict[str, Any], label: QlLabel) -> PrinterStatus:
    """A status reply (brother_ql.reader.interpret_response) as the kiosk's three answers."""
    errors = list(reply.get("errors") or [])
    if any(e in _OUT_OF_LABELS for e in errors) or reply.get("media_type") == "No media":
        return PrinterStatus.problem(f"out of labels: load a {label.roll} roll")
    if "Replace media error" in errors:
        return PrinterStatus.problem(_wrong_label(reply, label))
    if any(e.startswith("Cover opened") for e in errors):
        return PrinterStatus.problem("cover open")
    if errors:
        return PrinterStatus.problem("printer error: " + "; ".join(errors))
    if reply.get("media_width") != label.width_mm or reply.get("media_type") != label.media_type:
        return PrinterStatus.problem(_wrong_label(reply, label))
    if label.length_mm and reply.get("media_length") != label.length_mm:
        return PrinterStatus.problem(_wrong_label(reply, label))
    return PrinterStatus.ok()


def _wrong_label(reply: dict[str, Any], label: QlLabel) -> str:
    loaded = f"{reply.get('media_width')} mm {str(reply.get('media_type', '')).lower()}"
    return f"wrong labels: {loaded} loaded, {label.roll} ({label.width_mm} mm) expected"


# -- the printer ----------------------------------------------------------------------------
class BrotherQLPrinter:
    """A Brother QL behind the `Printer` protocol. The connection opens per job (a printer
    switched on later is fine) through brother_ql's backend for the identifier."""

    def __init__(
        self,
        identifier: str,
        model: str,
        label: QlLabel,
        *,
        timeout_s: float = 10.0,
        name: str | None = None,
        fake: FakeBrotherQL | None = None,
    ) -> None:
        from brother_ql.backends import guess_backend

        #: The simulated printer at the other end, when it is one (its faults, its labels).
        self.fake = fake
        self.identifier = identifier
        self.backend_name = guess_backend(identifier)
        self.model = model
        self.label = label
        self.timeout_s = timeout_s
        self.name = name or f"Brother {model} ({identifier}, {label.roll})"
        self.dot_width = label_dots(label)[0]
        self._lock = threading.Lock()

    def image_job(self, image: Image.Image) -> bytes:
        return ql_image_job(image, self.model, self.label)

    def _open(self) -> Any:
        from brother_ql.backends import backend_factory

        if self.backend_name == "pyusb":
            from kiosk.devices import hardware

            hardware.require("usb")
        return backend_factory(self.backend_name)["backend_class"](self.identifier)

    def send_stream(self, chunks: Iterable[bytes]) -> None:
        self.send(b"".join(chunks))

    def send(self, job: bytes) -> None:
        with self._lock:
            try:
                backend = self._open()
            except Exception as err:  # a missing device file, USB device or host
                raise PrinterError(
                    f"{self.name}: cannot connect: {err}", PrinterStatus.unknown("not connected")
                ) from err
            try:
                before = self._ask(backend)
                if before is not None and before.level != "ok":
                    raise PrinterError(f"{self.name}: {before.detail}", before)
                backend.write(job)
                self._await_completion(backend)
            except PrinterError:
                raise
            except Exception as err:  # OSError from the device file, socket, pyusb
                raise PrinterError(
                    f"{self.name}: could not send the job: {err}",
                    PrinterStatus.unknown("disconnected"),
                ) from err
            finally:
                _dispose(backend)

    def status(self) -> PrinterStatus:
        with self._lock:
            try:
                backend = self._open()
            except Exception as err:
                return PrinterStatus.unknown(f"{self.name}: not connected ({err})")
            try:
                answer = self._ask(backend)
            except Exception as err:
                return PrinterStatus.unknown(f"{self.name}: no answer ({err})")
            finally:
                _dispose(backend)
            return answer or PrinterStatus.unknown(f"{self.name}: no status answer")

    def _ask(self, backend: Any) -> PrinterStatus | None:
        """Invalidate, then ESC i S; the reply mapped, or None when none came."""
        from brother_ql.raster import BrotherQLRaster

        raster = BrotherQLRaster(self.model)
        raster.add_invalidate()
        raster.add_status_information()
        backend.write(bytes(raster.data))
        reply = _Replies(backend).next(min(self.timeout_s, 2.0))
        if reply is None:
            return None
        return ql_status(reply, self.label)

    def _await_completion(self, backend: Any) -> None:
        """Read status replies until "printing completed" (or an error) after the job."""
        replies = _Replies(backend)
        deadline = time.monotonic() + self.timeout_s
        heard = False
        while time.monotonic() < deadline:
            reply = replies.next(max(0.05, deadline - time.monotonic()))
            if reply is None:
                break
            heard = True
            if reply["errors"] or reply["status_type"] == "Error occurred":
                status = ql_status(reply, self.label)
                raise PrinterError(f"{self.name}: {status.detail}", status)
            if reply["status_type"] == "Printing completed":
                return
        if heard or self.backend_name != "network":
            # Over USB the printer always answers: silence means it is gone or jammed.
            raise PrinterError(
                f"{self.name}: the printer did not report the label printed",
                PrinterStatus.unknown("no completion reply"),
            )
        # Over the network some models never answer: sent is all that can be known.
        log.info("%s: job sent, no status reply to confirm it", self.name)

    def close(self) -> None:
        pass


class _Replies:
    """32-byte status replies from a backend, however its reads split or join them."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self._buffer = b""

    def next(self, timeout: float) -> dict[str, Any] | None:
        from brother_ql.reader import interpret_response

        deadline = time.monotonic() + timeout
        while True:
            start = self._buffer.find(b"\x80\x20\x42")
            if start != -1 and len(self._buffer) - start >= 32:
                reply, self._buffer = (
                    self._buffer[start : start + 32],
                    self._buffer[start + 32 :],
                )
                return interpret_response(reply)
            if time.monotonic() >= deadline:
                return None
            self._buffer += self._backend.read(32) or b""
            time.sleep(0.002)


def _dispose(backend: Any) -> None:
    try:
        backend.dispose()
    except Exception:  # already gone
        log.debug("closing the QL connection failed", exc_info=True)
