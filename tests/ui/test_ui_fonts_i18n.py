"""Font search and catalogues, without a window."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from kiosk.domain.errors import KioskError
from kiosk.ui import fonts
from kiosk.ui.fonts import FontNotFound, resolve_fonts
from kiosk.ui.i18n import LOCALE_DIR, catalogue_path, translate

LANGUAGES = ["zh_Hans", "zh_Hant", "en"]


def fake_fc_match(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output: str) -> None:
    """Put an `fc-match` printing `output` first on PATH."""
    program = tmp_path / "bin" / "fc-match"
    program.parent.mkdir()
    program.write_text(f"#!/bin/sh\nprintf '%s' '{output}'\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{program.parent}:{os.environ['PATH']}")


def test_no_chinese_font_names_the_package_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What fc-match answers with only fonts-dejavu installed: a font without zh-cn.
    dejavu_only = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf\n0\nen|fr|de"
    fake_fc_match(tmp_path, monkeypatch, dejavu_only)
    with pytest.raises(FontNotFound, match="apt-get install fonts-noto-cjk") as caught:
        resolve_fonts(["zh_Hans"], cache_dir=tmp_path / "cache")
    assert isinstance(caught.value, KioskError)
    assert "DejaVuSans.ttf" in str(caught.value)


def test_without_fontconfig_the_error_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts.shutil, "which", lambda _name: None)
    with pytest.raises(FontNotFound, match="fontconfig"):
        resolve_fonts(["en"])


def test_a_missing_configured_font_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FontNotFound, match="does not exist"):
        resolve_fonts(LANGUAGES, configured=tmp_path / "absent.otf")


def test_simplified_and_traditional_get_their_own_faces(tmp_path: Path) -> None:
    found = resolve_fonts(LANGUAGES, cache_dir=tmp_path)
    assert found["zh_Hans"].regular != found["zh_Hant"].regular
    assert found["en"] == found["zh_Hans"]
    for font in found.values():
        assert Path(font.regular).is_file() and Path(font.bold).is_file()
    # A second search reuses the extracted faces instead of copying them again.
    before = {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    assert resolve_fonts(LANGUAGES, cache_dir=tmp_path) == found
    assert {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before


def test_prepared_faces_draw_the_same_pixels_without_subroutines(font_cache: Path) -> None:
    from fontTools.ttLib import TTFont
    from PIL import ImageFont

    prepared_dir = font_cache / "lobby-kiosk" / "fonts"
    text = "欢迎光临 訪客登記 刘洋 龘 Welcome, Zoë! 0123"
    for face in set(fonts.find_faces(LANGUAGES)):
        prepared = fonts.prepared_path(face, prepared_dir)
        cff = TTFont(prepared)["CFF "].cff
        assert len(cff.GlobalSubrs) == 0
        assert all(len(getattr(fd.Private, "Subrs", [])) == 0 for fd in cff[0].FDArray)
        for size in (18, 72):
            original = ImageFont.truetype(str(face.path), size, index=face.index)
            flat = ImageFont.truetype(str(prepared), size)
            assert bytes(flat.getmask(text)) == bytes(original.getmask(text)), (face, size)


def test_the_kiosk_opens_prepared_faces_and_says_when_there_are_none(
    font_cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    prepared = resolve_fonts(LANGUAGES, cache_dir=font_cache / "lobby-kiosk" / "fonts")
    assert all(f.regular.endswith("-flat.otf") for f in prepared.values())
    assert "not prepared" not in caplog.text

    unprepared = resolve_fonts(LANGUAGES, cache_dir=tmp_path)  # still usable, as they are
    assert not any(f.regular.endswith("-flat.otf") for f in unprepared.values())
    assert "fonts not prepared" in caplog.text and "kiosk prepare-fonts" in caplog.text
    assert fonts.prepare_faces(fonts.find_faces(["en"]), font_cache / "lobby-kiosk" / "fonts") == []
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "prepare-fonts"],
        env={**os.environ, "XDG_CACHE_HOME": str(font_cache)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "prepared already" in done.stdout


@pytest.mark.parametrize("language", ["zh_Hans", "zh_Hant"])
def test_chinese_catalogues_translate_every_string(language: str) -> None:
    with (LOCALE_DIR / "kiosk.pot").open("rb") as file:
        template = {m.id for m in read_po(file) if m.id}
    with catalogue_path(language, ".po").open("rb") as file:
        catalogue = {m.id: m.string for m in read_po(file) if m.id}
    assert set(catalogue) == template, "run `make i18n`"
    assert [source for source, text in catalogue.items() if not text] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogues_match_their_sources(language: str) -> None:
    with catalogue_path(language, ".po").open("rb") as file:
        compiled = io.BytesIO()
        write_mo(compiled, read_po(file))
    assert catalogue_path(language).read_bytes() == compiled.getvalue(), "run `make i18n`"


def test_translate_switches_language() -> None:
    assert translate("Open now", "zh_Hans") == "正在开放"
    assert translate("Open now", "zh_Hant") == "正在開放"
    assert translate("Open now", "en") == "Open now"
