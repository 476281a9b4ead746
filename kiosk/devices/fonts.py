"""Fonts for badges: one configured or found through fontconfig, with per-text fallback.

A name can be in any script. The primary font is the configured one, else fontconfig's
choice for "sans:lang=zh-cn" (Noto Sans CJK covers Latin, Greek, Cyrillic, CJK, kana and
hangul). Text with characters the primary lacks is drawn in the font fontconfig names for
exactly those characters (`fc-match :charset=...`), so Arabic or Devanagari still print.
Coverage comes from `fc-query`, read once per font file.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

from PIL import ImageFont

from kiosk.devices.errors import RenderError

NO_FONT_ADVICE = (
    "no usable font: install one (sudo apt install fonts-noto-cjk) "
    "or set devices.printer.font_path to a .ttf/.otf/.ttc file"
)


def _fc(args: list[str]) -> str:
    if shutil.which(args[0]) is None:
        return ""
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def fc_match(pattern: str) -> str | None:
    """The font file fontconfig picks for `pattern`, or None (no fontconfig, no match)."""
    found = _fc(["fc-match", "-f", "%{file}", pattern])
    return found if found and Path(found).is_file() else None


@functools.lru_cache(maxsize=32)
def _coverage(path: str) -> tuple[tuple[int, int], ...] | None:
    """Code point ranges of face 0 of `path`, or None when fc-query is unavailable."""
    text = _fc(["fc-query", "--index", "0", "--format", "%{charset}", path])
    if not text:
        return None
    ranges = []
    for part in text.split():
        low, _, high = part.partition("-")
        try:
            ranges.append((int(low, 16), int(high or low, 16)))
        except ValueError:
            continue
    return tuple(ranges)


def _covers(path: str, text: str) -> bool:
    ranges = _coverage(path)
    if ranges is None:
        return True  # cannot tell: trust the primary font
    for char in set(text):
        point = ord(char)
        if char.isspace() or point < 0x20:
            continue
        if not any(low <= point <= high for low, high in ranges):
            return False
    return True


class FontBook:
    """Regular and bold faces at any pixel size, cached; `font(text, size, bold)` picks one."""

    def __init__(self, font_path: str | None = None, bold_path: str | None = None) -> None:
        regular: str | None
        bold: str | None
        if font_path:
            if not Path(font_path).is_file():
                raise RenderError(f"font_path {font_path!r} does not exist; {NO_FONT_ADVICE}")
            regular, bold = font_path, bold_path or font_path
        else:
            regular = fc_match("sans:lang=zh-cn") or fc_match("sans")
            bold = fc_match("sans:lang=zh-cn:weight=bold") or regular
        if not regular:
            raise RenderError(NO_FONT_ADVICE)
        self.regular_path = regular
        self.bold_path = bold or regular
        self._fallbacks: dict[frozenset[str], str] = {}
        try:
            self._load(self.regular_path, 12)
            self._load(self.bold_path, 12)
        except OSError as err:
            raise RenderError(f"cannot load font {self.regular_path!r}: {err}") from err

    # A few faces only: a face of a CJK font holds ~2 MB, and fitting a name tries a size
    # per step of a binary search, so 256 cached faces grew to hundreds of MB over a day of
    # badges. Opening a face again takes ~3 ms.
    @staticmethod
    @functools.lru_cache(maxsize=12)
    def _load(path: str, size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(path, size)

    def _path_for(self, text: str, bold: bool) -> str:
        primary = self.bold_path if bold else self.regular_path
        if _covers(primary, text):
            return primary
        missing = frozenset(c for c in text if not _covers(primary, c))
        if missing not in self._fallbacks:
            charset = " ".join(f"{ord(c):x}" for c in sorted(missing))
            weight = ":weight=bold" if bold else ""
            self._fallbacks[missing] = fc_match(f"sans{weight}:charset={charset}") or primary
        return self._fallbacks[missing]

    def font(self, text: str, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        return self._load(self._path_for(text, bold), max(6, int(size)))
