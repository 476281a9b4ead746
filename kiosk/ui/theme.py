"""The look of every screen: two palettes and one type scale, as names for the .kv files.

The names (`INK`, `ACCENT`, `TEXT_BODY`...) are put into Kivy's global idmap before a .kv
file is loaded, so the rules read them as constants: a constant costs nothing per widget,
where a binding to a theme object would cost a handler on every label. Switching the
palette therefore rebuilds the screens (`KioskApp.set_theme`), which a visitor never waits
for: it is an admin's choice.

The palettes:
    standard        calm and light; every text colour reaches at least 7:1 on its
                    background (WCAG AAA)
    high_contrast   white and yellow on black, for low vision and for a lobby in sunlight;
                    text on a filled colour is black

The type scale: five sizes, and no others. SDL2_ttf opens a font file once per size it
draws in (Kivy keeps up to 64 of them), and a face of Noto Sans CJK takes about 2.5 MB,
so every extra size costs memory: the screens once used 21 sizes (52 MB of faces), the
scale needs at most 7 faces per script (regular 18/22/30, bold 22/30/44/72).
"""

from __future__ import annotations

from kivy.lang import global_idmap
from kivy.metrics import sp

Rgba = tuple[float, float, float, float]

PALETTES: dict[str, dict[str, Rgba]] = {
    "standard": {
        "BACKGROUND": (0.969, 0.965, 0.949, 1),
        "CARD": (1, 1, 1, 1),
        "CARD_EDGE": (0.478, 0.478, 0.459, 1),
        "INK": (0.067, 0.078, 0.094, 1),
        "MUTED": (0.235, 0.259, 0.286, 1),
        "ACCENT": (0.0, 0.325, 0.341, 1),
        "ACCENT_DOWN": (0.0, 0.25, 0.26, 1),
        "ACCENT_SOFT": (0.851, 0.925, 0.925, 1),
        "ON_ACCENT": (1, 1, 1, 1),
        "OPEN": (0.067, 0.369, 0.188, 1),
        "CLOSED": (0.553, 0.255, 0.0, 1),
        "OK": (0.067, 0.369, 0.188, 1),
        "WARN": (0.604, 0.180, 0.0, 1),
        "DANGER": (0.667, 0.067, 0.067, 1),
        "KEY": (0.894, 0.890, 0.871, 1),
    },
    "high_contrast": {
        "BACKGROUND": (0, 0, 0, 1),
        "CARD": (0, 0, 0, 1),
        "CARD_EDGE": (1, 1, 1, 1),
        "INK": (1, 1, 1, 1),
        "MUTED": (0.88, 0.88, 0.88, 1),
        "ACCENT": (1, 0.855, 0.0, 1),
        "ACCENT_DOWN": (0.8, 0.68, 0.0, 1),
        "ACCENT_SOFT": (0.3, 0.26, 0.0, 1),
        "ON_ACCENT": (0, 0, 0, 1),
        "OPEN": (0.45, 0.95, 0.45, 1),
        "CLOSED": (1, 0.7, 0.3, 1),
        "OK": (0.45, 0.95, 0.45, 1),
        "WARN": (1, 0.7, 0.3, 1),
        "DANGER": (1, 0.5, 0.5, 1),
        "KEY": (0.2, 0.2, 0.2, 1),
    },
}

#: The type scale, in sp (so that a site's text scale still applies).
TYPE_SCALE_SP = {
    "TEXT_SMALL": 18,  # captions, field labels, notes, small print
    "TEXT_BODY": 22,  # body text, buttons, keys, fields
    "TEXT_TITLE": 30,  # screen titles, names on a badge's verdict
    "TEXT_DISPLAY": 44,  # the greeting, a notice's message
    "TEXT_HUGE": 72,  # VALID / INVALID, the photo countdown
}


def text_size(name: str) -> float:
    """A size of the type scale in pixels, for widgets made in Python."""
    return float(sp(TYPE_SCALE_SP[name]))


def apply_theme(palette: str) -> None:
    """Make `palette`'s colours and the type scale the names the .kv rules read."""
    if palette not in PALETTES:
        raise ValueError(f"unknown palette {palette!r}: one of {', '.join(PALETTES)}")
    global_idmap.update(PALETTES[palette])
    global_idmap.update({name: text_size(name) for name in TYPE_SCALE_SP})


__all__ = ["PALETTES", "TYPE_SCALE_SP", "apply_theme", "text_size"]
