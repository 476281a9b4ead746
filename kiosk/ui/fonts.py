"""Finding fonts that can draw every string of the UI, Chinese included.

Kivy's SDL2 text renderer opens the first face of a font file and has no fallback: a
character missing from that face is drawn as a box ("tofu"). So each language gets one
face that covers it, found through fontconfig:

    zh_Hans  fc-match 'sans:lang=zh-cn'   Noto Sans CJK SC on Debian (fonts-noto-cjk)
    zh_Hant  fc-match 'sans:lang=zh-tw'   Noto Sans CJK TC, with the traditional glyph forms
    en       the zh_Hans face: its Latin is fine, and the language switch shows 简体/繁體

Noto's faces live in one collection (NotoSansCJK-Regular.ttc, SC is face 2), so a face
that is not the first is copied once into a standalone file under the cache directory,
with fontTools. A configured path replaces the search for every language.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kiosk.domain.errors import KioskError

#: The fontconfig language each UI language needs covered.
FONTCONFIG_LANGUAGE = {"zh_Hans": "zh-cn", "zh_Hant": "zh-tw", "en": "zh-cn"}

INSTALL_ADVICE = (
    "install a Chinese font with `sudo apt-get install fonts-noto-cjk fontconfig`, "
    "or set the path of a .ttf/.otf/.ttc font with Chinese glyphs in the kiosk configuration"
)


class FontNotFound(KioskError):
    """No usable font for the UI; the message says what to install or configure."""


@dataclass(frozen=True)
class FontFace:
    """One face of a font file; `index` counts faces inside a collection (.ttc)."""

    path: Path
    index: int = 0


@dataclass(frozen=True)
class UiFont:
    """Standalone font files Kivy can open, for one language."""

    regular: str
    bold: str


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lobby-kiosk" / "fonts"


def fc_match(fc_language: str, *, bold: bool = False) -> FontFace:
    """The face fontconfig picks for `fc_language`; FontNotFound unless it covers it."""
    fc_match_program = shutil.which("fc-match")
    if fc_match_program is None:
        raise FontNotFound(f"fc-match (fontconfig) is not installed: {INSTALL_ADVICE}")
    pattern = f"sans:lang={fc_language}" + (":weight=bold" if bold else "")
    try:
        result = subprocess.run(
            [fc_match_program, "-f", "%{file}\\n%{index}\\n%{lang}", pattern],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as err:
        raise FontNotFound(f"fc-match {pattern!r} failed ({err}): {INSTALL_ADVICE}") from err
    file, index, languages = ([*result.stdout.split("\n"), "", "", ""])[:3]
    if not file or fc_language not in languages.split("|"):
        raise FontNotFound(
            f"no installed font covers {fc_language!r} "
            f"(fc-match {pattern!r} gave {file or 'nothing'}): {INSTALL_ADVICE}"
        )
    return FontFace(Path(file), int(index or 0))


def standalone_file(face: FontFace, cache_dir: Path) -> str:
    """A path SDL2 opens as `face`: the file itself for a first face, else a cached copy."""
    if face.index == 0:
        return str(face.path)
    stat = face.path.stat()
    target = cache_dir / f"{face.path.stem}-{face.index}-{stat.st_size}-{stat.st_mtime_ns}.otf"
    if target.exists():
        return str(target)
    try:
        from fontTools.ttLib import TTCollection
    except ImportError as err:  # pragma: no cover - fonttools is a dependency
        raise FontNotFound(
            f"{face.path} face {face.index} needs fontTools to be opened: pip install fonttools"
        ) from err
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # it logs every table at DEBUG
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    collection = TTCollection(str(face.path), lazy=True)
    try:
        collection.fonts[face.index].save(str(partial))
    finally:
        collection.close()
    partial.replace(target)  # atomic: a concurrent start sees the whole file or none
    return str(target)


def resolve_fonts(
    languages: list[str], configured: str | Path | None = None, cache_dir: Path | None = None
) -> dict[str, UiFont]:
    """One UiFont per language, from `configured` if given, else from fontconfig."""
    if configured is not None:
        path = Path(configured)
        if not path.is_file():
            raise FontNotFound(f"the configured font {path} does not exist: {INSTALL_ADVICE}")
        return {language: UiFont(str(path), str(path)) for language in languages}
    cache_dir = cache_dir or default_cache_dir()
    fonts: dict[str, UiFont] = {}
    for language in languages:
        fc_language = FONTCONFIG_LANGUAGE.get(language, "zh-cn")
        regular = standalone_file(fc_match(fc_language), cache_dir)
        try:
            bold = standalone_file(fc_match(fc_language, bold=True), cache_dir)
        except FontNotFound:
            bold = regular  # Kivy emboldens the regular face itself
        fonts[language] = UiFont(regular, bold)
    return fonts
