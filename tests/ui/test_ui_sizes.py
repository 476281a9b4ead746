"""Every size a kiosk's screen comes in (tests/ui/flows.py at one size a run): nothing
clipped, nothing outside the window. Its own file so that make test's second worker runs it
beside the main run of tests/ui/test_ui_flows.py (pytest-xdist keeps a file together).
Screenshots under test-artifacts/screenshots/sizes/WxH/."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_ui_flows import outside_or_clipped
from window import SCREENSHOTS, run_flows

pytestmark = pytest.mark.ui

#: 1280x800 is the main run's own size (test_the_main_run_fits_its_window), not run twice.
#: The narrow portrait size runs in `make test`, where the smallest landscape size's forms
#: are checked too (tests/ui/test_ui_form_sizes.py, 800x480 with the keyboard up); this
#: whole walk at 800x480 and the sizes between and above run in `make test-slow` (each
#: run costs about 45 s).
SIZES = [
    pytest.param("800x480", marks=pytest.mark.slow),
    "600x1024",
    pytest.param("1024x600", marks=pytest.mark.slow),
    pytest.param("1920x1080", marks=pytest.mark.slow),
]


PER_SIZE_FLOWS = "welcome,invitation,approval,absent,printer,guard"


@pytest.mark.parametrize("size", SIZES)
def test_screens_fit_every_size(xvfb_display: str, font_cache: Path, size: str) -> None:
    """The screens of a walk-in (the form with its keyboard open), the absent host, a
    badge printed and the guard's VALID and INVALID verdicts, at one size."""
    report = run_flows(
        xvfb_display,
        font_cache,
        SCREENSHOTS / "sizes" / size,
        "--size", size,
        "--languages", "en,zh_Hans",
        "--only", "cases," + PER_SIZE_FLOWS,
        "--details-keyboard",
    )  # fmt: skip
    width, height = (int(n) for n in size.split("x"))
    assert report["window_size"] == [width, height]
    cases = ["cases"]  # issue 19's (tests/ui/test_ui_cases.py), at every size
    assert report["flows_done"] == [
        *cases,
        "welcome",
        "invitation",
        "approval",
        "absent",
        "printer",
        "guard",
    ]
    screens = {shot["screen"] for shot in report["shots"]}
    assert {"details", "verdict", "message", "guard", "photo", "agreement", *cases} <= screens
    verdicts = {shot["name"] for shot in report["shots"] if shot["screen"] == "verdict"}
    assert verdicts == {"verdict-valid", "verdict-invalid"}
    problems = [p for shot in report["shots"] for p in outside_or_clipped(shot, width, height)]
    assert problems == []
