"""The badge in the printer's own font (GB18030), for Chinese receipt printers: opt-in.

Off by default (`devices.printer.native_text`). A printer sold in China carries a GB18030
font; printing names with it costs a few bytes a character instead of kilobytes of raster.
It is the one place where text from a visitor reaches the printer as text, so:

SAFETY CONTRACT: `printable_gb18030(text)` drops every C0 control, DEL, every C1 control
and every other Unicode control or format character (category Cc, Cf, Cs: bidi marks,
zero-width joiners, lone surrogates), then encodes to GB18030. GB18030 maps U+0020..U+007E
to themselves and every other code point to two bytes (lead 0x81-0xFE, trail 0x40-0x7E or
0x80-0xFE) or four (0x81-0xFE, 0x30-0x39, 0x81-0xFE, 0x30-0x39), so no byte below 0x20
and no 0x7F can come out: no ESC, GS, FS or DLE, no line feed. The function checks it
again before returning (and tests/devices/test_escpos_text.py proves it with hypothesis
for any string). The printer cannot be told anything by a name.

Layout, top to bottom as the raster badge: site, band (GS B reverse), name (GS ! as large
as fits on one line), company, host, a rule (raster), date and VALID UNTIL, the expiry
time (large), ESCORT REQUIRED (reverse), photo (raster), QR (native where the profile has
it), visit reference; then feed and cut.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
from wcwidth import wcswidth

from kiosk.devices.badge_words import BadgeLabels, badge_date, badge_labels
from kiosk.devices.config import PrinterConfig
from kiosk.devices.errors import RenderError
from kiosk.devices.escpos_codec import INIT, dot_width, profile_dpi, strip_controls
from kiosk.devices.escpos_compact import (
    ALIGN_CENTRE,
    ALIGN_LEFT,
    aligned_block,
    feed,
    has_native_qr,
    native_qr,
)
from kiosk.devices.fonts import FontBook
from kiosk.devices.render import dither_photo, photo_size, qr_image
from kiosk.domain.values import BadgeContent

ESC, GS, FS = b"\x1b", b"\x1d", b"\x1c"
CHINESE_ON, CHINESE_OFF = FS + b"&", FS + b"."
REVERSE_ON, REVERSE_OFF = GS + b"B\x01", GS + b"B\x00"
#: Font A: 12 dots a half-width cell, 24 a full-width (CJK) one, 24 dots high.
CELL_DOTS = 12


class UnsafeText(ValueError):
    """A byte below 0x20 or 0x7F would have left the encoder (it cannot; this is the check)."""


def printable_gb18030(text: str) -> bytes:
    """`text` as GB18030 with every control and format character removed (see the module's
    contract): the result never holds a byte below 0x20 nor 0x7F."""
    kept = "".join(
        c for c in strip_controls(text) if unicodedata.category(c) not in ("Cc", "Cf", "Cs")
    )
    data = kept.encode("gb18030", errors="replace")
    if any(byte < 0x20 or byte == 0x7F for byte in data):
        raise UnsafeText("a control byte would reach the printer")
    return data


def _fit(text: str, columns: int) -> str:
    """`text` cut to `columns` half-width cells (CJK counts two), with an ellipsis if cut."""
    text = " ".join(strip_controls(text).split())
    if max(wcswidth(text), len(text)) <= columns:
        return text
    out = ""
    for char in text:
        if max(wcswidth(out + char + "…"), len(out) + 2) > columns:
            break
        out += char
    return out + "…"


def text_line(text: str, width: int, magnify: int = 1, *, reverse: bool = False) -> bytes:
    """One centred line in the printer's font at `magnify` times, safe bytes only."""
    columns = max(1, width // (CELL_DOTS * magnify))
    size = bytes([(magnify - 1) << 4 | (magnify - 1)])
    body = printable_gb18030(_fit(text, columns))
    line = ALIGN_CENTRE + GS + b"!" + size + CHINESE_ON + body + b"\n" + CHINESE_OFF
    return (REVERSE_ON + line + REVERSE_OFF) if reverse else line


def _largest_fit(text: str, width: int, largest: int) -> int:
    cells = max(1, wcswidth(" ".join(strip_controls(text).split())))
    for magnify in range(largest, 1, -1):
        if cells * CELL_DOTS * magnify <= width:
            return magnify
    return 1


def _centred(image_bits: npt.NDArray[np.bool_], width: int) -> bytes:
    """A picture centred on the paper, as raster blocks cropped to its ink."""
    height, wide = image_bits.shape
    paper = np.zeros((height, width + (-width % 8)), bool)
    left = (width - wide) // 2
    paper[:, left : left + wide] = image_bits
    return aligned_block(np.packbits(paper, axis=1))


def native_text_blocks(
    content: BadgeContent,
    config: PrinterConfig,
    fonts: FontBook,
    labels: BadgeLabels | None = None,
) -> Iterator[bytes]:
    """The badge's job in chunks, text in the printer's GB18030 font."""
    labels = labels or badge_labels(content.language)
    width = dot_width(config.profile, config.width_pixels)
    yield INIT
    if content.site_name:
        yield text_line(content.site_name, width)
    yield text_line(content.visitor_type_label or labels.visitor, width, 2, reverse=True)
    yield feed(12)
    yield text_line(content.visitor_name, width, _largest_fit(content.visitor_name, width, 4))
    if content.company:
        yield text_line(content.company, width)
    yield text_line(f"{labels.host}{labels.colon}{content.host_name}", width)
    rule = np.zeros((3, width), bool)
    rule[:, 8 : width - 8] = True
    yield feed(6) + _centred(rule, width) + feed(6)
    yield text_line(
        f"{labels.valid_until} {badge_date(content.expires_at, content.language)}", width
    )
    yield text_line(f"{content.expires_at:%H:%M}", width, 4)
    if content.escort_required:
        yield text_line(labels.escort_required, width, 2, reverse=True)
    yield feed(8)
    if content.photo_jpeg:
        try:
            photo = dither_photo(content.photo_jpeg, photo_size(profile_dpi(config.profile)))
            yield _centred(np.asarray(photo) < 128, width) + feed(8)
        except RenderError:  # a damaged photo costs the badge its photo only
            pass
    if config.qr != "raster" and (config.qr == "native" or has_native_qr(config.profile)):
        yield native_qr(content.token, config.qr_module, config.profile, config.qr_error)
    else:
        code = qr_image(content.token, width // 2)
        yield _centred(np.asarray(code) < 128, width)
    yield ALIGN_LEFT + text_line(f"{content.visit_ref}  {content.issued_at:%Y-%m-%d %H:%M}", width)
    yield ESC + b"d\x06" + (GS + b"V\x00" if config.cut else b"")
