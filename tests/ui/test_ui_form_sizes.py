"""Every form with its keyboard up: each field, touched, is wholly seen above the keyboard,
and no button is covered or cut off (tests/ui/form_sizes.py drives one window through the
sizes; tests/ui/layout_faults.py says what is wrong).

The default suite checks the official 7-inch display (800x480), the tightest; the slow
one every size the kiosk is sold with, portrait included, in English and Chinese.
Screenshots are kept in test-artifacts/screenshots/form-sizes/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from form_sizes import FORMS, SIZES
from layout_faults import case_faults
from window import SCREENSHOTS, run_driver, start_xvfb

pytestmark = pytest.mark.ui

PROGRAM = Path(__file__).with_name("form_sizes.py")


def sweep(display: str, font_cache: Path, name: str, *args: str) -> dict:
    return run_driver(
        display, font_cache, SCREENSHOTS / "form-sizes" / name, *args, timeout=240, program=PROGRAM
    )


def faults_of(report: dict) -> list[str]:
    return [
        f
        for case in report["cases"]
        for f in case_faults(case, report["window_sizes"][case["size"]])
    ]


def test_every_focused_field_shows_above_the_keyboard_at_800x480(
    xvfb_display: str, font_cache: Path
) -> None:
    report = sweep(xvfb_display, font_cache, "800x480", "--sizes", "800x480")
    assert report["window_sizes"] == {"800x480": [800, 480]}
    touched = {(case["form"], case["field"]) for case in report["cases"]}
    assert touched == {(form, field) for form, fields in FORMS.items() for field in fields}
    assert faults_of(report) == []
    # A person's name field asks the pinyin keyboard for whole names; the others do not.
    asks = {
        (c["form"], c["field"]): c["asks_for_names"]
        for c in report["cases"]
        if "asks_for_names" in c
    }
    assert asks == {
        ("visitor", "name"): True,
        ("visitor", "company"): False,
        ("details", "declared"): False,
        ("idnumber", "name"): True,
        ("message", "message"): False,
        ("rating", "comment"): False,
    }


@pytest.fixture(scope="module")
def tall_screen() -> Iterator[str]:
    """An X screen that holds the portrait 720x1280 window as well as the landscape ones."""
    process, display = start_xvfb("1280x1280x24")
    try:
        yield display
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_every_form_fits_every_size_with_its_keyboard_up(
    tall_screen: str, font_cache: Path
) -> None:
    report = sweep(tall_screen, font_cache, "all", "--languages", "en,zh_Hans")
    assert report["window_sizes"] == {size: [int(n) for n in size.split("x")] for size in SIZES}
    assert len(report["cases"]) == len(SIZES) * sum(len(fields) for fields in FORMS.values())
    assert faults_of(report) == []


def test_the_check_sees_a_field_under_the_keyboard_and_a_button_cut_off() -> None:
    """A form laid out as the ID-number form was at 800x480 before it scrolled."""
    case = {
        "size": "800x480",
        "form": "idnumber",
        "field": "number",
        "focused": {"box": [24, 414, 776, 470], "clip": None, "focus": True},
        "keyboard": [0, 0, 800, 240],
        "keyboard_attached": True,
        "header": [0, 412, 800, 480],
        "buttons": [
            {"kind": "KButton", "text": "Next", "box": [24, 200, 776, 264], "clip": None,
             "text_size": [40, 30]},
            {"kind": "Star", "text": "Star 1", "box": [182, 420, 258, 496], "clip": None,
             "text_size": [0, 0]},
        ],
    }  # fmt: skip
    assert case_faults(case, [800, 480]) == [
        "800x480 idnumber (number focused): field number: behind the header",
        "800x480 idnumber (number focused): button 'Next': under the keyboard",
        "800x480 idnumber (number focused): button 'Star 1': outside the window",
        "800x480 idnumber (number focused): button 'Star 1': behind the header",
    ]
