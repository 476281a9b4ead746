"""Fixtures shared by the whole suite: a configured kiosk on an in-memory database, a clock
that moves only when told, and a few hosts. Built by hand, as Mopidy's tests build their core."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests_support import MONDAY_10AM

from kiosk.app import Kiosk, build_kiosk
from kiosk.config import KioskConfig, load_config
from kiosk.domain.clock import ManualClock
from kiosk.services.keys import KeyStore
from kiosk.storage.db import open_database
from kiosk.storage.models import KioskState

SITE_TOML = """
[site]
name = "Test Tower"
timezone = "Asia/Shanghai"
"""


def write_config(directory: Path, extra: str = "") -> Path:
    path = directory / "kiosk.toml"
    path.write_text(SITE_TOML + extra, encoding="utf-8")
    return path


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY_10AM)


@pytest.fixture
def config_extra() -> str:
    """TOML appended to the site file: bare keys land in [site], or start a new table."""
    return ""


@pytest.fixture
def config(tmp_path: Path, config_extra: str) -> KioskConfig:
    return load_config(write_config(tmp_path, config_extra))


def make_kiosk(config: KioskConfig, clock: ManualClock, database: str = ":memory:") -> Kiosk:
    keys = KeyStore(config.keys_dir)
    keys.ensure(standalone=not config.office.configured)
    db = open_database(database)
    KioskState.insert(key="kiosk_id", value="kiosk-test").on_conflict_ignore().execute()
    keys.register_own_keys("kiosk-test", clock.now())
    return build_kiosk(config, db, clock)


@pytest.fixture
def kiosk(config: KioskConfig, clock: ManualClock) -> Iterator[Kiosk]:
    built = make_kiosk(config, clock)
    yield built
    built.close()


@pytest.fixture
def hosts(kiosk: Kiosk) -> dict[str, str]:
    """A small directory; returns name -> ref."""
    directory = kiosk.directory
    made = {}
    for name, email, department in [
        ("Maria Schmidt", "maria@example.com", "Engineering"),
        ("李娜", "li.na@example.com", "行政部"),
        ("王强", "wang.qiang@example.com", "总经理办公室"),
        ("James O'Connor", "james@example.com", "Sales"),
    ]:
        host, _ = directory.add_host(name, email=email, department=department)
        made[name] = host.ref
    return made
