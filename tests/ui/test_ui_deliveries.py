"""The delivery screens driven by touch on the real kiosk and engine (issue 20), one run
of tests/ui/delivery_flows.py per touchscreen size: a parcel logged for 李娜 (pinyin
search) with its waybill scanned (bad ones refused in words) and a photo, its row and its
printed label's pickup QR; its collection by the typed code with a signature drawn by
touch moves; the code and the QR refused once collected; a printer failure that keeps the
parcel; the guard's search and hand-over. Screenshots in
test-artifacts/screenshots/deliveries/WxH/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from window import SCREENSHOTS, run_driver

from kiosk.ui.i18n import translate

pytestmark = pytest.mark.ui

PROGRAM = Path(__file__).with_name("delivery_flows.py")


@pytest.fixture(scope="module")
def landscape(xvfb_display: str, font_cache: Path) -> dict[str, Any]:
    out = SCREENSHOTS / "deliveries" / "1280x800"
    return run_driver(xvfb_display, font_cache, out, timeout=240, program=PROGRAM)


def test_a_parcel_logged_by_touch_is_a_row_and_a_printed_label(landscape: dict[str, Any]) -> None:
    [row] = landscape["after_logging"]
    assert row["kind"] == "parcel" and row["carrier"] == "sf" and row["items"] == 2
    assert row["state"] == "waiting" and row["host_ref"] and not row["company"]
    assert len(row["pickup_code"]) == 6 and row["pickup_code"].isdigit()
    [[qr]] = landscape["printed_qrs"]  # one label, its QR read back from the printer's bytes
    assert qr and row["pickup_code"] not in qr  # a signed token (the refusal test reads it)
    title, body = landscape["logged_notice"]
    assert title == "Label printed: stick it on the parcel."
    assert body.startswith("李娜 has been told.") and row["shelf"] in body


def test_the_waybill_scanned_from_a_code_128_bad_ones_refused_in_words(
    landscape: dict[str, Any],
) -> None:
    message_id, shown = landscape["waybill_control_problem"]  # a tab inside a Code 128
    assert "control character" in shown and message_id.startswith("This waybill number has")
    message_id, shown = landscape["waybill_long_problem"]  # 200 characters in a QR
    assert "200 characters long; at most 64" in shown
    assert landscape["items_waybill"] == ["SF1234567890123", 2]  # the count kept meanwhile
    [extras] = landscape["extras_after_logging"]
    assert extras["waybill"] == "SF1234567890123"


def test_the_parcels_photo_is_kept_with_its_row(landscape: dict[str, Any]) -> None:
    assert landscape["items_photo"] is True
    [extras] = landscape["extras_after_logging"]
    assert extras["photo"] and extras["photo_bytes"] > 1000  # a JPEG of the camera's frame


def test_a_signature_drawn_with_touch_moves_is_stored_as_the_engine_expects(
    landscape: dict[str, Any],
) -> None:
    """The site asks for a signature: refused unsigned, then two strokes drawn with
    touch moves; the engine keeps a 600x200 PNG whose ink covers the strokes' box."""
    from delivery_flows import SIGNATURE_STROKES

    assert landscape["unsigned_problem"] == "Please sign in the box."
    assert landscape["pad"]["strokes"] == 2
    [row] = landscape["after_collecting"]
    assert row["signed"] is True
    [signature] = landscape["signatures_after_collecting"]
    assert signature["parcel"] == row["ref"] and signature["format"] == "PNG"
    width, height = signature["size"]
    xs = [x for stroke in SIGNATURE_STROKES for x, _ in stroke]
    ys = [y for stroke in SIGNATURE_STROKES for _, y in stroke]
    expected = [min(xs) * width, (1 - max(ys)) * height, max(xs) * width, (1 - min(ys)) * height]
    assert signature["ink_pixels"] > 500
    for got, want in zip(signature["box"], expected, strict=True):
        assert abs(got - want) <= 6, (signature["box"], expected)  # the pen is 4 px wide


def test_the_guard_finds_a_parcel_and_hands_it_over_with_a_signature(
    landscape: dict[str, Any],
) -> None:
    assert landscape["guard_rows"] == ["Globex", "acme"]
    assert landscape["guard_search_rows"] == ["Globex"]
    assert landscape["guard_unsigned_problem"] == "Please sign in the box."
    status, left = landscape["guard_after_collect"]
    assert status == "Recorded as collected." and left == []  # the search still "glo"
    globex = next(r for r in landscape["after_guard_collect"] if r["company"] == "Globex")
    assert globex["state"] == "collected" and globex["method"] == "guard"
    assert globex["collected_by"] == "wang fang" and globex["signed"] is True
    assert [s["parcel"] for s in landscape["signatures_after_guard"]][-1] == globex["ref"]


def test_the_parcel_collected_by_typing_its_code(landscape: dict[str, Any]) -> None:
    recipient, _shelf, collector = landscape["parcel_shown"]
    assert recipient == collector == "李娜"  # prefilled, editable
    [row] = landscape["after_collecting"]
    assert row["state"] == "collected" and row["collected_by"] == "李娜"
    assert row["method"] == "code"
    assert landscape["collected_notice"][0] == "Thank you, 李娜"


def test_a_collected_parcels_code_and_qr_are_refused_in_words(
    landscape: dict[str, Any],
) -> None:
    assert landscape["code_again_notice"][0] in (
        "No parcel waits with this code",
        "This parcel was already collected",
    )
    title, body = landscape["qr_again_notice"]
    assert title == "This parcel was already collected"
    assert body.startswith("李娜 collected it on 2026-11-23 10:")  # the site's time


def test_a_printer_failure_says_so_and_keeps_the_parcel(landscape: dict[str, Any]) -> None:
    assert landscape["failed_notice"][0] == "The label could not be printed"
    kept = landscape["after_failure"][-1]
    assert kept["company"] == "acme" and kept["state"] == "waiting"
    assert kept["kind"] == "documents" and kept["carrier"] == "ems"


def test_the_guard_reprints_the_kept_label_and_marks_it_returned(
    landscape: dict[str, Any],
) -> None:
    assert "李娜" not in landscape["guard_rows"]  # the collected parcel is not listed
    assert landscape["reprinted_jobs"] == 1
    kept = next(row for row in landscape["after_return"] if row["company"] == "acme")
    assert kept["state"] == "returned"


def test_the_touchscreen_reads_refusals_without_the_engines_libraries(
    landscape: dict[str, Any],
) -> None:
    engine_only = {"peewee", "sqlite3", "cryptography", "nacl", "pydantic", "cv2", "numpy"}
    assert set(landscape["packages"]) & engine_only == set()
    assert "kiosk.services" not in landscape["packages"]


def test_every_delivery_screen_speaks_each_language(landscape: dict[str, Any]) -> None:
    """Each shot's labels are the catalogue's words in its language (no English left in
    the Chinese shots where a translation exists)."""
    for shot in landscape["shots"]:
        if shot["language"] == "en":
            continue
        texts = {label["text"] for label in shot["labels"]}
        for english in (
            "Collect a parcel",
            "Print the label",
            "Confirm collection",
            "Reprint label",
            "Scan the waybill",
            "Use this number",
            "Record the collection",
        ):
            assert translate(english, shot["language"]) != english
            assert english not in texts, (shot["name"], shot["language"])


def test_the_portrait_screen_runs_the_same_flow(xvfb_display: str, font_cache: Path) -> None:
    out = SCREENSHOTS / "deliveries" / "600x1024"
    report = run_driver(
        xvfb_display, font_cache, out, "--size", "600x1024", "--languages", "zh_Hans",
        timeout=240, program=PROGRAM,
    )  # fmt: skip
    assert report["after_collecting"][0]["state"] == "collected"
    assert report["after_failure"][-1]["state"] == "waiting"
    assert report["extras_after_logging"][0]["waybill"] == "SF1234567890123"
    assert report["signatures_after_guard"][-1]["ink_pixels"] > 500


def test_a_delivery_is_no_longer_a_visits_purpose() -> None:
    """Couriers use "Delivery" on the welcome screen; a site whose kiosk.toml still lists
    it among common purposes does not see it offered on the visit's details either."""
    import tomllib

    import kiosk.config
    from kiosk.domain.values import Purpose
    from kiosk.ui import flow

    assert Purpose.DELIVERY not in flow.VISIT_PURPOSES
    defaults = Path(kiosk.config.__file__).with_name("defaults.toml").read_text()
    assert "delivery" not in tomllib.loads(defaults)["site"]["common_purposes"]
