"""How a visitor types a Chinese name on the kiosk's keyboard, counted in taps.

The names are 300 made from a public list, Faker's `zh_CN` person provider: its surnames
ordered by their share of the population and its most common given names, paired in
order (the i-th name is the (i mod 60)-th surname with the (i mod 131)-th given name,
every pair different). Their pinyin is pypinyin's first reading of each character, typed
without separators.

A visitor types the whole pinyin (one tap a letter), then, as long as something is left,
taps the candidate among the ten the bar shows that spells the most of what is left of
the name; a name none of whose pieces is shown cannot be typed (counted apart).

    python tests/services/name_typing.py   # the figures, with and without whole names
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kiosk.services.pinyin_input import PinyinIme

SHOWN = 10  # the candidate bar's (kiosk.ui.widgets.OnScreenKeyboard.on_candidates)
NAMES = 300


def common_names(count: int = NAMES) -> list[str]:
    from faker.providers.person.zh_CN import Provider

    by_share = sorted(Provider.last_names.items(), key=lambda item: -item[1])
    surnames = [name for name, _share in by_share if len(name) == 1][:60]
    given = list(dict.fromkeys(Provider.first_names))
    assert len(given) >= 131, "Faker's zh_CN given names changed"
    given = given[:131]
    return [surnames[i % len(surnames)] + given[i % len(given)] for i in range(count)]


def pinyin_of(name: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(name, style=Style.NORMAL, v_to_u=False))


@dataclass(frozen=True)
class Typed:
    name: str
    pinyin: str
    #: Where the whole name is among the candidates after its pinyin (None: not among them).
    rank: int | None
    #: Taps to type it (letters and candidates), None if it cannot be typed.
    taps: int | None


def type_name(ime: PinyinIme, name: str, names: bool) -> Typed:
    typed = pinyin_of(name)
    first = [c.text for c in ime.candidates(typed, names=names)]
    rank = first.index(name) if name in first else None
    taps, composing, left = len(typed), typed, name
    while left:
        shown = ime.candidates(composing, names=names)[:SHOWN]
        fitting = [c for c in shown if left.startswith(c.text)]
        if not fitting:
            return Typed(name, typed, rank, None)
        chosen = max(fitting, key=lambda c: len(c.text))
        taps += 1
        left = left[len(chosen.text) :]
        composing = composing[chosen.consumed :].lstrip("'")
    return Typed(name, typed, rank, taps)


def report(names: bool) -> dict[str, float]:
    ime = PinyinIme("simplified", 24)
    typed = [type_name(ime, name, names) for name in common_names()]
    done = [t.taps for t in typed if t.taps is not None]
    return {
        "names": len(typed),
        "in_first_5": sum(1 for t in typed if t.rank is not None and t.rank < 5) / len(typed),
        "typed": len(done) / len(typed),
        "taps_per_name": sum(done) / len(done),
    }


def taps_on_names_both_type() -> tuple[float, float, int]:
    """Average taps today and with whole names, on the names both ways can type."""
    ime = PinyinIme("simplified", 24)
    pairs = [(type_name(ime, n, False).taps, type_name(ime, n, True).taps) for n in common_names()]
    both = [(old, new) for old, new in pairs if old is not None and new is not None]
    return (
        sum(old for old, _new in both) / len(both),
        sum(new for _old, new in both) / len(both),
        len(both),
    )


if __name__ == "__main__":
    for label, names in (("today (characters)", False), ("whole names", True)):
        print(label, report(names))
    print("taps on the names both type (today, whole names, names):", taps_on_names_both_type())
