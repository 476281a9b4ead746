"""The on-screen keyboard's pinyin: the characters people's names are written with come
first (a name starts with a surname), in both scripts."""

from __future__ import annotations

import pytest

from kiosk.services.pinyin_input import COMMON_SURNAMES, PinyinIme, toneless


@pytest.mark.parametrize(
    ("typed", "first", "after"),
    [
        ("chen", "陈", "臣"),
        ("liu", "刘", "流"),
        ("wang", "王", "往"),
        ("zhang", "张", "长"),
        ("li", "李", "里"),
        ("zhao", "赵", "找"),
        ("huang", "黄", "皇"),
        ("zhou", "周", "州"),
        ("wu", "吴", "无"),
        ("xu", "徐", "需"),
        ("lv", "吕", "绿"),  # ü with a tone mark, typed as v
        ("shen", "沈", "身"),  # 沈 is read "chen" too: as a surname it is "shen"
    ],
)
def test_common_surnames_come_first(typed: str, first: str, after: str) -> None:
    offered = [c.text for c in PinyinIme().candidates(typed)]
    assert offered[0] == first
    assert after in offered and offered.index(first) < offered.index(after)


@pytest.mark.parametrize(("typed", "first"), [("chen", "陳"), ("liu", "劉"), ("zhang", "張")])
def test_traditional_surnames_come_first_too(typed: str, first: str) -> None:
    assert PinyinIme("traditional").candidates(typed)[0].text == first


def test_a_surname_read_another_way_is_not_pushed_forward() -> None:
    offered = [c.text for c in PinyinIme().candidates("chen")]
    assert "沈" not in offered[:5]  # its surname reading is "shen"


def test_the_surname_lists_match_in_both_scripts() -> None:
    simplified, traditional = COMMON_SURNAMES["simplified"], COMMON_SURNAMES["traditional"]
    assert len(simplified) == len(set(simplified)) == len(traditional) == len(set(traditional))
    assert simplified.startswith("王李张刘陈")


@pytest.mark.parametrize(
    ("reading", "typed"),
    [("zhāng", "zhang"), ("lǚ", "lv"), ("lǜ", "lv"), ("nü", "nv"), ("Lǘ", "lv")],
)
def test_toneless_spells_u_umlaut_as_v(reading: str, typed: str) -> None:
    assert toneless(reading) == typed
