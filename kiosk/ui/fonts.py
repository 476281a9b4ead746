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

Each face is also *prepared* once (`prepare_faces`, run by `kiosk prepare-fonts`): its
CFF outlines are desubroutinized, which draws the same pixels. SDL2_ttf opens a face once
per text size and reads it through a file stream, so FreeType copies the font's
subroutines (~1.5 MB in Noto Sans CJK) into memory for every size: six sizes of a prepared
face take ~2 MB instead of ~13 MB. Preparing takes ~30 s and ~450 MB per font file, so it
is done ahead (provisioning, `make run`), not while a visitor waits; a face not prepared
yet is used as it is, and the kiosk says how to prepare it.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kiosk.domain.errors import KioskError

#: The fontconfig language each UI language needs covered.
FONTCONFIG_LANGUAGE = {"zh_Hans": "zh-cn", "zh_Hant": "zh-tw", "en": "zh-cn"}

PREPARE_ADVICE = "run `kiosk prepare-fonts` once (one to two minutes)"

#: Memory one process takes to prepare a font file of Noto Sans CJK (measured: ~440 MB).
PREPARE_MEMORY_BYTES = 600 * 2**20

log = logging.getLogger(__name__)

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


def prepared_path(face: FontFace, cache_dir: Path) -> Path:
    """Where the prepared copy of `face` is kept (named after the file's size and time, so
    an updated font package is prepared again)."""
    stat = face.path.stat()
    stem = f"{face.path.stem}-{face.index}-{stat.st_size}-{stat.st_mtime_ns}"
    collection = face.index > 0 or face.path.suffix.lower() == ".ttc"
    return cache_dir / f"{stem}-flat{'.otf' if collection else face.path.suffix}"  # one face


def prepare_faces(faces: Iterable[FontFace], cache_dir: Path) -> list[Path]:
    """Prepare every face not prepared yet; the files written. Each font file is read by
    one process (the faces of a collection share one CFF table, flattened once), and files
    are prepared side by side as far as the cores and the free memory allow."""
    missing: dict[Path, list[FontFace]] = {}
    for face in dict.fromkeys(faces):
        if not prepared_path(face, cache_dir).exists():
            missing.setdefault(face.path, []).append(face)
    if not missing:
        return []
    cache_dir.mkdir(parents=True, exist_ok=True)
    workers = max(
        1, min(len(missing), os.cpu_count() or 1, memory_available() // PREPARE_MEMORY_BYTES)
    )
    if workers > 1:
        try:
            pool = ProcessPoolExecutor(max_workers=workers)
        except OSError as err:
            # No POSIX semaphores (a chroot or container without a writable /dev/shm):
            # one file after the other is slower, not wrong.
            logging.getLogger(__name__).warning(
                "preparing the font files one by one: no process pool here (%s)", err
            )
        else:
            with pool:
                done = pool.map(prepare_file, missing.values(), [cache_dir] * len(missing))
                return [path for written in done for path in written]
    return [path for group in missing.values() for path in prepare_file(group, cache_dir)]


def prepare_file(faces: list[FontFace], cache_dir: Path) -> list[Path]:
    """The prepared copies of `faces`, all of one font file."""
    from fontTools.ttLib import TTCollection, TTFont

    logging.getLogger("fontTools").setLevel(logging.WARNING)
    path = faces[0].path
    with path.open("rb") as file:
        is_collection = file.read(4) == b"ttcf"
    if is_collection:
        collection = TTCollection(str(path), shareTables=True)
        fonts = [(face, collection.fonts[face.index]) for face in faces]
    else:
        fonts = [(faces[0], TTFont(str(path)))]
    flattened: set[int] = set()
    written = []
    for face, font in fonts:
        if "CFF " in font:
            table = font["CFF "]
            if id(table) not in flattened:
                table.cff.desubroutinize()
                flattened.add(id(table))
            # A table shared with another face comes from the collection's cache without
            # being marked as this face's own, and would be saved as the original bytes.
            font["CFF "] = table
        target = prepared_path(face, cache_dir)
        partial = target.with_suffix(f".{os.getpid()}.partial")
        font.save(str(partial))
        partial.replace(target)  # atomic: a kiosk starting now sees the whole file or none
        written.append(target)
    return written


def memory_available() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return PREPARE_MEMORY_BYTES  # unknown: one process at a time


def find_faces(languages: list[str], configured: str | Path | None = None) -> list[FontFace]:
    """The faces the UI draws `languages` in: regular and bold of each, in that order."""
    if configured is not None:
        path = Path(configured)
        if not path.is_file():
            raise FontNotFound(f"the configured font {path} does not exist: {INSTALL_ADVICE}")
        return [FontFace(path)] * 2 * len(languages)
    faces = []
    for language in languages:
        fc_language = FONTCONFIG_LANGUAGE.get(language, "zh-cn")
        regular = fc_match(fc_language)
        try:
            bold = fc_match(fc_language, bold=True)
        except FontNotFound:
            bold = regular  # Kivy emboldens the regular face itself
        faces += [regular, bold]
    return faces


def usable_file(face: FontFace, cache_dir: Path) -> tuple[str, bool]:
    """The file to open `face` from, and whether it is the prepared one."""
    prepared = prepared_path(face, cache_dir)
    if prepared.exists():
        return str(prepared), True
    return standalone_file(face, cache_dir), False


def resolve_fonts(
    languages: list[str], configured: str | Path | None = None, cache_dir: Path | None = None
) -> dict[str, UiFont]:
    """One UiFont per language, from `configured` if given, else from fontconfig; each face
    its prepared copy where there is one (see the module's notes)."""
    cache_dir = cache_dir or default_cache_dir()
    faces = find_faces(languages, configured)
    opened = [usable_file(face, cache_dir) for face in faces]
    unprepared = sorted(
        {str(face.path) for face, (_f, ok) in zip(faces, opened, strict=True) if not ok}
    )
    if unprepared:
        log.warning(
            "fonts not prepared (%s): each text size takes ~2 MB more memory; %s",
            ", ".join(unprepared),
            PREPARE_ADVICE,
        )
    files = [file for file, _prepared in opened]
    return {
        language: UiFont(files[2 * i], files[2 * i + 1]) for i, language in enumerate(languages)
    }
