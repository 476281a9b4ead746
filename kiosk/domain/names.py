"""Name keys for matching people across scripts and word orders.

Three keys, from strict to loose:
- `exact_key`: the name as typed, NFKC-folded, case-folded, spaces collapsed. Two names
  with the same exact key are the same string to a person's eye.
- `latin_key`: the name written in Latin letters without accents, words sorted. Chinese
  characters become pinyin (张伟 -> "wei zhang"), so 张伟, "Zhang Wei" and "WEI, Zhang"
  share one key.
- fuzzy similarity between latin keys (rapidfuzz), for typos and missing middle names.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin
from rapidfuzz import fuzz

_WORDS = re.compile(r"[^\W_]+", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

#: Similarity (0-100) above which two latin keys are taken as the same person.
FUZZY_THRESHOLD = 85.0


def exact_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


@lru_cache(maxsize=4096)
def _romanise(text: str) -> str:
    if has_han(text):
        text = " ".join(lazy_pinyin(text, style=Style.NORMAL, errors="default"))
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def latin_key(name: str) -> str:
    words = _WORDS.findall(_romanise(unicodedata.normalize("NFKC", name)).casefold())
    return " ".join(sorted(words))


def initials(name: str) -> str:
    """Pinyin or word initials: 张伟 -> "zw", "Mary Ann Lee" -> "mal"."""
    if has_han(name):
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
