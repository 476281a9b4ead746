"""Name keys for matching people across scripts and word orders.

Three keys, from strict to loose:
- `exact_key`: the name as typed, NFKC-folded, case-folded, spaces collapsed. Two names
  with the same exact key are the same string to a person's eye.
- `latin_key`: the name written in Latin letters without accents, words sorted. Chinese
  characters become pinyin (张伟 -> "wei zhang"), so 张伟, "Zhang Wei" and "WEI, Zhang"
  share one key.
- fuzzy similarity between latin keys (rapidfuzz), for typos and missing middle names.

And one form for people to read: `display_name` capitalises a Latin name typed all in
lower case ("carol white" -> "Carol White", "o'connor" -> "O'Connor", "jan van der berg"
-> "Jan van der Berg"). A name with any capital letter is the visitor's own spelling and is
kept exactly; scripts without case (Chinese, Arabic) are untouched. The check-in engine
applies it where a visitor's details enter (`VisitorDetails.validated`), so the stored
name, the badge and the screens show one spelling.
"""

from __future__ import annotations

import json
import os
import re
import sys
import types
import unicodedata
from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

_WORDS = re.compile(r"[^\W_]+", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

#: Similarity (0-100) above which two latin keys are taken as the same person.
FUZZY_THRESHOLD = 85.0


def exact_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


#: Words that stay lower case inside a name typed in lower case (not first, not last):
#: Dutch, German, French, Spanish, Portuguese and Italian particles, "bin" and "ibn".
#: "le" and "la" are not among them: French "Le Pen", Vietnamese "Le" are capitalised;
#: "la" after "de" is ("de la Cruz").
NAME_PARTICLES = frozenset({
    "van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "des", "dos", "das",
    "do", "ten", "ter", "zu", "y", "e", "bin", "binti", "ibn",
})  # fmt: skip
_AFTER_DE = frozenset({"la", "las", "los"})
_SPACED = re.compile(r"(\s+)")
_ELIDED = re.compile(r"^([^\W\d_])(['’])([^\W\d_])")  # o'connor, d'angelo, n'golo


def display_name(name: str) -> str:
    """`name` as it is shown and printed: see the module's docstring."""
    if any(char.isupper() for char in name):
        return name  # the visitor capitalised it: their spelling
    pieces = _SPACED.split(name)
    words = [index for index, piece in enumerate(pieces) if piece and not piece.isspace()]
    for position, index in enumerate(words):
        word = pieces[index]
        inside = 0 < position < len(words) - 1
        previous = pieces[words[position - 1]] if position else ""
        if inside and (word in NAME_PARTICLES or (word in _AFTER_DE and previous == "de")):
            continue
        pieces[index] = "-".join(_capitalised(part) for part in word.split("-"))
    return "".join(pieces)


def _capitalised(part: str) -> str:
    """One lower-case Latin word (or part of a hyphenated one) with its capitals."""
    if not part or not _is_latin(part[0]):
        return part
    elided = _ELIDED.match(part)
    if elided and len(part) > 2:
        return part[0].upper() + part[1] + part[2].upper() + part[3:]
    if part.startswith("mc") and len(part) > 3 and part[2].isalpha():
        return "Mc" + part[2].upper() + part[3:]
    return part[0].title() + part[1:]


def _is_latin(char: str) -> bool:
    return char.isalpha() and unicodedata.name(char, "").startswith(("LATIN", "FULLWIDTH LATIN"))


class PackedPhrases(dict[str, Any]):
    """pypinyin's phrase readings, each kept as its JSON text and read back when asked for.

    pypinyin loads its 47,000 phrases as lists of lists of strings: 614,000 objects, 35 MB
    resident in every process that romanises a name, the kiosk's touchscreen included.
    Kept as one string each they take 9 MB; pypinyin reads them through `[]`, `in` and
    `keys()` only, and gets the same lists back. A value set by pypinyin's
    `load_phrases_dict` (a list) is returned as it is.
    """

    def __getitem__(self, phrase: str) -> Any:
        value = super().__getitem__(phrase)
        return json.loads(value) if isinstance(value, str) else value

    def get(self, phrase: str, default: Any = None) -> Any:
        return self[phrase] if phrase in self else default  # noqa: SIM401 (this is get)

    def items(self) -> Any:
        return ((phrase, self[phrase]) for phrase in self)

    def values(self) -> Any:
        return (self[phrase] for phrase in self)


#: One entry of pypinyin's phrases_dict.json: "phrase": [["reading", ...], ...].
_SPACES = re.compile(r"\s+")
_PHRASE_ENTRY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:\s*(\[(?:[^\[\]"]|"[^"]*"|\[[^\[\]]*\])*\])')


def _packed_phrases() -> PackedPhrases | None:
    """pypinyin's phrases, read from its JSON without making its lists (whose freed memory
    would stay with the process); None if the file does not look as expected."""
    spec = find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "phrases_dict.json"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    packed = PackedPhrases()
    end = 0
    for match in _PHRASE_ENTRY.finditer(text):
        # Between two entries only a comma and spaces: anything else means the format
        # changed, and pypinyin then loads its file itself.
        if text[end : match.start()].strip(" \t\r\n,{"):
            return None
        end = match.end()
        phrase = match[1] if "\\" not in match[1] else json.loads(f'"{match[1]}"')
        packed[phrase] = _SPACES.sub("", match[2])
    if not packed or text[end:].strip(" \t\r\n}"):
        return None
    return packed


@cache
def _pypinyin() -> tuple[Callable[..., list[str]], Any]:
    """pypinyin's (lazy_pinyin, Style), imported on first use with its phrases packed.

    A process that never meets a Chinese name does not load it at all. Otherwise the
    phrases are put in place of pypinyin's own module before pypinyin imports it, and
    pypinyin is told not to copy its dictionaries (a copy would be a plain dict).
    """
    if "pypinyin" not in sys.modules:
        os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")
        phrases = _packed_phrases() if os.environ["PYPINYIN_NO_DICT_COPY"] else None
        if phrases is not None:
            module = types.ModuleType("pypinyin.phrases_dict")
            module.phrases_dict = phrases  # type: ignore[attr-defined]
            sys.modules["pypinyin.phrases_dict"] = module
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin, Style


def pinyin_phrases() -> Mapping[str, list[list[str]]]:
    """pypinyin's phrase readings ("西安": [["xī"], ["ān"]]), as pypinyin itself uses them."""
    _pypinyin()
    from pypinyin.constants import PHRASES_DICT

    phrases: Mapping[str, list[list[str]]] = PHRASES_DICT
    return phrases


@lru_cache(maxsize=4096)
def _romanise(text: str) -> str:
    if has_han(text):
        lazy_pinyin, Style = _pypinyin()
        text = " ".join(lazy_pinyin(text, style=Style.NORMAL, errors="default"))
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def latin_key(name: str) -> str:
    words = _WORDS.findall(_romanise(unicodedata.normalize("NFKC", name)).casefold())
    return " ".join(sorted(words))


def initials(name: str) -> str:
    """Pinyin or word initials: 张伟 -> "zw", "Mary Ann Lee" -> "mal"."""
    if has_han(name):
        lazy_pinyin, Style = _pypinyin()
        return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).casefold()
    return "".join(word[0] for word in _WORDS.findall(_romanise(name).casefold()))


def similarity(latin_a: str, latin_b: str) -> float:
    """0-100: how alike two latin keys are, ignoring word order."""
    return fuzz.token_sort_ratio(latin_a, latin_b)


def search_key(*parts: str) -> str:
    """One lower-case string to search a host by name, pinyin, initials or department."""
    pieces: list[str] = []
    for part in parts:
        if not part:
            continue
        pieces.append(exact_key(part))
        romanised = " ".join(_WORDS.findall(_romanise(part).casefold()))
        if romanised and romanised not in pieces:
            pieces.append(romanised)
            pieces.append(romanised.replace(" ", ""))
        if has_han(part):
            pieces.append(initials(part))
    return "|".join(pieces)
