from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
from devices_helpers import make_badge
from PIL import Image
from pydantic import ValidationError

from kiosk.devices.commands import describe_code, render_badge_files, scan_files
from kiosk.devices.config import CameraConfig, DevicesConfig, PrinterConfig
from kiosk.devices.doctor import check, find_devices
from kiosk.devices.protocols import DecodedCode
from kiosk.devices.synthetic import render_code, synth_frame


def test_defaults_are_fake_devices() -> None:
    config = DevicesConfig()
    assert (config.camera.kind, config.printer.kind, config.printer.profile) == (
        "fake",
        "fake",
        "TM-T20II",
    )


def test_config_errors_are_all_reported() -> None:
    with pytest.raises(ValidationError) as info:
        DevicesConfig.model_validate(
            {"camera": {"kind": "webcam", "widht": 640}, "printer": {"profile": "nope", "port": 0}}
        )
    locations = {".".join(map(str, e["loc"])) for e in info.value.errors()}
    assert {"camera.kind", "camera.widht", "printer.profile", "printer.port"} <= locations


def test_replay_needs_a_path_and_usb_ids_accept_hex() -> None:
    with pytest.raises(ValidationError, match="source_path"):
        CameraConfig(kind="replay")
    assert PrinterConfig(usb_vendor_id="0x0416", usb_product_id="5011").usb_product_id == 0x5011  # type: ignore[arg-type]


def test_render_badge_files(signer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = render_badge_files(
        make_badge(signer),
        PrinterConfig(profile="POS-5890"),
        tmp_path / "b.png",
        tmp_path / "b.bin",
    )
    assert result["width"] == 384
    assert Image.open(tmp_path / "b.png").size == (384, result["height"])
    assert (tmp_path / "b.bin").stat().st_size == result["bytes"]


def test_scan_files_classifies_images_and_identity(tmp_path: Path, california_dl: bytes) -> None:
    cv2.imwrite(str(tmp_path / "badge.png"), synth_frame(render_code("INVITATION TOKEN"), seed=1))
    cv2.imwrite(
        str(tmp_path / "licence.png"),
        synth_frame(render_code(california_dl, "pdf417", 2), size=(1280, 720)),
    )
    rows = scan_files(
        [tmp_path / "badge.png", tmp_path / "licence.png"],
        lambda code: describe_code(code, b"salt") or {"text": code.text},
    )
    assert rows[0]["text"] == "INVITATION TOKEN" and rows[0]["format"] == "qr"
    assert rows[1]["kind"] == "aamva" and rows[1]["family_name"] == "Montgomery"
    assert rows[1]["expired"] is False and "D1234567" not in json.dumps(rows)


def test_describe_code() -> None:
    td3 = (
        b"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
        b"L898902C36UTO7408122F1204159ZE184226B<<<<<10"
    )
    described = describe_code(DecodedCode(td3, "qr"), b"salt")
    assert described is not None and described["expired"] is True
    assert (
        describe_code(DecodedCode(b"11010519491231002X", "code128"), b"s")["birth_date"]
        == "1949-12-31"
    )  # type: ignore[index]
    assert describe_code(DecodedCode(b"ABCDEF", "qr"), b"s") is None
    broken = describe_code(DecodedCode(b"11010519491231002Y", "code128"), b"s")
    assert broken == {
        "document": "unreadable",
        "error": "must be 17 digits followed by a digit or X",
    }


def test_doctor_reports_missing_pieces_with_advice() -> None:
    report = check(DevicesConfig(printer=PrinterConfig(kind="file", file_path="/nonexistent/lp0")))
    by_name = {f.name: f for f in report.findings}
    assert by_name["zxing-cpp"].ok
    assert not by_name["/nonexistent/lp0"].ok
    assert all(f.advice for f in report.problems() if f.kind in ("ocr", "decoder"))
    assert isinstance(find_devices(), list)
