"""Odd names are stored exactly as given or refused with a clear message; names match
across scripts and word orders."""

from __future__ import annotations

import pytest

from kiosk.domain import names
from kiosk.domain.errors import InvalidInput
from kiosk.domain.identity import hash_document_number, last_four
from kiosk.domain.text import check_name, check_text, shown, stored_text

KEPT_AS_TYPED = [
    "张伟",
    "陳美玲",
    "Zoë O'Brien",
    "José García-Márquez",
    "محمد عبد الله",  # Arabic, right to left
    "\u200fשרה כהן\u200e",  # right-to-left and left-to-right marks
    "Ἀλέξανδρος",
    "Nguyễn Thị Minh Khai",
    "Robert'); DROP TABLE visitor;--",
    "😀 Smiley McFace 👩🏽‍💻",
    "   spaces around   ",
    "x" * 200,
]


@pytest.mark.parametrize("name", KEPT_AS_TYPED)
def test_names_in_any_script_are_kept_exactly(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Bob\x1b[2J", "control character (U+001B"),
        ("Bob\x00", "control character (U+0000"),
        ("Bob\x7f", "control character (U+007F"),
        ("Bob\x9b", "control character (U+009B"),
        ("Line\nbreak", "control character (U+000A"),
        ("\ud800", "lone surrogate"),
        ("a\uffffb", "non-character"),
        ("", "is required"),
        ("   ", "is required"),
        ("x" * 201, "is 201 characters long; at most 200 fit"),
        ("x" * 1000, "is 1000 characters long"),
    ],
)
def test_unacceptable_names_are_refused_with_a_clear_message(value: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_name(value)
    assert caught.value.field == "name"
    assert message in str(caught.value)


def test_free_text_keeps_newlines_and_a_thousand_characters() -> None:
    comment = ("很好。\n" * 250)[:1000]
    assert check_text(comment, "comment", max_length=1000, multiline=True) == comment


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("张伟", "Zhang Wei"),
        ("张伟", "WEI, Zhang"),
        ("José García", "jose garcia"),
        ("Zoë O'Brien", "zoe o brien"),
        ("ＺＨＡＮＧ　Ｗｅｉ", "zhang wei"),  # full-width letters and space
    ],
)
def test_latin_keys_match_across_scripts_and_orders(a: str, b: str) -> None:
    assert names.latin_key(a) == names.latin_key(b)


def test_fuzzy_similarity_tolerates_a_typo_but_not_another_person() -> None:
    assert (
        names.similarity(names.latin_key("Maria Schmidt"), names.latin_key("Maria Schmitt")) >= 85
    )
    assert names.similarity(names.latin_key("Maria Schmidt"), names.latin_key("Mario Rossi")) < 85


def test_host_search_keys_hold_pinyin_and_initials() -> None:
    key = names.search_key("李娜", "行政部")
    for part in ("李娜", "li na", "lina", "ln", "行政部", "xingzhengbu"):
        assert part in key.split("|")


def test_document_numbers_are_hashed_with_the_site_salt() -> None:
    salt_a, salt_b = b"a" * 32, b"b" * 32
    assert hash_document_number("E 1234-5678", salt_a) == hash_document_number("e12345678", salt_a)
    assert hash_document_number("E12345678", salt_a) != hash_document_number("E12345678", salt_b)
    assert "12345678" not in hash_document_number("E12345678", salt_a)
    assert last_four("E 1234-5678") == "5678"
    with pytest.raises(ValueError):
        hash_document_number(" - ", salt_a)


@pytest.mark.parametrize(
    ("stored", "safe"),
    [
        (None, ""),
        (42, "42"),
        ("Eve\x1b[2J", "Eve\ufffd[2J"),
        ("a\x00b\rc\x7fd\u009be", "a\ufffdb\ufffdc\ufffdd\ufffde"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("tab\tand\nnewline", "tab\ufffdand\ufffdnewline"),
    ],
)
def test_shown_makes_any_stored_text_safe_for_a_terminal(stored: object, safe: str) -> None:
    assert shown(stored) == safe


def test_names_kept_as_typed_are_shown_as_typed() -> None:
    for name in KEPT_AS_TYPED:
        assert shown(name) == name == stored_text(name)


def test_shown_cuts_long_text_with_an_ellipsis() -> None:
    assert shown("x" * 10, max_length=5) == "xxxx…"
    assert shown("short", max_length=5) == "short"


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("carol white", "Carol White"),
        ("bob", "Bob"),
        ("  carol   white ", "  Carol   White "),  # the spacing is the visitor's
        ("james o'connor", "James O'Connor"),
        ("sinéad o’brien", "Sinéad O’Brien"),  # a typographic apostrophe
        ("n'golo kanté", "N'Golo Kanté"),
        ("ronald mcdonald", "Ronald McDonald"),
        ("mary-jane watson", "Mary-Jane Watson"),
        ("josé garcía-márquez", "José García-Márquez"),
        ("élodie durand", "Élodie Durand"),
        ("jan van der berg", "Jan van der Berg"),
        ("ludwig van beethoven", "Ludwig van Beethoven"),
        ("leonardo da vinci", "Leonardo da Vinci"),
        ("maría de la cruz", "María de la Cruz"),
        ("jean le pen", "Jean Le Pen"),
        ("van morrison", "Van Morrison"),  # first: a name, not a particle
        ("dick van dyke", "Dick van Dyke"),
        ("mohammed bin salman", "Mohammed bin Salman"),
        ("nguyễn thị minh khai", "Nguyễn Thị Minh Khai"),
        ("zhang wei", "Zhang Wei"),
        ("张伟", "张伟"),
        ("陳美玲", "陳美玲"),
        ("张 wei", "张 Wei"),
        ("محمد عبد الله", "محمد عبد الله"),
    ],
)
def test_a_latin_name_typed_in_lower_case_is_shown_capitalised(typed: str, shown: str) -> None:
    assert names.display_name(typed) == shown


@pytest.mark.parametrize(
    "typed",
    ["Carol white", "carol White", "CAROL WHITE", "danah boyd Smith", "bell hooks-X", "DeShawn"],
)
def test_a_name_with_a_capital_is_the_visitors_own_spelling(typed: str) -> None:
    assert names.display_name(typed) == typed
