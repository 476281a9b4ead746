"""Decode rates on synthesised camera frames, per condition, for QR badges and AAMVA PDF417."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kiosk.devices.decoders import FastReader, PyzbarReader, ZxingReader, make_reader
from kiosk.devices.identity import parse_aamva
from kiosk.devices.synthetic import STANDARD_CONDITIONS, empty_frame, render_code, synth_frame

BADGE_TOKEN = (
    "AEBAGBAFAYDQQCIKBMGA2DQPCAIREEYUCULBOGAZDINRYHI6D4QCAJBFEYTRFIVFCWK5MHB3MPE2NR3XGV4TEM"
    "X2Y4WJQS7JVTN5DWKPUYXRW5YFUVBK3ZLPAGZJIB4OQT3WV7R5TYOUOYQGCHLPDVZ"
)  # 151 characters of base32, the length of a real badge token
ROWS: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def _print_table() -> None:  # type: ignore[misc]
    yield
    print("\n" + "\n".join(["decode rates (frames decoded / frames)", *ROWS]))


@pytest.mark.parametrize("condition", STANDARD_CONDITIONS, ids=lambda c: c.name)
def test_qr_badge_decode_rate_640x480(condition) -> None:  # type: ignore[no-untyped-def]
    code = render_code(BADGE_TOKEN, "qr", module_px=4)
    fast, pyzbar = FastReader(), PyzbarReader()
    frames = [synth_frame(code, condition, (640, 480), seed=i, color=i % 2 == 0) for i in range(12)]
    fast_hits = sum(
        any(c.raw == BADGE_TOKEN.encode() and c.format == "qr" for c in fast.decode(f))
        for f in frames
    )
    zbar_hits = sum(any(c.raw == BADGE_TOKEN.encode() for c in pyzbar.decode(f)) for f in frames)
    ROWS.append(f"  qr     {condition.name:13s} fast {fast_hits:2d}/12   pyzbar {zbar_hits:2d}/12")
    assert fast_hits >= 11, f"{condition.name}: {fast_hits}/12"


@pytest.mark.parametrize("condition", STANDARD_CONDITIONS, ids=lambda c: c.name)
def test_aamva_pdf417_decode_rate_1280x720(condition, california_dl: bytes) -> None:  # type: ignore[no-untyped-def]
    code = render_code(california_dl, "pdf417", module_px=2)
    reader = FastReader()
    frames = [
        synth_frame(code, replace(condition, code_fraction=0.5), (1280, 720), seed=i)
        for i in range(10)
    ]
    hits = 0
    for frame in frames:
        found = [c for c in reader.decode(frame) if c.format == "pdf417"]
        if found:
            assert found[0].raw == california_dl  # byte-exact, LF/RS/CR included
            hits += 1
    ROWS.append(f"  pdf417 {condition.name:13s} fast {hits:2d}/10")
    assert hits >= 9, f"{condition.name}: {hits}/10"


def test_decoded_pdf417_parses_as_a_licence(california_dl: bytes) -> None:
    frame = synth_frame(
        render_code(california_dl, "pdf417", 2), STANDARD_CONDITIONS[2], (1280, 720)
    )
    (code,) = FastReader().decode(frame)
    assert parse_aamva(code.raw, b"salt").family_name == "Montgomery"


def test_raw_bytes_survive_for_binary_payloads() -> None:
    payload = bytes(range(256))
    for fmt in ("qr", "pdf417"):
        frame = synth_frame(render_code(payload, fmt, 3), size=(1280, 720))  # type: ignore[arg-type]
        assert [c.raw for c in ZxingReader().decode(frame)] == [payload]


def test_empty_frames_give_nothing() -> None:
    for reader in (FastReader(), ZxingReader(), PyzbarReader()):
        assert reader.decode(empty_frame(seed=3)) == []


def test_pyzbar_reads_one_dimensional_codes() -> None:
    import numpy as np
    import zxingcpp

    barcode = zxingcpp.create_barcode("KIOSK-42", zxingcpp.BarcodeFormat.Code128)
    image = np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=3))
    image = np.kron(image, np.ones((20, 1), np.uint8)) if image.shape[0] < 40 else image
    codes = PyzbarReader().decode(image)
    assert [(c.raw, c.format) for c in codes] == [(b"KIOSK-42", "code128")]


def test_make_reader_names() -> None:
    assert make_reader("auto").name == "fast"
    assert make_reader("pyzbar").name == "pyzbar"
    with pytest.raises(ValueError, match="unknown decoder"):
        make_reader("tesseract")
