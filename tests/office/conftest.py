"""An office on each storage backend, served by a real uvicorn on loopback, and kiosks that
enrol with it. PostgreSQL comes from `make test` (scripts/test-postgres.sh) through
$KIOSK_TEST_POSTGRES_URL; run alone, pytest skips the PostgreSQL half and says why."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from local_servers import free_port, served
from tests_support import MONDAY_10AM

from kiosk.app import Kiosk, build_kiosk, init_kiosk
from kiosk.config import load_config
from kiosk.domain.clock import ManualClock
from kiosk.office.api import create_app
from kiosk.office.models import OFFICE_MODELS
from kiosk.office.settings import OfficeSettings
from kiosk.office.store import OfficeStore, open_office_database
from kiosk.storage.db import open_database
from kiosk.sync.client import SyncClient

SITE = "Riverside Tower"
KIOSK_SITE_TOML = """
[site]
name = "Riverside Tower"
timezone = "Asia/Shanghai"
after_hours = "open"

[visitor_types.visitor]
photo_required = false
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def office_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "office.sqlite3")
    url = os.environ.get("KIOSK_TEST_POSTGRES_URL")
    if url is None:
        pytest.skip("PostgreSQL comes with `make test` (scripts/test-postgres.sh start)")
    assert url, "scripts/test-postgres.sh could not start PostgreSQL"
    db = open_office_database(url)
    with db.connection_context():
        tables = ", ".join(f'"{model._meta.table_name}"' for model in OFFICE_MODELS)
        db.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    return url


@dataclass
class Office:
    store: OfficeStore
    url: str


@pytest.fixture
def office(office_db_url: str) -> Iterator[Office]:
    store = OfficeStore(open_office_database(office_db_url))
    port = free_port()
    settings = OfficeSettings(public_url=f"http://127.0.0.1:{port}", cookie_secure=False)
    with served(create_app(store, settings), port) as url:
        yield Office(store, url)
    store.db.close_all() if hasattr(store.db, "close_all") else store.db.close()


class KioskFactory:
    """Kiosks on their own SQLite files, as separate machines would be."""

    def __init__(self, root: Path, office: Office) -> None:
        self.root = root
        self.office = office
        self.count = 0

    def new(
        self,
        *,
        enrol: bool = True,
        clock: ManualClock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> tuple[Kiosk, SyncClient]:
        self.count += 1
        config_path = self.root / f"kiosk{self.count}" / "kiosk.toml"
        config_path.parent.mkdir(parents=True)
        config_path.write_text(KIOSK_SITE_TOML, encoding="utf-8")
        init_kiosk(config_path)
        config = load_config(config_path)
        kiosk = build_kiosk(
            config, open_database(config.database_path), clock or ManualClock(MONDAY_10AM)
        )
        client = SyncClient(kiosk, transport=transport)
        if enrol:
            code = self.office.store.enrolment_code(SITE)
            client.enroll(self.office.url, code)
        return kiosk, client


@pytest.fixture
def kiosks(tmp_path: Path, office: Office) -> KioskFactory:
    return KioskFactory(tmp_path, office)


# ---------------------------------------------------------------- the office web, in process


class WebOffice:
    """The office app in process (Starlette's TestClient) on an SQLite file, or on the
    database `database` names, with one site. `as_role(role)` gives a client signed in as a
    new user of that role; `csrf(client)` is the token its forms carry."""

    password = "correct horse battery"

    def __init__(self, root: Path, clock: ManualClock, database: str = "") -> None:
        from kiosk.office.staff import StaffDirectory

        self.clock = clock
        self.store = OfficeStore(
            open_office_database(database or str(root / "office.sqlite3")), clock=clock
        )
        self.site = self.store.site(SITE)
        self.settings = OfficeSettings(public_url="http://testserver", cookie_secure=False)
        self.app = create_app(self.store, self.settings)
        self.staff = StaffDirectory(self.store.db, clock)
        self.users = 0

    def client(self) -> Any:
        from fastapi.testclient import TestClient

        return TestClient(self.app, follow_redirects=False)

    def add_user(self, role: str, *, host_ref: str = "") -> str:
        self.users += 1
        username = f"{role}{self.users}"
        if role == "host" and not host_ref:
            host_ref = self.store.add_host(SITE, f"Host {self.users}", email="h@example.com").ref
        with self.store.db.connection_context():
            self.staff.add_user(self.site, username, self.password, role, host_ref=host_ref)
        return username

    def sign_in(self, client: Any, username: str, password: str | None = None) -> Any:
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text
        return client.post(
            "/login",
            data={"username": username, "password": password or self.password,
                  "csrf_token": token.group(1), "next": "/"},
        )  # fmt: skip

    def as_role(self, role: str, **options: Any) -> Any:
        client = self.client()
        answer = self.sign_in(client, self.add_user(role, **options))
        assert answer.status_code == 303, answer.text
        return client

    @staticmethod
    def csrf(client: Any) -> str:
        page = client.get("/")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, page.text
        return found.group(1)


@pytest.fixture
def web_office(tmp_path: Path) -> Iterator[WebOffice]:
    office = WebOffice(tmp_path, ManualClock(MONDAY_10AM))
    yield office
    office.store.db.close()
