"""Whole names from pinyin in a name field (kiosk.services.pinyin_names): measured on 300
common names from Faker's zh_CN lists (tests/services/name_typing.py), and the keyboard's
character-by-character choice kept."""

from __future__ import annotations

import pytest
from name_typing import NAMES, common_names, report, type_name

from kiosk.services.pinyin_input import PinyinIme
from kiosk.services.pinyin_names import splits


@pytest.fixture(scope="module")
def ime() -> PinyinIme:
    return PinyinIme("simplified", 24)


def test_lina_offers_whole_names_and_still_its_characters(ime: PinyinIme) -> None:
    offered = [c for c in ime.candidates("lina", names=True)]
    texts = [c.text for c in offered]
    assert "李娜" in texts[:5]
    assert all(c.consumed == 4 for c in offered if len(c.text) > 1)
    # A character at a time, as before: the first syllable's characters follow the names.
    assert texts[6:9] == ["林", "临", "邻"]
    assert next(c for c in offered if c.text == "林").consumed == 3
    # Outside a name field, the keyboard offers what it offered before: characters first.
    assert [c.text for c in ime.candidates("lina")][:3] == ["林", "临", "邻"]


def test_ambiguous_pinyin_is_split_both_ways(ime: PinyinIme) -> None:
    syllables = ime.index().syllables
    assert sorted(splits("lina", syllables)) == [["li", "na"], ["lin", "a"]]
    assert list(splits("li'na", syllables)) == [["li", "na"]]
    assert list(splits("xian", syllables, most=3)) == [["xian"], ["xi", "an"]]


def test_the_intended_name_is_among_the_first_five_for_four_names_in_five() -> None:
    names = common_names()
    assert len(set(names)) == NAMES
    whole = report(names=True)
    today = report(names=False)
    assert whole["in_first_5"] >= 0.80, whole
    assert whole["typed"] > today["typed"]
    assert whole["taps_per_name"] < today["taps_per_name"]


def test_traditional_script_keeps_characters_only(ime: PinyinIme) -> None:
    traditional = PinyinIme("traditional", 24)
    assert next(c.text for c in traditional.candidates("lina", names=True)) == "林"
    assert type_name(ime, "李娜", True).taps == len("lina") + 1
