"""The case screens (issue 19), driven by touch on the real engine (tests/ui/flows.py's
`cases` flow: the real case desk and SQLite file, the fake camera and FakePrinter).

A repair is reported end to end (pinyin description, category, photo, contact, a double tap
on Send), a suggestion with its contact skipped while the printer is out of paper, and the
repair's receipt is scanned before and after the office resolves it (its `case` change
through the feed-apply path), where the follow-up is answered; then, at 20:00, a suggestion
whose screens say reception is closed and promise a time counted from its opening. Screenshots of every step in
every language at 1280x800 under test-artifacts/screenshots/cases/; the same flow runs at
600x1024 (and the slow sizes) in test_ui_sizes.py's test_screens_fit_every_size, its
screenshots under test-artifacts/screenshots/sizes/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from glyphs import missing_characters
from test_ui_flows import outside_or_clipped
from window import SCREENSHOTS, run_flows

pytestmark = pytest.mark.ui

NUMBER = re.compile(r"R-20\d{6}-K0001")


@pytest.fixture(scope="module")
def cases(xvfb_display: str, font_cache: Path) -> dict[str, Any]:
    return run_flows(
        xvfb_display, font_cache, SCREENSHOTS / "cases" / "1280x800", "--only", "cases",
        timeout=180,
    )  # fmt: skip


def test_a_repair_reported_by_touch_is_one_case_and_one_slip(cases: dict[str, Any]) -> None:
    assert cases["flows_done"] == ["cases"]
    assert cases["case_typed"] == "水管漏"
    assert cases["case_units_offered"] == ["3-1201", "3-1202"]  # the site's, starting with 3
    assert cases["case_unit_picked"] == "3-1202"
    [repair] = cases["case_rows_after_repair"]  # a double tap on Send made one case
    assert NUMBER.fullmatch(repair["number"])
    assert repair | {"number": ""} == {
        "number": "", "kind": "repair", "category": "water", "unit": "zz",
        "unit_known": False, "description": "水管漏", "name": "王",
        "phone": "13800138000", "photo": True, "language": "en",
    }  # fmt: skip
    assert cases["case_slips"] == 1  # and one slip printed
    title, body = cases["case_done"]
    assert title == f"Your case number is {repair['number']}"
    assert re.fullmatch(r"We will respond by \d\d:\d\d\. Please take your slip\.", body)


def test_an_engine_refusal_is_said_on_its_step(cases: dict[str, Any]) -> None:
    error, kept = cases["case_refused"]
    assert error == "Please check the description: up to 4,000 characters, no tabs."
    assert kept == "好\t"  # nothing typed is lost
    assert len(cases["case_rows"]) == 2  # and no case was made of it


def test_a_printer_failure_is_said_and_the_case_kept(cases: dict[str, Any]) -> None:
    title, body = cases["case_printer_failed"]
    suggestion = cases["case_rows"][1]
    assert title == f"Your case number is {suggestion['number']}"
    assert "could not be printed" in body and "recorded" in body
    assert (suggestion["kind"], suggestion["name"], suggestion["phone"]) == ("suggestion", "", "")
    assert suggestion["number"].startswith("S-")


def test_the_receipt_shows_the_case_and_takes_the_follow_up(cases: dict[str, Any]) -> None:
    number = cases["case_rows"][0]["number"]
    before = cases["case_status_resolved_False"]
    assert number in before and "Received" in before and "Repair request" in before
    assert "This case is not resolved yet" in before
    assert "Were you satisfied?" not in before
    after = cases["case_status_resolved_True"]
    assert "Resolved" in after and "Were you satisfied?" in after
    assert cases["case_follow_ups"] == [["not_satisfied", "好", "followed_up"]]


def test_after_hours_the_screen_promises_only_what_is_true(cases: dict[str, Any]) -> None:
    """Monday 20:00: the case is taken, and the promise counts from Tuesday's 09:00."""
    [note] = cases["case_after_hours_note"]
    assert note.startswith("Reception is closed now.") and "11-24 09:00" in note
    title, body = cases["case_after_hours_done"]
    assert title.startswith("Your case number is S-")
    assert "opens at 11-24 09:00" in body and "respond by 11-25 09:00" in body  # 24 hours


def test_every_case_screen_fits_and_has_its_glyphs(cases: dict[str, Any]) -> None:
    shots = cases["shots"]
    assert {s["language"] for s in shots} == {"zh_Hans", "zh_Hant", "en"}
    assert {s["name"] for s in shots} >= {
        "case-kind", "case-place", "case-place-unit-picked", "case-description", "case-category", "case-photo",
        "case-camera", "case-contact", "case-confirm", "case-done", "case-refused",
        "case-printer-failed",
        "case-status-open", "case-status-resolved", "case-follow-up", "case-answered",
        "case-kind-after-hours", "case-done-after-hours",
    }  # fmt: skip
    width, height = cases["window_size"]
    assert [p for shot in shots for p in outside_or_clipped(shot, width, height)] == []
    tofu = {
        (shot["name"], label["text"])
        for shot in shots
        for label in shot["labels"]
        if missing_characters(label["font_file"], label["text"])
    }
    assert tofu == set()
    chinese = {label["text"] for s in shots if s["language"] == "zh_Hans" for label in s["labels"]}
    assert {"报修", "您对处理结果满意吗？"} <= chinese  # the catalogue's words, not English
    status = next(
        s for s in shots if s["name"] == "case-status-resolved" and s["language"] == "zh_Hant"
    )
    shown = {label["text"] for label in status["labels"]}
    assert {"報修", "已解決", "您對處理結果滿意嗎？"} <= shown  # kind and state translated too
    assert not shown & {"Repair request", "Resolved"}
