"""Constants and builders shared by test modules (conftest fixtures cannot be imported by
name, and `from conftest import` finds whichever folder's conftest was loaded last)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import pytest

    from kiosk.app import Kiosk
    from kiosk.config import KioskConfig
    from kiosk.domain.clock import ManualClock

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: A Monday at 10:00 in Shanghai: inside the default opening hours (09-12, 14-17).
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


def make_kiosk(config: KioskConfig, clock: ManualClock, database: str = ":memory:") -> Kiosk:
    """A kiosk over `database` (in memory unless a path is given), its keys made, its id set."""
    from kiosk.app import build_kiosk
    from kiosk.services.keys import KeyStore
    from kiosk.storage.db import open_database
    from kiosk.storage.models import KioskState

    keys = KeyStore(config.keys_dir)
    keys.ensure(standalone=not config.office.configured)
    db = open_database(database)
    KioskState.insert(key="kiosk_id", value="kiosk-test").on_conflict_ignore().execute()
    keys.register_own_keys("kiosk-test", clock.now())
    return build_kiosk(config, db, clock)


def initialised_kiosk(folder: Path, toml: str = '[site]\nname = "Test Tower"\n') -> Path:
    """A kiosk.toml in `folder` with `toml`, through `kiosk init` (keys, database): its path."""
    from kiosk.cli import main as kiosk_cli

    config = folder / "kiosk.toml"
    config.write_text(toml, encoding="utf-8")
    assert kiosk_cli(["--config", str(config), "init"]) == 0
    return config


def nightly_steps(config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """`kiosk nightly --json` for `config`, which must succeed: each step's result."""
    from kiosk.cli import main as kiosk_cli

    capsys.readouterr()
    assert kiosk_cli(["--config", str(config), "nightly", "--json"]) == 0
    steps: dict[str, Any] = json.loads(capsys.readouterr().out)
    return steps
