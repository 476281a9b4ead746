"""Whether a font file can draw a text: the check behind "no tofu" in the UI tests.

Kivy's SDL2 text renderer opens face 0 of the file it is given and has no fallback, so a
character absent from that face's character map is drawn as the .notdef box. Reading the
same face's cmap with fontTools answers exactly what SDL2_ttf will do.
"""

from __future__ import annotations

from functools import cache

from fontTools.ttLib import TTFont


@cache
def character_map(font_file: str) -> frozenset[int]:
    font = TTFont(font_file, fontNumber=0, lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


def missing_characters(font_file: str, text: str) -> list[str]:
    """The characters of `text` that `font_file` has no glyph for (line breaks aside)."""
    covered = character_map(font_file)
    return sorted({c for c in text if c not in "\n\r\t" and ord(c) not in covered})
