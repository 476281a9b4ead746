"""Brother QL: the badge through brother_ql's real backends (linux_kernel on a pty, network
on loopback) into a QL simulated from Brother's raster command reference; the label it
prints is the drawing, dot for dot, its QR verifies, and every fault is reported."""

from __future__ import annotations

import io

import numpy as np
import pytest
import zxingcpp
from devices_helpers import make_badge
from PIL import Image
from test_escpos_compact import HOSTILE_NAMES

from kiosk.devices.commands import badge_job, fonts_for, print_test_page
from kiosk.devices.config import PrinterConfig
from kiosk.devices.errors import PrinterError
from kiosk.devices.fake_brother_ql import FakeBrotherQL, unpack_bits
from kiosk.devices.printers import open_printer
from kiosk.devices.protocols import StatusLevel
from kiosk.devices.ql_printer import LABELS, BrotherQLPrinter, ql_badge_drawing
from kiosk.domain.tokens import TokenKind

ROLLS = {"62": "DK-22205", "62x100": "DK-11202", "62red": "DK-22251"}
CASES = [
    ("QL-800", "62"),
    ("QL-820NWB", "62x100"),
    ("QL-810W", "62red"),
    ("QL-1100", "62"),
    ("QL-1100", "62x100"),
]


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.radial_gradient("L").resize((300, 400)).convert("RGB").save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def printed():  # type: ignore[no-untyped-def]
    """Prints through open_printer(kind="brother_ql", ql_connection="fake"); yields a
    function returning (printer, its fake)."""
    opened: list[FakeBrotherQL] = []

    def make(model: str, label: str, timeout: float = 3) -> tuple[BrotherQLPrinter, FakeBrotherQL]:
        config = PrinterConfig(kind="brother_ql", ql_model=model, ql_label=label, timeout_s=timeout)
        printer = open_printer(config)
        assert isinstance(printer, BrotherQLPrinter)
        opened.append(printer.fake)  # type: ignore[attr-defined]
        return printer, printer.fake  # type: ignore[attr-defined]

    yield make
    for fake in opened:
        fake.close()


def _qr(page: Image.Image) -> str:
    grey = np.asarray(page.convert("L"))
    [found] = zxingcpp.read_barcodes(grey, formats=[zxingcpp.BarcodeFormat.QRCode])
    return found.bytes.decode("ascii")


@pytest.mark.parametrize(("model", "label"), CASES)
def test_round_trip_on_every_model_and_label(signer, verifier, printed, model, label) -> None:  # type: ignore[no-untyped-def]
    content = make_badge(signer, photo_jpeg=_jpeg())
    printer, fake = printed(model, label)
    config = PrinterConfig(kind="brother_ql", ql_model=model, ql_label=label)
    printer.send(badge_job(content, config))
    [page] = fake.pages
    expected = ql_badge_drawing(content, model, LABELS[label], fonts_for(None)).convert("RGB")
    assert page.size == expected.size and page.width == 696
    got, want = np.asarray(page), np.asarray(expected)
    assert np.array_equal(got.min(axis=2) < 128, want.min(axis=2) < 128)  # black or red ink
    red_got = (got[..., 0] > 128) & (got[..., 1] < 128)
    red_want = (want[..., 0] > 128) & (want[..., 1] < 128)
    assert np.array_equal(red_got, red_want) and red_got.any() == (label == "62red")
    if label == "62x100":
        assert page.height == 1109  # the die-cut label's printable length
    assert verifier.verify(_qr(page), TokenKind.BADGE).subject_ref == content.visit_ref


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=["controls", "escpos", "gb4", "rtl", "4000"])
def test_hostile_names_are_only_raster_lines(signer, verifier, printed, name: str) -> None:  # type: ignore[no-untyped-def]
    content = make_badge(signer, name=name, company=name[:50], host_name=name[-30:])
    printer, fake = printed("QL-820NWB", "62")
    printer.send(badge_job(content, PrinterConfig(kind="brother_ql")))
    # The fake parses the whole stream strictly (an unknown command raises): only raster.
    assert len(fake.pages) == 1
    assert verifier.verify(_qr(fake.pages[0]), TokenKind.BADGE).subject_ref == content.visit_ref


def test_over_the_network_backend(signer) -> None:  # type: ignore[no-untyped-def]
    fake = FakeBrotherQL("QL-820NWB", "DK-22205", tcp=True)
    try:
        printer = BrotherQLPrinter(f"tcp://127.0.0.1:{fake.tcp_port}", "QL-820NWB", LABELS["62"])
        assert printer.status().level is StatusLevel.OK
        printer.send(badge_job(make_badge(signer), PrinterConfig(kind="brother_ql")))
        assert len(fake.pages) == 1
    finally:
        fake.close()


@pytest.mark.parametrize(
    ("fault", "detail"),
    [
        ("paper_out", "out of labels: load a DK-22205 roll"),
        ("cover_open", "cover open"),
        (
            "wrong_label",
            "wrong labels: 29 mm continuous length tape loaded, DK-22205 (62 mm) expected",
        ),
    ],
)
def test_faults_are_printer_states(signer, printed, fault: str, detail: str) -> None:  # type: ignore[no-untyped-def]
    printer, fake = printed("QL-820NWB", "62")
    fake.fault(fault)
    status = printer.status()
    assert (status.level, status.detail) == (StatusLevel.PROBLEM, detail)
    with pytest.raises(PrinterError) as raised:
        printer.send(badge_job(make_badge(signer), PrinterConfig(kind="brother_ql")))
    assert raised.value.status == status and fake.pages == []
    fake.fault("clear")
    printer.send(badge_job(make_badge(signer), PrinterConfig(kind="brother_ql")))
    assert len(fake.pages) == 1


def test_a_cable_pulled_mid_job_fails_the_job(signer, printed) -> None:  # type: ignore[no-untyped-def]
    printer, fake = printed("QL-820NWB", "62", timeout=0.5)
    fake.fault("unplug_mid_job", after_bytes=5000)
    with pytest.raises(PrinterError):
        printer.send(badge_job(make_badge(signer), PrinterConfig(kind="brother_ql")))
    assert fake.pages == []
    assert printer.status().level is StatusLevel.UNKNOWN


def test_the_test_page_prints_on_the_label(printed) -> None:  # type: ignore[no-untyped-def]
    printer, fake = printed("QL-800", "62")
    assert print_test_page(printer) > 0
    assert fake.pages[0].width == 696


def test_packbits_as_the_reference_describes_it() -> None:
    packed = bytes.fromhex("FE AA 02 80 00 2A FD AA 03 80 00 2A 22 F7 AA")
    assert unpack_bits(packed) == bytes.fromhex(
        "AA AA AA 80 00 2A AA AA AA AA 80 00 2A 22 AA AA AA AA AA AA AA AA AA AA"
    )


def test_the_fakes_status_reply_reads_as_brothers() -> None:
    from brother_ql.reader import interpret_response

    fake = FakeBrotherQL("QL-1100", "DK-11202")
    try:
        reply = interpret_response(fake.status_reply())
        assert reply["model_name"] == "QL-1100"
        assert (reply["media_width"], reply["media_length"]) == (62, 100)
        assert reply["media_type"] == "Die-cut labels" and reply["errors"] == []
        fake.fault("cover_open")
        assert interpret_response(fake.status_reply())["errors"][0].startswith("Cover opened")
    finally:
        fake.close()


def test_red_labels_need_a_two_colour_model() -> None:
    with pytest.raises(ValueError, match="two-colour"):
        PrinterConfig(kind="brother_ql", ql_model="QL-1100", ql_label="62red")
    with pytest.raises(ValueError, match="ql_connection"):
        PrinterConfig(kind="brother_ql", ql_connection="COM3")
