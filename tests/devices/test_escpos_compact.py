"""The compact badge job: read back by an independent interpreter (escpos_reader), the
paper is the drawing dot for dot, its QR verifies, and no visitor text is a command."""

from __future__ import annotations

import io

import numpy as np
import pytest
import zxingcpp
from devices_helpers import make_badge
from escpos_reader import UnknownCommand, read_job
from PIL import Image

from kiosk.devices.commands import badge_drawing, badge_job, legacy_badge_job
from kiosk.devices.config import PrinterConfig
from kiosk.devices.escpos_codec import dot_width
from kiosk.devices.escpos_compact import (
    aligned_block,
    compact_blocks,
    has_native_qr,
    ink_bands,
    native_qr,
)
from kiosk.domain.tokens import TokenKind

PROFILES = ["POS-5890", "TM-T88V", "TM-T20II"]


def _jpeg() -> bytes:
    face = Image.radial_gradient("L").resize((300, 400))
    buffer = io.BytesIO()
    face.convert("RGB").save(buffer, "JPEG")
    return buffer.getvalue()


HOSTILE_NAMES = [
    "".join(chr(c) for c in range(0x20)) + "\x7f" + "".join(chr(c) for c in range(0x80, 0xA0)),
    "Eve\x1b@\x1dV\x00\x10\x04\x01\x1b\x70\x00\x19\xfa Mallory\x9b",
    "\U00020000\U0002a6d6 \u20ac\u00e9 𠀀𪚖",  # GB18030 four-byte sequences
    "\u202eevil\u202c \u200f\u0627\u0644\u0639\u0631\u0628\u064a\u0629\u200e",  # RTL marks
    "张" * 4000,
]


def _read_qr(paper: Image.Image) -> list[str]:
    found = zxingcpp.read_barcodes(np.asarray(paper), formats=[zxingcpp.BarcodeFormat.QRCode])
    return [f.bytes.decode("ascii") for f in found]


@pytest.mark.parametrize("photo", [False, True], ids=["no-photo", "photo"])
@pytest.mark.parametrize("profile", PROFILES)
def test_round_trip_picture_and_qr(signer, verifier, profile: str, photo: bool) -> None:  # type: ignore[no-untyped-def]
    content = make_badge(signer, photo_jpeg=_jpeg() if photo else None)
    config = PrinterConfig(profile=profile)
    drawing = badge_drawing(content, config)
    printed = read_job(badge_job(content, config), dot_width(profile))
    # Down to the footer (printed in the printer's own font when it draws QR codes too).
    height = drawing.footer_top if drawing.footer else drawing.image.height
    paper = np.asarray(printed.paper)[:height] < 128
    expected = np.asarray(drawing.image.convert("L"))[:height] < 128
    assert paper.shape == expected.shape
    if drawing.qr is not None:  # the printer drew the symbol: compare everything else
        assert has_native_qr(profile) and printed.qr_data == [content.token.encode()]
        top, size = drawing.qr.top, drawing.qr.size
        assert printed.qr_boxes[0][1:] == (top, size, size)
        paper, expected = (
            np.delete(paper, slice(top, top + size), 0),
            np.delete(expected, slice(top, top + size), 0),
        )
    else:
        assert not has_native_qr(profile) and printed.qr_data == []
    assert np.array_equal(paper, expected)
    [token] = _read_qr(printed.paper)
    assert verifier.verify(token, TokenKind.BADGE).subject_ref == content.visit_ref
    assert printed.cuts == 1
    assert printed.text_lines == (
        [f"{content.visit_ref}  2025-03-14 09:05"] if drawing.footer else []
    )


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=["controls", "escpos", "gb4", "rtl", "4000"])
def test_hostile_names_are_only_pixels(signer, verifier, profile: str, name: str) -> None:  # type: ignore[no-untyped-def]
    content = make_badge(signer, name=name, company=name[:50], host_name=name[-30:])
    job = badge_job(content, PrinterConfig(profile=profile))
    printed = read_job(job, dot_width(profile))  # strict: an unknown byte is an error
    # The only text is the kiosk's own footer (its reference and the time), never the name.
    assert printed.text_lines in ([], [f"{content.visit_ref}  2025-03-14 09:05"])
    assert printed.qr_data in ([], [content.token.encode()])
    # Take the pixels out: what is left is only the kiosk's fixed command bytes.
    [token] = _read_qr(printed.paper)
    assert verifier.verify(token, TokenKind.BADGE).subject_ref == content.visit_ref


def test_the_strict_reader_refuses_a_command_outside_the_subset() -> None:
    with pytest.raises(UnknownCommand, match="0x10"):
        read_job(b"\x1b@\x10\x04\x01", 576)


def test_native_qr_takes_only_a_kiosk_token() -> None:
    assert native_qr("A" * 20, 4, "TM-T20II") == (
        b"\x1ba\x01"  # ESC a 1: centre
        + b"\x1d(k\x04\x001A2\x00"  # cn 49 fn 65: model 2
        + b"\x1d(k\x03\x001C\x04"  # fn 67: 4 dots a module
        + b"\x1d(k\x03\x001E1"  # fn 69: level M (49)
        + b"\x1d(k\x17\x001P0"  # fn 80 m 48: store 20 bytes (pL = 20 + 3)
        + b"A" * 20
        + b"\x1d(k\x03\x001Q0"  # fn 81: print
    )
    for bad in ("abc", "AB\x1bCDEFGHIJKLMNOPQRS", "A" * 15, "0" * 20):
        with pytest.raises(ValueError, match="token"):
            native_qr(bad, 4, "TM-T20II")


def test_blank_rows_are_one_feed_and_blocks_are_cropped() -> None:
    image = Image.new("1", (64, 40), 1)
    for x in range(40, 48):
        image.putpixel((x, 30), 0)  # one byte of ink, row 30, columns 40-47
    ink = np.asarray(image) == 0
    assert [(b.top, b.bottom) for b in ink_bands(ink)] == [(30, 31)]
    from kiosk.devices.render import BadgeDrawing

    job = b"".join(compact_blocks(BadgeDrawing(image), "TM-T20II"))
    assert job == (
        b"\x1b@"
        + b"\x1bJ\x1e"  # ESC J 30: feed the 30 white rows
        + b"\x1ba\x02"  # right: dropping the 5 white bytes on the left beats centring (2)
        + b"\x1dv0\x00\x03\x00\x01\x00"  # GS v 0, 3 bytes wide, 1 row
        + b"\xff\x00\x00"
        + b"\x1bJ\x09"  # the 9 white rows below
        + b"\x1bd\x06\x1dV\x00"
    )


def test_doubling_keeps_every_dot() -> None:
    qr_like = np.kron(np.random.default_rng(1).integers(0, 2, (6, 4)), np.ones((4, 8), int))
    packed = np.packbits(qr_like.astype(bool), axis=1)
    block = aligned_block(packed)
    printed = read_job(b"\x1b@" + block, packed.shape[1] * 8)
    assert np.array_equal(np.asarray(printed.paper) < 128, qr_like.astype(bool))
    assert len(block) == 11 + packed.size // 4  # both doublings: a quarter of the bytes


def test_native_text_mode_is_short_and_reads_back(signer, verifier) -> None:  # type: ignore[no-untyped-def]
    content = make_badge(signer, name="张伟 Zhang Wei")
    job = badge_job(content, PrinterConfig(native_text=True))
    printed = read_job(job, 576)
    assert "张伟 Zhang Wei" in printed.text_lines and "Host: 王芳" in printed.text_lines
    assert printed.qr_data == [content.token.encode()]
    assert len(job) < 3_000 < len(badge_job(content, PrinterConfig()))


def test_compact_is_a_fraction_of_the_legacy_job(signer) -> None:  # type: ignore[no-untyped-def]
    content = make_badge(signer, photo_jpeg=_jpeg())
    for profile in PROFILES:
        config = PrinterConfig(profile=profile)
        assert len(badge_job(content, config)) < len(legacy_badge_job(content, config)) / 2.5
