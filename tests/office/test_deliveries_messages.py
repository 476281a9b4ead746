"""The deliveries' messages in each of the three languages: every sentence has its words,
the same placeholders in every language, and codes the table does not know (a newer
kiosk's carrier) shown as they are."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kiosk.office.deliveries import messages
from kiosk.office.deliveries.rules import DEFAULT_CARRIERS, ParcelKind

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
LINE = messages.WaitingLine(
    recipient="李娜", kind="food", carrier="acme-express", items=2, pickup_code="482913",
    shelf="", logged_at=NOW - timedelta(days=3), recipient_left=True,
)  # fmt: skip


def test_every_sentence_has_every_language_with_the_same_placeholders() -> None:
    for key, words in messages.WORDS.items():
        assert set(words) == set(messages.LANGUAGES), key
        shapes = {tuple(sorted(re.findall(r"%\((\w+)\)s", text))) for text in words.values()}
        assert len(shapes) == 1, key
    for kind in ParcelKind:
        assert f"kind:{kind.value}" in messages.WORDS
    for carrier in DEFAULT_CARRIERS:
        assert f"carrier:{carrier}" in messages.WORDS


@pytest.mark.parametrize(
    ("language", "title", "food", "desk"),
    [
        ("zh_Hans", "提醒：您有 1 件快递待领取", "外卖", "前台"),
        ("zh_Hant", "提醒：您有 1 件包裹待領取", "外賣", "前台"),
        ("en", "Reminder: deliveries waiting for you at the desk (1)", "Food", "desk"),
    ],
)
def test_a_reminder_and_a_desk_list(language: str, title: str, food: str, desk: str) -> None:
    zone = ZoneInfo("Asia/Shanghai")
    said_title, body = messages.reminder(language, "Riverside Tower", [LINE], zone)
    assert said_title == title
    assert food in body and "acme-express" in body and "482913" in body
    assert "2026-12-04 10:00" in body  # in the site's zone
    assert desk in body  # no shelf: at the desk
    desk_title, desk_body = messages.desk_list(
        language, "Riverside Tower", "2026-12-07", [LINE], NOW
    )
    assert "Riverside Tower" in desk_title and "2026-12-07" in desk_title and "1" in desk_title
    assert "李娜" in desk_body and "3" in desk_body
    assert messages.say(language, "left_note") in desk_body
