"""Fixtures shared by the whole suite: a configured kiosk on an in-memory database, a clock
that moves only when told, and a few hosts. Built by hand, as Mopidy's tests build their core."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests_support import MONDAY_10AM, make_kiosk

from kiosk.app import Kiosk
from kiosk.config import KioskConfig, load_config
from kiosk.domain.clock import ManualClock

SITE_TOML = """
[site]
name = "Test Tower"
timezone = "Asia/Shanghai"
"""


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (`make test` runs two workers), each worker gets a PostgreSQL
    database of its own: the office tests empty their tables between tests."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("KIOSK_TEST_POSTGRES_URL")
    if worker and url:
        os.environ["KIOSK_TEST_POSTGRES_URL"] = worker_database(url, worker)


def worker_database(url: str, worker: str) -> str:
    """A fresh database named after `worker` on the server of `url`; its URL."""
    import psycopg

    server, _, name = url.rpartition("/")
    own = f"{name}_{worker}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{own}"')
    return f"{server}/{own}"


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
