"""A badge as few ESC/POS bytes as the picture allows, streamed block by block.

Same SECURITY CONTRACT as `escpos_codec`: the only bytes that come from data are raster
payloads (pixels) and the QR's content, which is the kiosk's own base32 token (checked
here: anything else is refused, never sent). The job is:

    ESC @                         initialise
    per band of rows that carry ink:
      ESC J n                     feed the white above it (n dots, n <= 255 per command)
      ESC a 0|1|2                 left, centre or right: whichever lets the block drop the
                                  most white bytes at its sides
      GS v 0 m xL xH yL yH data   the block, cropped to its inked byte columns; m = 1, 2
                                  or 3 when its dots or rows come in identical pairs
                                  (the printer doubles them back: a raster QR of 4 dots
                                  a module costs a quarter)
    the QR, where the printer has it (python-escpos profile feature `qrCode`):
      ESC a 1, GS ( k model 2 / module size / level M / store / print
      then the visit reference line (kiosk-made ASCII) in the printer's Font B
    ESC d 6, GS V 0               feed past the cutter and cut (or ESC d 6 alone)

A white row inside a block costs its width in bytes; a gap of more than a few rows is
cheaper as a feed command plus a new block header, so each text line becomes a block.
The vertical motion unit of ESC J is taken as one dot (the default of 203 dpi printers
such as the TM-T20II; on the 180 dpi TM-T88V it is 1/180 inch, again one dot).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from escpos.constants import QR_ECLEVEL_H, QR_ECLEVEL_L, QR_ECLEVEL_M, QR_ECLEVEL_Q, QR_MODEL_2
from escpos.printer import Dummy

from kiosk.devices.escpos_codec import FRAGMENT_ROWS, INIT, text_line
from kiosk.devices.render import BadgeDrawing

ESC, GS = b"\x1b", b"\x1d"
ALIGN_LEFT, ALIGN_CENTRE, ALIGN_RIGHT = ESC + b"a\x00", ESC + b"a\x01", ESC + b"a\x02"
#: A white gap of this many rows or more ends a block (feed + header beat the white bytes).
SPLIT_GAP_ROWS = 2
_TOKEN = re.compile(r"[A-Z2-7]{16,400}")
_LEVELS = {"l": QR_ECLEVEL_L, "m": QR_ECLEVEL_M, "q": QR_ECLEVEL_Q, "h": QR_ECLEVEL_H}


def has_native_qr(profile: str) -> bool:
    """Whether the python-escpos profile says the printer draws QR codes (`GS ( k`)."""
    from escpos.capabilities import get_profile

    return bool(get_profile(profile).profile_data.get("features", {}).get("qrCode"))


@dataclass(frozen=True)
class Band:
    """Rows `top`..`bottom` (exclusive) that carry ink."""

    top: int
    bottom: int


def ink_bands(ink: npt.NDArray[np.bool_], split_gap: int = SPLIT_GAP_ROWS) -> list[Band]:
    """Runs of inked rows, split where `split_gap` or more white rows lie between them."""
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(rows) > split_gap)
    starts = np.concatenate(([rows[0]], rows[breaks + 1]))
    ends = np.concatenate((rows[breaks], [rows[-1]])) + 1
    return [Band(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def feed(dots: int) -> bytes:
    """ESC J n commands feeding `dots` dots (n is one byte: 255 at most each)."""
    out = bytearray()
    while dots > 0:
        step = min(dots, 255)
        out += ESC + b"J" + bytes([step])
        dots -= step
    return bytes(out)


def raster_block(packed: npt.NDArray[np.uint8], mode: int = 0) -> bytes:
    """One GS v 0 block of packed rows, MSB first, 1 = dot printed. Mode 1 prints each dot
    twice as wide, 2 twice as high, 3 both."""
    rows, width_bytes = packed.shape
    header = GS + b"v0" + bytes([mode])
    header += width_bytes.to_bytes(2, "little") + rows.to_bytes(2, "little")
    return header + packed.tobytes()


def doubled(packed: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], int]:
    """The block halved where the printer can double it back without changing a dot:
    rows that come in identical pairs (mode 2), dots that do (mode 1), or both (mode 3).
    A raster QR of 4 dots a module goes as a quarter of its bytes."""
    mode = 0
    if packed.shape[0] % 2 == 0 and np.array_equal(packed[0::2], packed[1::2]):
        packed, mode = packed[0::2], 2
    if packed.shape[1] % 2 == 0:
        bits = np.unpackbits(packed, axis=1)
        if np.array_equal(bits[:, 0::2], bits[:, 1::2]):
            packed, mode = np.packbits(bits[:, 0::2], axis=1), mode | 1
    return np.ascontiguousarray(packed), mode


def _crop(packed: npt.NDArray[np.uint8]) -> tuple[bytes, int, int]:
    """The alignment and the byte columns to keep: left (drop the right white), right (drop
    the left), or centre (drop the same amount on both sides), whichever keeps fewest."""
    inked = np.flatnonzero(packed.any(axis=0))
    total = packed.shape[1]
    left_white, right_white = int(inked[0]), total - 1 - int(inked[-1])
    both = min(left_white, right_white)
    choices = (
        (total - right_white, ALIGN_LEFT, 0, total - right_white),
        (total - left_white, ALIGN_RIGHT, left_white, total),
        (total - 2 * both, ALIGN_CENTRE, both, total - both),
    )
    _cost, align, start, stop = min(choices, key=lambda c: c[0])
    return align, start, stop


def aligned_block(packed: npt.NDArray[np.uint8], *, quadruple: bool = False) -> bytes:
    """The block with its white side columns dropped, behind the alignment that keeps every
    dot where it was (`_crop`); then halved where the printer can double it back
    (`doubled`). With `quadruple` the rows are already at half density both ways: they go
    in mode 3 as they are."""
    if not packed.any():
        return b""
    align, start, stop = _crop(packed)
    if quadruple:
        return align + raster_block(np.ascontiguousarray(packed[:, start:stop]), 3)
    block, mode = doubled(packed[:, start:stop])
    return align + raster_block(block, mode)


def native_qr(token: str, module: int, profile: str, error: str = "m") -> bytes:
    """ESC a 1 then python-escpos's `GS ( k` sequence (model 2, level `error`, `module` dots).

    Raises ValueError unless `token` is the kiosk's own base32 text: the QR store command
    carries its bytes verbatim, so nothing else may ever take this path.
    """
    if not _TOKEN.fullmatch(token):
        raise ValueError("only a kiosk token (base32) may be sent as a native QR code")
    encoder = Dummy(profile=profile)
    encoder.qr(token, ec=_LEVELS[error], size=module, model=QR_MODEL_2, native=True)
    return ALIGN_CENTRE + encoder.output


def split_rows(packed: npt.NDArray[np.uint8], max_rows: int = FRAGMENT_ROWS) -> list[int]:
    """Where to cut a band of packed rows into blocks so that fewer bytes are sent.

    A block costs its header and alignment (11 bytes) plus its rows times its cropped
    width, so a tall narrow part ("17:30" below the date beside it) is worth a block of
    its own. Greedy, one pass: a row joins the block unless starting a new block with it
    costs less (within 1 % of the best cut found by dynamic programming on the badges in
    the tests, at a twentieth of the time). Returns the rows that start each new block.
    """
    rows, total = packed.shape
    inked = packed != 0
    any_ink = inked.any(axis=1)
    lefts = np.where(any_ink, inked.argmax(axis=1), total).tolist()
    rights = np.where(any_ink, total - 1 - inked[:, ::-1].argmax(axis=1), -1).tolist()
    cuts: list[int] = []
    low, high, count = total, -1, 0
    for row in range(rows):
        left, right = lefts[row], rights[row]
        new_low, new_high = min(low, left), max(high, right)
        if count and count < max_rows:
            merged = (count + 1) * _width(new_low, new_high, total)
            split = count * _width(low, high, total) + BLOCK_OVERHEAD + _width(left, right, total)
            if merged <= split:
                low, high, count = new_low, new_high, count + 1
                continue
        if count:
            cuts.append(row)
        low, high, count = left, right, 1
    return cuts


BLOCK_OVERHEAD = 11  # ESC a n (3) + GS v 0 header (8)


def _width(low: int, high: int, total: int) -> int:
    """Bytes a row of a block whose ink spans byte columns low..high costs, best aligned."""
    if high < low:
        return 0
    return min(high + 1, total - low, total - 2 * min(low, total - 1 - high))


def _raster_blocks(
    ink: npt.NDArray[np.bool_], top: int, bottom: int, coarse_rows: tuple[tuple[int, int], ...]
) -> Iterator[bytes]:
    """Blocks and feeds for rows top..bottom; the caller stands at row `top`. Row spans in
    `coarse_rows` (drawn at half density, 2 x 2 dots a pixel) go at half resolution in
    quadruple mode."""
    y = top
    for start, stop, coarse in _segments(top, bottom, coarse_rows):
        step = 2 if coarse else 1
        rows = ink[start:stop:step, ::step]
        for band in ink_bands(rows):
            band_top, band_bottom = start + step * band.top, start + step * band.bottom
            packed = np.packbits(rows[band.top : band.bottom], axis=1)
            chunk = bytearray(feed(band_top - y))
            edges = [0, *split_rows(packed, FRAGMENT_ROWS // step), packed.shape[0]]
            for first, last in pairwise(edges):
                chunk += aligned_block(packed[first:last], quadruple=coarse)
            y = band_bottom
            yield bytes(chunk)
    if bottom > y:
        yield feed(bottom - y)


def _segments(
    top: int, bottom: int, coarse_rows: tuple[tuple[int, int], ...]
) -> Iterator[tuple[int, int, bool]]:
    """top..bottom cut into (start, stop, coarse) pieces at the coarse spans' edges."""
    y = top
    for span_top, span_bottom in sorted(coarse_rows):
        if span_bottom <= y or span_top >= bottom:
            continue
        if span_top > y:
            yield y, span_top, False
        start, stop = max(span_top, y), min(span_bottom, bottom)
        yield start, stop, start % 2 == 0 and stop % 2 == 0  # the 2 x 2 pixels' grid
        y = stop
    if y < bottom:
        yield y, bottom, False


def compact_blocks(drawing: BadgeDrawing, profile: str, *, cut: bool = True) -> Iterator[bytes]:
    """The job as chunks, first one first: a transport can print block 1 while block 2 is
    still being encoded. Joined, the chunks are the whole job."""
    ink = np.asarray(drawing.image.convert("1")) == 0  # True where a dot is printed
    if ink.shape[1] % 8:
        ink = np.pad(ink, ((0, 0), (0, 8 - ink.shape[1] % 8)))
    yield INIT
    placement = drawing.qr
    if placement is None:
        yield from _raster_blocks(ink, 0, ink.shape[0], drawing.coarse_rows)
    else:
        yield from _raster_blocks(ink, 0, placement.top, drawing.coarse_rows)
        yield native_qr(placement.token, placement.module, profile, placement.error) + ALIGN_LEFT
        # The printer advances by the symbol's height (plus its own line spacing).
        below = placement.top + placement.size
        end = drawing.footer_top if drawing.footer else ink.shape[0]
        yield from _raster_blocks(ink, below, end, drawing.coarse_rows)
        if drawing.footer:
            yield footer_line(drawing.footer)
    yield ESC + b"d\x06" + (GS + b"V\x00" if cut else b"")


def footer_line(text: str) -> bytes:
    """The visit reference line in the printer's small font (Font B, 9 x 17 dots), centred.

    Only the kiosk's own ASCII (a hex reference and a time) comes here, and it still goes
    through `text_line`, which keeps printable ASCII only."""
    return ALIGN_CENTRE + ESC + b"M\x01" + text_line(text) + ESC + b"M\x00" + ALIGN_LEFT


def compact_job(drawing: BadgeDrawing, profile: str, *, cut: bool = True) -> bytes:
    return b"".join(compact_blocks(drawing, profile, cut=cut))
