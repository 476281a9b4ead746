"""Byte-exact ESC/POS: fixed parts, raster encoding, control-byte safety, status mapping."""

from __future__ import annotations

import numpy as np
import pytest
import zxingcpp
from devices_helpers import decode_raster_job, make_badge
from PIL import Image

from kiosk.devices.commands import badge_drawing, badge_job, legacy_badge_job
from kiosk.devices.config import PrinterConfig
from kiosk.devices.escpos_codec import (
    FRAGMENT_ROWS,
    dot_width,
    image_job,
    interpret_status,
    strip_controls,
    text_line,
)
from kiosk.devices.paper import parse_job, render_paper
from kiosk.devices.protocols import StatusLevel
from kiosk.domain.tokens import TokenKind


def test_dot_width_from_profile() -> None:
    assert dot_width("TM-T20II") == 576
    assert dot_width("TM-T88V") == 512
    assert dot_width("POS-5890") == 384
    assert dot_width("default", 576) == 576
    with pytest.raises(ValueError, match="width_pixels"):
        dot_width("default")


def test_tiny_image_job_is_byte_exact() -> None:
    image = Image.new("1", (16, 2), 1)
    image.putpixel((0, 0), 0)  # top-left dot black
    image.putpixel((15, 1), 0)  # bottom-right dot black
    job = image_job(image, "TM-T20II")
    assert job == (
        b"\x1b@"  # ESC @ initialise
        + b"\x1dv0\x00"
        + b"\x02\x00"
        + b"\x02\x00"  # GS v 0, normal, 2 bytes wide, 2 rows
        + b"\x80\x00"
        + b"\x00\x01"  # MSB first, 1 = print
        + b"\x1bd\x06"  # ESC d 6: feed past the cutter
        + b"\x1dV\x00"  # GS V 0: full cut
    )


def test_no_cut_job_ends_with_feed_only() -> None:
    job = image_job(Image.new("1", (8, 1), 1), "TM-T20II", cut=False)
    assert job.endswith(b"\x00\x1bd\x06") and b"\x1dV" not in job


def test_tall_image_is_split_into_fragments() -> None:
    job = image_job(Image.new("1", (576, FRAGMENT_ROWS * 2 + 10), 1), "TM-T20II")
    headers = [c for c in parse_job(job) if c.name == "raster"]
    assert [c.args for c in headers] == [
        (0, 72, FRAGMENT_ROWS),
        (0, 72, FRAGMENT_ROWS),
        (0, 72, 10),
    ]


def test_image_wider_than_the_paper_is_refused() -> None:
    from escpos.exceptions import ImageWidthError

    with pytest.raises(ImageWidthError):
        image_job(Image.new("1", (600, 8), 1), "TM-T20II")


HOSTILE_NAME = "Eve\x1b@\x1dV\x00\x10\x04\x01\x1b\x70\x00\x19\xfa Mallory\x9b"


def test_visitor_text_never_reaches_the_printer_as_commands(signer) -> None:  # type: ignore[no-untyped-def]
    content = make_badge(
        signer, name=HOSTILE_NAME, company="\x1b!\x30Corp", host_name="Host\x1dB\x01"
    )
    job = legacy_badge_job(content, PrinterConfig())
    _image, outside = decode_raster_job(job)
    # Outside the raster payloads there is exactly: init before, feed + cut after. Nothing else.
    assert outside[0] == b"\x1b@"
    assert all(run == b"" for run in outside[1:-1])
    assert outside[-1] == b"\x1bd\x06\x1dV\x00"
    # and the kiosk's own strict parser agrees: only init, raster, feed, cut.
    assert {c.name for c in parse_job(job)} == {"init", "raster", "feed_lines", "cut"}


def test_strip_controls_and_text_line() -> None:
    assert strip_controls(HOSTILE_NAME) == "Eve@Vp\xfa Mallory"
    assert text_line("A\x1bB\x1dC\x10D\x7fE\x85F\u200bG") == b"ABCDEFG\n"
    assert text_line("张伟") == b"??\n"
    for byte in range(0x20):
        assert bytes([byte]) not in text_line(chr(byte) * 3)[:-1]


@pytest.mark.parametrize(
    ("online", "paper", "level", "detail"),
    [
        (b"\x12", b"\x12", StatusLevel.OK, "ready"),
        (b"\x12", b"\x1e", StatusLevel.OK, "paper low"),
        (b"\x1a", b"\x72", StatusLevel.PROBLEM, "out of paper"),
        (b"\x12", b"\x72", StatusLevel.PROBLEM, "out of paper"),
        (b"\x1a", b"\x12", StatusLevel.PROBLEM, "offline: cover open, paper out or an error"),
        (b"", b"", StatusLevel.UNKNOWN, "the printer did not answer a status request"),
        (None, b"\x12", StatusLevel.UNKNOWN, "the printer did not answer a status request"),
        (b"0", b"0", StatusLevel.UNKNOWN, "unexpected status bytes 0x30 0x30"),  # CUPS's stand-in
    ],
)
def test_status_is_ok_problem_or_unknown(online, paper, level, detail) -> None:  # type: ignore[no-untyped-def]
    status = interpret_status(online, paper)
    assert (status.level, status.detail) == (level, detail)
    assert status.paper_low == (detail == "paper low")


@pytest.mark.parametrize("profile", ["POS-5890", "TM-T88V", "TM-T20II"])
def test_badge_round_trip_through_escpos_bytes(signer, verifier, profile: str) -> None:  # type: ignore[no-untyped-def]
    """Render -> ESC/POS (the full-width encoder, still used for the test page and the roll
    call) -> (independent) raster decoder -> QR read -> signature verified."""
    content = make_badge(signer, name="Maximilian Alexander von Hohenzollern-Sigmaringen")
    job = legacy_badge_job(content, PrinterConfig(profile=profile))
    paper, _ = decode_raster_job(job)
    assert paper.width == dot_width(profile)
    found = zxingcpp.read_barcodes(np.asarray(paper), formats=[zxingcpp.BarcodeFormat.QRCode])
    assert len(found) == 1
    token = verifier.verify(found[0].bytes.decode("ascii"), TokenKind.BADGE)
    assert token.subject_ref == content.visit_ref


@pytest.mark.parametrize("profile", ["POS-5890", "TM-T20II"])
def test_fake_paper_matches_the_drawing(signer, profile: str) -> None:  # type: ignore[no-untyped-def]
    """The fake printer's paper (kiosk.devices.paper) shows the badge as drawn, dot for dot,
    the natively printed QR included (both draw it with segno)."""
    content = make_badge(signer)
    config = PrinterConfig(profile=profile)
    drawing = badge_drawing(content, config)
    paper = np.asarray(render_paper(badge_job(content, config), dot_width(profile)))
    if drawing.footer:  # the last line is in the printer's font: compare above it
        height = drawing.footer_top
        assert (paper[height:] < 128).any()
    else:
        height = drawing.image.height
        assert (paper[height:] >= 128).all()  # then only feed and the cut mark
    expected = np.asarray(drawing.image.convert("L"))[:height] < 128
    assert np.array_equal(paper[:height] < 128, expected)


def test_bytes_per_badge_are_bounded(signer) -> None:  # type: ignore[no-untyped-def]
    content = make_badge(signer)
    small = len(badge_job(content, PrinterConfig(profile="POS-5890")))
    large = len(badge_job(content, PrinterConfig(profile="TM-T20II")))
    print(f"\nbytes per badge: 58 mm {small}, 80 mm {large}")
    assert small < 12_000 and large < 20_000  # ~1 s and ~1.7 s at 115200 baud
