"""Plain functions behind the CLI (`kiosk badge`, `kiosk scan`, `kiosk print-test`, ...).

Also the factories: `open_printer(config)` and `open_camera(config)` choose real or fake
devices from the configuration; optional drivers are checked by `kiosk.devices.hardware`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from PIL import Image

from kiosk.devices.cameras import iter_media_frames, open_camera
from kiosk.devices.config import PrinterConfig
from kiosk.devices.decoders import make_reader
from kiosk.devices.errors import HardwareUnavailable
from kiosk.devices.escpos_codec import dot_width, image_job, profile_dpi
from kiosk.devices.escpos_compact import compact_blocks, has_native_qr
from kiosk.devices.fonts import FontBook
from kiosk.devices.identity import (
    is_expired,
    looks_like_aamva,
    parse_aamva,
    parse_cn_resident_id,
    parse_mrz,
)
from kiosk.devices.mrz_ocr import OcrFunction, read_mrz_text
from kiosk.devices.printers import open_printer
from kiosk.devices.protocols import CodeReader, DecodedCode, Printer
from kiosk.devices.render import (
    BadgeDrawing,
    draw_badge,
    render_badge,
    render_roll_call,
    render_test_page,
    save_png,
)
from kiosk.domain.errors import InvalidInput
from kiosk.domain.values import BadgeContent, OnSiteEntry

__all__ = [
    "badge_blocks",
    "badge_job",
    "describe_code",
    "open_camera",
    "open_printer",
    "print_roll_call",
    "print_test_page",
    "render_badge_files",
    "scan_files",
]

log = logging.getLogger(__name__)

_FONTS: dict[str | None, FontBook] = {}


def fonts_for(font_path: str | None) -> FontBook:
    if font_path not in _FONTS:
        _FONTS[font_path] = FontBook(font_path)
    return _FONTS[font_path]


def badge_job(content: BadgeContent, printer_config: PrinterConfig) -> bytes:
    """The ESC/POS bytes of one badge for the configured printer (what a queue sends)."""
    return b"".join(badge_blocks(content, printer_config))


def badge_blocks(content: BadgeContent, printer_config: PrinterConfig) -> Iterator[bytes]:
    """The badge's job in chunks, streamed as they are encoded (kiosk.devices.escpos_compact)."""
    if printer_config.kind == "brother_ql":
        from kiosk.devices.ql_printer import LABELS, ql_badge_job

        label = LABELS[printer_config.ql_label]
        fonts = fonts_for(printer_config.font_path)
        yield ql_badge_job(content, printer_config.ql_model, label, fonts, cut=printer_config.cut)
        return
    if printer_config.native_text:
        from kiosk.devices.escpos_text import native_text_blocks

        yield from native_text_blocks(content, printer_config, fonts_for(printer_config.font_path))
        return
    yield from compact_blocks(
        badge_drawing(content, printer_config), printer_config.profile, cut=printer_config.cut
    )


def badge_drawing(content: BadgeContent, printer_config: PrinterConfig) -> BadgeDrawing:
    """The badge as drawn for this printer: its width, and the QR left to the printer when
    it draws QR codes itself."""
    width = dot_width(printer_config.profile, printer_config.width_pixels)
    native = printer_config.qr == "native" or (
        printer_config.qr == "auto" and has_native_qr(printer_config.profile)
    )
    return draw_badge(
        content,
        width,
        fonts_for(printer_config.font_path),
        dpi=profile_dpi(printer_config.profile),
        native_qr_module=printer_config.qr_module if native else None,
        qr_error=printer_config.qr_error,
        half_density_large_text=printer_config.half_density_large_text,
    )


def legacy_badge_job(content: BadgeContent, printer_config: PrinterConfig) -> bytes:
    """The badge as every full-width row of raster, QR included (the encoder before issue
    17): kept as the baseline `make bench` compares against."""
    width = dot_width(printer_config.profile, printer_config.width_pixels)
    image = render_badge(content, width, fonts_for(printer_config.font_path))
    return image_job(image, printer_config.profile, cut=printer_config.cut)


def render_badge_files(
    content: BadgeContent,
    printer_config: PrinterConfig,
    png_path: str | Path | None,
    escpos_path: str | Path | None,
) -> dict[str, Any]:
    """Write the badge preview PNG and/or its ESC/POS job; returns width, height and bytes."""
    if printer_config.kind == "brother_ql":
        from kiosk.devices.ql_printer import LABELS, ql_badge_drawing

        label = LABELS[printer_config.ql_label]
        fonts = fonts_for(printer_config.font_path)
        image = ql_badge_drawing(content, printer_config.ql_model, label, fonts)
    else:
        image = badge_drawing(content, printer_config).image
    job = badge_job(content, printer_config)
    if png_path:
        save_png(image, png_path)
    if escpos_path:
        Path(escpos_path).write_bytes(job)
    return {"width": image.width, "height": image.height, "bytes": len(job)}


def describe_code(
    code: DecodedCode, salt: bytes, today: date | None = None
) -> dict[str, Any] | None:
    """Parsed identity fields when `code` is a document (AAMVA PDF417, MRZ text, CN id number).

    None for anything else (invitations and badges are the caller's to classify). Only the
    hash and last four characters of a document number appear in the result.
    """
    text = code.raw.decode("latin-1").strip()
    try:
        if looks_like_aamva(code.raw):
            doc = parse_aamva(code.raw, salt)
        elif "<" in text and len(text.splitlines()) in (2, 3):
            doc = parse_mrz(text, salt)
        elif len(text) == 18 and text[:17].isdigit():
            doc = parse_cn_resident_id(text, salt)
        else:
            return None
    except InvalidInput as err:
        return {"document": "unreadable", "error": err.message}
    out = doc.as_dict()
    out["expired"] = is_expired(doc, today or date.today())
    return out


def scan_files(
    paths: Iterable[str | Path],
    classify: Callable[[DecodedCode], dict[str, Any]],
    reader: CodeReader | None = None,
    mrz_ocr: OcrFunction | Literal["auto"] | None = "auto",
) -> list[dict[str, Any]]:
    """Every distinct code in images, folders of images or video files, classified.

    Each row: {"file", "frame", "format", "decoder", **classify(code)}. A code seen in
    several frames of one file is reported at its first frame only. A frame with no code is
    read for an MRZ by `mrz_ocr` ("auto": Tesseract when it loads; None: never), every
    `MRZ_FRAME_STRIDE`th frame of a video, until one is found in that file; it comes as
    format "mrz".
    """
    reader = reader or make_reader("auto")
    ocr = _scan_ocr() if mrz_ocr == "auto" else mrz_ocr
    rows: list[dict[str, Any]] = []
    for path in paths:
        seen: set[tuple[str, bytes]] = set()
        mrz_found = False
        for index, frame in enumerate(iter_media_frames(path)):
            codes = reader.decode(frame)
            if not codes and ocr is not None and not mrz_found and index % MRZ_FRAME_STRIDE == 0:
                text = read_mrz_text(frame, ocr, budget_s=None)
                if text is not None:
                    mrz_found = True
                    codes = [DecodedCode(text.encode("ascii"), "mrz", getattr(ocr, "name", "ocr"))]
            for code in codes:
                if (code.format, code.raw) in seen:
                    continue
                seen.add((code.format, code.raw))
                rows.append(
                    {
                        "file": str(path),
                        "frame": index,
                        "format": code.format,
                        "decoder": code.decoder,
                        **classify(code),
                    }
                )
    return rows


#: `kiosk scan` reads a video's frames with no code for an MRZ only this often.
MRZ_FRAME_STRIDE = 5


def _scan_ocr() -> OcrFunction | None:
    from kiosk.devices.mrz_ocr import shared_mrz_ocr

    try:
        return shared_mrz_ocr()
    except HardwareUnavailable as err:
        log.info("no MRZ reading in the scan: %s", err)
        return None


def print_test_page(
    printer: Printer, profile: str = "TM-T20II", font_path: str | None = None
) -> int:
    """Print the test page now (no queue); returns the bytes sent."""
    image = render_test_page(printer.dot_width, fonts_for(font_path), printer.name)
    job = _image_job_for(printer, image, profile)
    printer.send(job)
    return len(job)


def _image_job_for(printer: Printer, image: Image.Image, profile: str) -> bytes:
    """A picture as the printer's own job: QL raster for a Brother QL, else ESC/POS."""
    from kiosk.devices.ql_printer import BrotherQLPrinter

    if isinstance(printer, BrotherQLPrinter):
        return printer.image_job(image)
    return image_job(image, profile)


def print_roll_call(
    printer: Printer,
    entries: Sequence[OnSiteEntry],
    site_name: str,
    now: datetime,
    profile: str = "TM-T20II",
    font_path: str | None = None,
) -> int:
    """Print the evacuation roll call now (no queue: in a fire drill nothing waits)."""
    image = render_roll_call(entries, site_name, now, printer.dot_width, fonts_for(font_path))
    job = _image_job_for(printer, image, profile)
    printer.send(job)
    return len(job)
