"""Whole Chinese names from typed pinyin: a surname, then given-name characters.

A visitor typing "lina" in a name field means a name (李娜, 丽娜 ...), not the characters
of "lin" then "a". This module proposes surname + one or two given-name characters for
every way the pinyin splits into syllables (li'na and lin'a), ranked by how often each
character occurs in people's names.

How often: from the person names of jieba's dictionary (the entries tagged `nr`, some
65,000 names from its corpus), counted once per name, not by how often the corpus
mentions that person: a surname among the 100 most common (COMMON_SURNAMES), then the
character in the given name's first and last place. No list of names of our own.
Simplified script only: jieba's names are written in simplified characters.

The statistics are part of the pinyin index (kiosk.services.pinyin_input), built once in
a process of its own and cached as a file.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

#: A name of two or three characters (of three UTF-8 bytes each) tagged `nr`.
_PERSON = re.compile(rb"^((?:[\xe4-\xe9][\x80-\xbf]{2}){2,3}) \d+ nr$", re.MULTILINE)
#: Given-name characters tried per syllable, surnames per syllable.
GIVEN_PER_SYLLABLE = 12
SURNAMES_PER_SYLLABLE = 4
#: A character read by another than its first reading is that much less likely: 南 is
#: read "na" only in 南无, 英 "yang" only in old texts, so "lina" is not 李南.
OTHER_READING = math.log(0.02)


@dataclass(frozen=True)
class NameCounts:
    """In how many of the dictionary's names each character is the surname, the given
    name's first character (of two) and its last (or only) one."""

    surname: dict[str, int]
    first: dict[str, int]
    last: dict[str, int]


def count_names(corpus: bytes, surnames: str) -> NameCounts:
    """Count the names of jieba's dict.txt (`corpus`) that start with one of `surnames`."""
    surname, first, last = Counter[str](), Counter[str](), Counter[str]()
    known = set(surnames)
    for match in _PERSON.finditer(corpus):
        name = match[1].decode()
        if name[0] not in known:  # 阿, 克 ...: the start of a name written in Chinese
            continue
        surname[name[0]] += 1
        if len(name) == 3:
            first[name[1]] += 1
        last[name[-1]] += 1
    return NameCounts(dict(surname), dict(first), dict(last))


#: Syllables of interjections only (嗯 n, ng; 呣 m; 哼 hm, hng): in no one's name.
INTERJECTIONS = frozenset({"n", "ng", "m", "hm", "hng"})


def splits(typed: str, syllables: frozenset[str], most: int = 3) -> Iterator[list[str]]:
    """Every way `typed` is a run of at most `most` whole syllables of names (no
    interjection's), longest first syllable first; "'" is a boundary."""
    parts = [p for p in typed.split("'") if p]
    syllables = syllables - INTERJECTIONS

    def of(rest: str, budget: int) -> Iterator[list[str]]:
        if not rest:
            yield []
            return
        if budget == 0:
            return
        for size in range(min(6, len(rest)), 0, -1):
            if rest[:size] in syllables:
                for tail in of(rest[size:], budget - 1):
                    yield [rest[:size], *tail]

    def of_parts(index: int, budget: int) -> Iterator[list[str]]:
        if index == len(parts):
            yield []
            return
        for head in of(parts[index], budget):
            for tail in of_parts(index + 1, budget - len(head)):
                yield [*head, *tail]

    yield from of_parts(0, most)


def whole_names(
    typed: str,
    counts: NameCounts,
    readings: Callable[[str], list[tuple[str, bool]]],
    syllables: frozenset[str],
    limit: int,
) -> list[str]:
    """Names of two or three characters that `typed` may spell, the most likely first.

    `readings(syllable)` lists the characters read so, each with whether it is their first
    reading. A name's likelihood is that of its surname times that of each given character
    in its place (add-one smoothed)."""
    scored: dict[str, float] = {}
    total = {
        "surname": sum(counts.surname.values()) + 1,
        "first": sum(counts.first.values()) + 1,
        "last": sum(counts.last.values()) + 1,
    }

    def best(syllable: str, table: dict[str, int], size: int) -> list[tuple[str, float]]:
        weights: dict[str, float] = {}
        for char, primary in readings(syllable):
            if char in table:
                weight = math.log(table[char] + 1) + (0 if primary else OTHER_READING)
                weights[char] = max(weight, weights.get(char, -math.inf))
        return sorted(weights.items(), key=lambda pair: -pair[1])[:size]

    for split in splits(typed, syllables):
        if len(split) not in (2, 3):
            continue
        places = [("surname", counts.surname, SURNAMES_PER_SYLLABLE)]
        if len(split) == 3:
            places.append(("first", counts.first, GIVEN_PER_SYLLABLE))
        places.append(("last", counts.last, GIVEN_PER_SYLLABLE))
        options = [best(s, table, size) for s, (_p, table, size) in zip(split, places, strict=True)]
        if not all(options):
            continue
        norm = sum(math.log(total[p]) for p, _t, _s in places)
        for combo in _products(options):
            name = "".join(c for c, _w in combo)
            score = sum(w for _c, w in combo) - norm
            if score > scored.get(name, -math.inf):
                scored[name] = score
    return sorted(scored, key=lambda n: (-scored[n], n))[:limit]


def _products(options: list[list[tuple[str, float]]]) -> Iterator[list[tuple[str, float]]]:
    if not options:
        yield []
        return
    for head in options[0]:
        for tail in _products(options[1:]):
            yield [head, *tail]
