"""The high-contrast choice made by staff is the kiosk's own setting: kept in its SQLite
file across a restart (kiosk.services.display_settings through KioskServices)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests_support import make_kiosk

from kiosk.app import KioskServices
from kiosk.config import KioskConfig
from kiosk.devices.printers import FakePrinter
from kiosk.domain.clock import ManualClock
from kiosk.domain.errors import InvalidInput
from kiosk.services.display_settings import THEMES
from kiosk.storage.models import KioskState
from kiosk.ui.theme import PALETTES


def restarted(config: KioskConfig, clock: ManualClock, database: Path) -> KioskServices:
    return KioskServices(make_kiosk(config, clock, str(database)), printer=FakePrinter())


def test_high_contrast_is_kept_across_a_restart(
    config: KioskConfig, clock: ManualClock, tmp_path: Path
) -> None:
    database = tmp_path / "kiosk.sqlite3"
    first = restarted(config, clock, database)
    assert first.saved_theme() == "standard"  # a new kiosk
    first.save_theme("high_contrast")
    first.close()
    first._kiosk.close()

    second = restarted(config, clock, database)
    try:
        assert second.saved_theme() == "high_contrast"
        second.save_theme("standard")
        assert second.saved_theme() == "standard"
    finally:
        second.close()
        second._kiosk.close()


def test_an_unknown_theme_is_refused_and_an_unknown_stored_one_reads_standard(
    config: KioskConfig, clock: ManualClock, tmp_path: Path
) -> None:
    services = restarted(config, clock, tmp_path / "kiosk.sqlite3")
    try:
        with pytest.raises(InvalidInput):
            services.save_theme("neon")
        KioskState.insert(key="ui_theme", value="sepia").on_conflict_replace().execute()
        assert services.saved_theme() == "standard"
    finally:
        services.close()
        services._kiosk.close()


def test_the_stored_names_are_the_touchscreens_palettes() -> None:
    assert set(THEMES) == set(PALETTES)
