"""Pinyin to Chinese characters for the on-screen keyboard, from published dictionaries.

It runs in the engine's process (`KioskServices.pinyin_candidates`), not the touchscreen's:
its index is ~13 MB while a visitor types, and the touchscreen's process is kept to what
draws the screen (see kiosk.engine_link).

The readings come from pypinyin (already a kiosk dependency for name matching, and
loaded by it anyway, see `kiosk.domain.names.pinyin_phrases`): `pinyin_dict` gives every
character's readings and `phrases_dict` the readings of some 47,000 words. Inverted, they
answer "which characters and words are read `zhang`, `xi an`". How common each is comes
from jieba's dictionary (`dict.txt`, word frequencies from a large corpus), read as a
file: jieba's segmenter is not loaded.
No word list of our own is invented.

Ranking: a character in the national standard's "frequently used" level (GB 2312
level 1 for simplified, Big5 level 1 for traditional, tested through Python's own
codecs) comes first; among those, the common surnames (`COMMON_SURNAMES`, by population:
the keyboard types people's names, and a name starts with one, so "chen" offers 陈 before
臣, "liu" 刘 before 流); then one for which the syllable is its first reading (张 before 长
for "zhang"); then the more frequent in jieba's corpus. Words come before characters.
Neither pypinyin nor jieba ranks surnames (jieba counts words in text, where 臣 is more
frequent than 陈), hence the list.

    ime = PinyinIme()
    ime.candidates("zhangwei")   # [Candidate("张伟", 8), ..., Candidate("张", 5), ...]
    ime.candidates("lina", names=True)  # [Candidate("李娜", 4), ..., Candidate("林", 3), ...]
"""

from __future__ import annotations

import logging
import marshal
import os
import re
import subprocess
import sys
import threading
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Literal

from kiosk.services.pinyin_names import NameCounts, count_names, whole_names

log = logging.getLogger(__name__)

Script = Literal["simplified", "traditional"]

#: Whole names offered first in a name field, before words and characters.
WHOLE_NAMES = 6
#: The longest pinyin syllable ("zhuang", "shuang").
MAX_SYLLABLE = 6
_LETTERS = re.compile(r"[a-z']+")
_SINGLE = re.compile(rb"^([^ \n]{1,4}) (\d+)", re.MULTILINE)
_WORD = re.compile(rb"^([^ \n]{6,12}) (\d+)", re.MULTILINE)  # 2-4 characters of 3 bytes


@dataclass(frozen=True)
class Candidate:
    """`text` replaces the first `consumed` characters of the typed pinyin."""

    text: str
    consumed: int


def toneless(reading: str) -> str:
    """'zhāng' -> 'zhang', 'lǜ' and 'lǚ' -> 'lv' (the keyboard's spelling of ü)."""
    # Decomposed first: ǚ (ü with a tone mark) is one code point that is not "ü".
    decomposed = unicodedata.normalize("NFKD", reading.lower()).replace("u\u0308", "v")
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _frequent(char: str, script: Script) -> bool:
    """In the standard's first, frequently used level of characters."""
    try:
        if script == "simplified":
            first = char.encode("gb2312")[0]
            return 0xB0 <= first <= 0xD7  # GB 2312 level 1: rows 16-55
        code = int.from_bytes(char.encode("big5"), "big")
        return 0xA440 <= code <= 0xC67E  # Big5 level 1 (常用字)
    except UnicodeEncodeError:
        return False


#: The 100 most common Chinese surnames by registered population, most common first, from
#: the Ministry of Public Security's household-registration report for 2020
#: (公安部户政管理研究中心《二〇二〇年全国姓名报告》, published 2021-02). The traditional
#: forms follow in the same order (肖 as 蕭, 闫 as 閆, as Hong Kong and Taiwan write them).
COMMON_SURNAMES: dict[Script, str] = {
    "simplified": (
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩邓冯曹彭曾肖田董潘袁蔡蒋余"
        "于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷"
        "龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常"
    ),
    "traditional": (
        "王李張劉陳楊黃趙吳周徐孫馬朱胡郭何林羅高鄭梁謝宋唐許韓鄧馮曹彭曾蕭田董潘袁蔡蔣余"
        "于杜葉程魏蘇呂丁任盧姚沈鍾姜崔譚陸范汪廖石金韋賈夏付方鄒熊白孟秦邱侯江尹薛閆段雷"
        "龍黎史陶賀毛郝顧龔邵萬覃武錢戴嚴莫孔向常"
    ),
}
_SURNAME_RANK: dict[Script, dict[str, int]] = {
    script: {char: rank for rank, char in enumerate(chars)}
    for script, chars in COMMON_SURNAMES.items()
}


#: Bump when the index's layout changes: the cached file's name carries it.
INDEX_FORMAT = 3  # 2: ü with a tone mark spelled v (吕 is lv); 3: name counts


class _Index:
    """The inverted dictionaries: built once per dictionary version, in a process of its own,
    and cached as a file (`load_index`).

    Built in the kiosk's own process it took ~10 MB, but left ~35 MB resident: the
    dictionaries read to build it, freed between the index's own objects, stay with the
    process. Loaded from the cached file it takes its 10 MB and a few ms.
    """

    def __init__(
        self,
        frequency: dict[str, int],
        words: dict[str, list[str]],
        chars: dict[str, list[tuple[str, bool]]],
        names: NameCounts,
    ) -> None:
        #: jieba's corpus counts of single characters.
        self.frequency = frequency
        #: "xi an" -> ["西安"], most frequent first.
        self.words = words
        #: reading -> [(character, is its first reading)]
        self.chars = chars
        self.syllables = frozenset(chars)
        #: How often characters occur in people's names (kiosk.services.pinyin_names).
        self.names = names

    @classmethod
    def build(cls) -> _Index:
        """From the dictionaries (about half a second)."""
        from pypinyin.pinyin_dict import pinyin_dict

        from kiosk.domain.names import pinyin_phrases

        # The phrases as name matching loads them (packed: see kiosk.domain.names), not
        # pypinyin's module a second time.
        phrases = pinyin_phrases()
        readings_of: dict[int, str] = pinyin_dict

        # Bytes, not text: 5 MB of UTF-8 would be 20 MB as a str of Chinese characters.
        corpus = _jieba_dictionary().read_bytes()
        frequency = {
            m[1].decode(): int(m[2]) for m in _SINGLE.finditer(corpus) if len(m[1].decode()) == 1
        }
        words: dict[str, list[str]] = defaultdict(list)
        for phrase, spoken in phrases.items():
            if 2 <= len(phrase) <= 4 and len(phrase) == len(spoken):
                words[" ".join(toneless(r[0]) for r in spoken)].append(phrase)
        by_frequency = _by_frequency(words, corpus)
        names = count_names(corpus, COMMON_SURNAMES["simplified"])
        del corpus
        chars: dict[str, list[tuple[str, bool]]] = defaultdict(list)
        for code, listed in readings_of.items():
            if code > 0xFFFF or 0x3400 <= code < 0x4E00:  # extension blocks: rare, often tofu
                continue
            char = chr(code)
            plain = list(dict.fromkeys(toneless(r) for r in listed.split(",")))
            for order, reading in enumerate(plain):
                chars[reading].append((char, order == 0))
        return cls(frequency, by_frequency, dict(chars), names)

    def save(self, path: Path) -> None:
        """Write the index to `path` atomically: a concurrent reader sees all or nothing."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        names = (self.names.surname, self.names.first, self.names.last)
        partial.write_bytes(marshal.dumps((self.frequency, self.words, self.chars, names)))
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> _Index:
        frequency, words, chars, names = marshal.loads(path.read_bytes())
        return cls(frequency, words, chars, NameCounts(*names))


def index_path(cache_dir: Path | None = None) -> Path:
    """The cached index for the installed dictionaries: a new version gets a new file."""
    from importlib.metadata import version

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = cache_dir or Path(base) / "lobby-kiosk"
    corpus = _jieba_dictionary().stat()
    tag = f"{version('pypinyin')}-{corpus.st_size}-{corpus.st_mtime_ns}"
    return folder / f"pinyin-index-{INDEX_FORMAT}-{tag}.marshal"


def load_index(cache_dir: Path | None = None) -> _Index:
    """The index from its cached file, built first by `python -m kiosk.services.pinyin_input
    PATH` if missing; built here only if that fails (a read-only cache, say)."""
    path = index_path(cache_dir)
    if not path.exists():
        try:
            subprocess.run(
                [sys.executable, "-m", "kiosk.services.pinyin_input", str(path)],
                check=True,
                timeout=120,
                stdin=subprocess.DEVNULL,
                capture_output=True,
            )
        except (OSError, subprocess.SubprocessError) as err:
            log.warning("building the pinyin index in a process of its own failed: %s", err)
    if path.exists():
        try:
            return _Index.load(path)
        except (OSError, ValueError, EOFError, TypeError) as err:
            log.warning("the cached pinyin index %s is unreadable (%s): building it", path, err)
    return _Index.build()


def _jieba_dictionary() -> Path:
    """jieba's dict.txt, found without importing jieba (which loads its segmenter's tables)."""
    spec = find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("jieba is not installed: pip install jieba")
    return Path(next(iter(spec.submodule_search_locations))) / "dict.txt"


def _by_frequency(words: dict[str, list[str]], corpus: bytes) -> dict[str, list[str]]:
    """Each list of `words` sorted by jieba's count, most frequent first."""
    wanted = {w for found in words.values() for w in found}
    counts: dict[str, int] = {}
    for match in _WORD.finditer(corpus):
        word = match[1].decode()
        if word in wanted:
            counts[word] = int(match[2])
    return {
        key: sorted(found, key=lambda w: (-counts.get(w, 0), w)) for key, found in words.items()
    }


class PinyinIme:
    """Candidates for typed pinyin; thread-safe, the dictionaries shared by all instances."""

    _index: _Index | None = None
    _lock = threading.Lock()

    def __init__(self, script: Script = "simplified", limit: int = 24) -> None:
        self.script: Script = script
        self.limit = limit

    @classmethod
    def index(cls) -> _Index:
        with cls._lock:
            if cls._index is None:
                cls._index = load_index()
            return cls._index

    @classmethod
    def release(cls) -> None:
        """Drop the index (~13 MB) until the next visitor types pinyin; loading it again from
        its cached file takes some 25-60 ms, on that visitor's first key."""
        with cls._lock:
            cls._index = None

    def segment(self, typed: str) -> tuple[list[str], str]:
        """(complete syllables, incomplete tail): longest match first, "'" splits."""
        syllables: list[str] = []
        known = self.index().syllables
        for part in typed.lower().split("'"):
            rest = part
            while rest:
                for size in range(min(MAX_SYLLABLE, len(rest)), 0, -1):
                    if rest[:size] in known:
                        syllables.append(rest[:size])
                        rest = rest[size:]
                        break
                else:
                    return syllables, rest
        return syllables, ""

    def _rank_chars(self, chars: list[tuple[str, bool]]) -> list[str]:
        frequency = self.index().frequency
        surnames = _SURNAME_RANK[self.script]
        not_a_surname = len(surnames)
        ranked = sorted(
            chars,
            key=lambda cp: (
                not _frequent(cp[0], self.script),
                # A surname by its own reading: 沈 is read "chen" too, but as a surname "shen".
                surnames.get(cp[0], not_a_surname) if cp[1] else not_a_surname,
                not cp[1],
                -frequency.get(cp[0], 0),
                cp[0],
            ),
        )
        return list(dict.fromkeys(c for c, _primary in ranked))

    def candidates(self, typed: str, names: bool = False) -> list[Candidate]:
        """Words for the longest run of syllables first, then characters of the first one;
        with `names` (a field for a person's name), whole names before them all."""
        typed = typed.lower()
        if not _LETTERS.fullmatch(typed or "-"):
            return []
        index = self.index()
        syllables, tail = self.segment(typed)
        found: list[Candidate] = []
        seen: set[str] = set()

        def add(text: str, consumed: int) -> None:
            if text not in seen and len(found) < self.limit:
                seen.add(text)
                found.append(Candidate(text, consumed))

        if names and self.script == "simplified":
            readings = index.chars.get
            for name in whole_names(
                typed.strip("'"),
                index.names,
                lambda syllable: readings(syllable, []),
                index.syllables,
                WHOLE_NAMES,
            ):
                add(name, len(typed))
        spans = _spans(typed, syllables)
        for count in range(min(4, len(syllables)), 1, -1):
            for word in index.words.get(" ".join(syllables[:count]), []):
                add(word, spans[count - 1])
        if syllables:
            for char in self._rank_chars(index.chars[syllables[0]]):
                add(char, spans[0])
        elif tail:  # an unfinished first syllable ("zh"): every syllable it begins
            prefixed = [c for s in index.syllables if s.startswith(tail) for c in index.chars[s]]
            for char in self._rank_chars(prefixed)[: self.limit]:
                add(char, len(tail))
        return found


def _spans(typed: str, syllables: list[str]) -> list[int]:
    """How many typed characters (separators included) the first 1, 2, ... syllables take."""
    spans, position = [], 0
    for syllable in syllables:
        while typed[position] == "'":
            position += 1
        position += len(syllable)
        if position < len(typed) and typed[position] == "'":
            position += 1
        spans.append(position)
    return spans


if __name__ == "__main__":  # python -m kiosk.services.pinyin_input PATH: build the index
    _Index.build().save(Path(sys.argv[1]))
