"""Dates and times as staff type them (kiosk.office.typed_dates): the forms' text fields."""

from __future__ import annotations

from datetime import date, time

import pytest

from kiosk.office.typed_dates import typed_date, typed_time


@pytest.mark.parametrize(
    "text",
    ["2026-12-07", "2026/12/7", "2026.12.07", "20261207", "2026年12月7日", "2026年12月07号",
     " 2026 - 12 - 7 "],
)  # fmt: skip
def test_a_date_is_read_as_its_writers_write_it(text: str) -> None:
    assert typed_date(text) == date(2026, 12, 7)


@pytest.mark.parametrize("text", ["14:30", "14.30", "14：30", "1430", "14时30分", "14h30"])
def test_a_time_is_read_on_the_24_hour_clock(text: str) -> None:
    assert typed_time(text) == time(14, 30)


def test_a_one_digit_hour_is_read() -> None:
    assert typed_time("9:05") == time(9, 5)


@pytest.mark.parametrize("text", ["", "12/07/2026", "2026-13-01", "2026-02-30", "tomorrow"])
def test_what_is_not_a_date_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        typed_date(text)


@pytest.mark.parametrize("text", ["", "25:00", "14:3", "2:30 PM", "noon"])
def test_what_is_not_a_time_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        typed_time(text)
