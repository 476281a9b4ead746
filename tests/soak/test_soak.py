"""The soak (benchmarks/soak), small: a few kiosks for about two minutes with every fault
once (office SIGKILL, PostgreSQL restart, network noise, a partition, half-open
connections, a kiosk 3 hours off, a kiosk killed mid-push), on one office and on two
office processes sharing the database; then the exactly-once checks. And the office's
statelessness across processes: a request replayed to the other process is refused, a
session opened at one is valid at the other, and failed sign-ins at both add up.

Each test has a PostgreSQL server of its own (the soak restarts it on purpose). Slow:
`make test-slow`; the full soak is `make soak`."""

from __future__ import annotations

import json
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from benchmarks.soak.harness import Soak, SoakConfig
from benchmarks.soak.office import OfficeProcess, Postgres
from kiosk.app import build_kiosk, init_kiosk
from kiosk.config import load_config
from kiosk.dbkit.key_files import load_private_key
from kiosk.domain.clock import SystemClock
from kiosk.office.staff import StaffDirectory
from kiosk.office.store import OfficeStore, open_office_database
from kiosk.storage.db import open_database
from kiosk.sync.client import AUTH_KEY, SyncClient
from kiosk.sync.wire import sign_request

pytestmark = pytest.mark.slow
#: The sign-in form's token, as the browser's cookie carries it back (double submit).
LOGIN_FORM_COOKIE = {"Cookie": "office_login_csrf=form-token"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    # Under /tmp, not pytest's 0700 folder: the server runs as the postgres user.
    server = Postgres(_free_port(), f"/tmp/soak-test-pg-{uuid.uuid4().hex[:8]}")
    try:
        yield server
    finally:
        server._script("stop")
        shutil.rmtree(server.folder, ignore_errors=True)


def short_soak(tmp_path: Path, postgres: Postgres, offices: int) -> dict:
    config = SoakConfig(
        minutes=1.6, kiosks=6, kiosks_per_site=3, events_per_minute=6, workers=1,
        partition_minutes=0.3, offices=offices, drain_seconds=150, folder=str(tmp_path / "soak"),
        pg_port=postgres.port, pg_folder=postgres.folder,
    )  # fmt: skip
    soak = Soak(config)
    try:
        report = soak.run()
    finally:
        soak.close()
    (tmp_path / "report.json").write_text(json.dumps(report, default=str))
    return report


def assert_nothing_lost(report: dict) -> None:
    totals = report["checks"]["totals"]
    assert report["checks"]["ok"], report["checks"]["failing"]
    assert totals["recorded"] >= 40 and totals["stored"] == totals["recorded"]
    assert totals["lost"] == totals["duplicated"] == totals["out_of_order"] == 0
    assert report["server_errors"] == []
    assert report["figures"]["kiosk restarts mid-push"] == 1
    assert report["figures"]["catch-up after the partition"]["kiosks"] >= 2
    names = [fault["name"] for fault in report["faults"]]
    for expected in ("office SIGKILL and restart", "PostgreSQL restart", "partition ends",
                     "a kiosk restarted mid-push", "half-open connections"):  # fmt: skip
        assert expected in names
    assert report["latency"]["calm/push"]["requests"] > 0


def test_a_short_soak_with_every_fault_loses_and_duplicates_nothing(
    tmp_path: Path, postgres: Postgres
) -> None:
    report = short_soak(tmp_path, postgres, offices=1)
    assert_nothing_lost(report)
    withheld = report["figures"]["proxy faults"]["restart"]["push_answer_withheld"]
    assert withheld == 1


def test_two_office_processes_on_one_database_store_each_event_once(
    tmp_path: Path, postgres: Postgres
) -> None:
    report = short_soak(tmp_path, postgres, offices=2)
    assert_nothing_lost(report)
    for number in (0, 1):  # each office took pushes
        log = (tmp_path / "soak" / f"office-{number}.log").read_text(errors="replace")
        assert "POST /v1/events" in log


def test_the_office_keeps_no_state_in_its_processes(tmp_path: Path, postgres: Postgres) -> None:
    url = postgres.fresh_database(postgres.start(), "kiosk_stateless")
    store = OfficeStore(open_office_database(url))
    offices = [OfficeProcess(url, _free_port(), tmp_path / f"office-{n}.log") for n in (0, 1)]
    try:
        for office in offices:
            office.start()
        first, second = (httpx.Client(base_url=o.url, timeout=20) for o in offices)

        # A nonce seen by one process is known to the other: the replay is refused.
        config_path = tmp_path / "kiosk" / "kiosk.toml"
        config_path.parent.mkdir()
        config_path.write_text('[site]\nname = "Stateless Tower"\n', encoding="utf-8")
        init_kiosk(config_path)
        config = load_config(config_path)
        kiosk = build_kiosk(config, open_database(config.database_path), SystemClock())
        SyncClient(kiosk).enroll(offices[0].url, store.enrolment_code("Stateless Tower"))
        key = load_private_key(kiosk.keys.directory / AUTH_KEY)
        path = "/v1/changes?cursor=0&limit=10"
        time_ms = int(SystemClock().now().timestamp() * 1000)
        headers = sign_request(key, kiosk.kiosk_id, "GET", path, b"", time_ms)
        assert first.get(path, headers=headers).status_code == 200
        replayed = second.get(path, headers=headers)
        assert replayed.status_code == 401 and "replay" in replayed.text.lower()

        # A session opened at one process is a session at the other.
        staff = StaffDirectory(store.db, store.clock)
        site = store.site("Stateless Tower")
        staff.add_user(site, "reception1", "correct horse battery", "reception")
        login = {"username": "reception1", "password": "correct horse battery",
                 "csrf_token": "form-token", "next": "/"}  # fmt: skip
        signed_in = first.post("/login", data=login, headers=LOGIN_FORM_COOKIE)
        assert signed_in.status_code == 303
        session = {"Cookie": f"office_session={signed_in.cookies['office_session']}"}
        assert second.get("/visits", headers=session).status_code == 200
        assert second.get("/visits").status_code in (303, 401)

        # Failed sign-ins counted at either process lock the account from this address.
        wrong = {**login, "password": "wrong password entirely"}
        for attempt in range(5):
            client = (first, second)[attempt % 2]
            refused = client.post("/login", data=wrong, headers=LOGIN_FORM_COOKIE)
            assert refused.status_code == 401
        locked = second.post("/login", data=login, headers=LOGIN_FORM_COOKIE)
        assert locked.status_code == 401
    finally:
        for office in offices:
            office.stop()
        store.db.close_all()
