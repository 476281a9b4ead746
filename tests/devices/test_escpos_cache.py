"""python-escpos's profile cache folder (kiosk.devices.escpos_cache): an inherited folder
this user cannot use is never handed to python-escpos."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiosk.devices import escpos_cache


def test_an_unusable_inherited_folder_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(escpos_cache.VARIABLE, str(tmp_path / "no-such-folder" / "escpos"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    escpos_cache.use_profile_cache()
    assert os.environ[escpos_cache.VARIABLE] == str(tmp_path / "cache" / "lobby-kiosk" / "escpos")


def test_a_usable_chosen_folder_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(escpos_cache.VARIABLE, str(tmp_path))
    escpos_cache.use_profile_cache()
    assert os.environ[escpos_cache.VARIABLE] == str(tmp_path)


def test_without_a_usable_folder_python_escpos_keeps_its_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(escpos_cache.VARIABLE, str(tmp_path / "gone"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    escpos_cache.use_profile_cache()
    assert escpos_cache.VARIABLE not in os.environ
