"""The badge speaks the visitor's language: its fixed words and its date."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest
from devices_helpers import make_badge
from escpos_reader import read_job

from kiosk.devices.badge_words import badge_date, badge_labels
from kiosk.devices.commands import badge_drawing, badge_job
from kiosk.devices.config import PrinterConfig

FRIDAY = datetime(2025, 3, 14, 17, 30)


@pytest.mark.parametrize(
    ("language", "date", "host", "until"),
    [
        ("en", "Fri 14 Mar 2025", "Host", "VALID UNTIL"),
        ("zh_Hans", "2025年3月14日 周五", "接待人", "有效期至"),
        ("zh_Hant", "2025年3月14日 週五", "接待人", "有效期至"),
        ("fr", "Fri 14 Mar 2025", "Host", "VALID UNTIL"),  # unknown: English
    ],
)
def test_words_and_date(language: str, date: str, host: str, until: str) -> None:
    assert badge_date(FRIDAY, language) == date
    labels = badge_labels(language)
    assert (labels.host, labels.valid_until) == (host, until)


def test_a_chinese_badge_has_no_english_words(signer) -> None:  # type: ignore[no-untyped-def]
    content = make_badge(signer, language="zh_Hant", visitor_type_label="承包商")
    printed = read_job(badge_job(content, PrinterConfig(native_text=True)), 576)
    assert "接待人：王芳" in printed.text_lines
    assert "有效期至 2025年3月14日 週五" in printed.text_lines
    assert "須有人陪同" in printed.text_lines
    assert not any(word in " ".join(printed.text_lines) for word in ("Host", "VALID", "ESCORT"))


def test_the_raster_badge_changes_with_the_language(signer) -> None:  # type: ignore[no-untyped-def]
    english = make_badge(signer)
    chinese = dataclasses.replace(english, language="zh_Hans")
    a = badge_drawing(english, PrinterConfig()).image
    b = badge_drawing(chinese, PrinterConfig()).image
    assert a.tobytes() != b.tobytes()
