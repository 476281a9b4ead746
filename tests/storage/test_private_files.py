"""Keys, databases and exports are for their owner only (0600), even when made from a shell
whose umask is 022, and `kiosk doctor` names each one that is not, with the chmod."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from kiosk.app import init_kiosk
from kiosk.cli import main
from kiosk.config import load_config
from kiosk.doctor import check_file_modes, check_office_database, private_files
from kiosk.office.store import open_office_database
from kiosk.services.keys import (
    BADGE_KEY,
    DOCUMENT_SALT,
    INVITATION_KEY,
    KeyStore,
    create_private_key,
    load_private_key,
    replace_salt,
)
from kiosk.storage.db import open_database
from kiosk.storage.private_files import sqlite_files
from kiosk.sync.client import AUTH_KEY

SITE = '[site]\nname = "Mode Tower"\n'


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def shell_umask() -> Iterator[None]:
    """An admin's shell: files are 0644 unless the code says otherwise."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "site" / "kiosk.toml"
    path.parent.mkdir()
    path.write_text(SITE, encoding="utf-8")
    init_kiosk(path)
    return path


def test_a_new_kiosk_database_and_its_wal_and_shm_are_0600(tmp_path: Path) -> None:
    path = tmp_path / "data" / "kiosk.sqlite3"
    db = open_database(path)
    try:
        db.execute_sql("CREATE TABLE probe (x)")  # a write, so the -wal and -shm exist
        side_files = [p for p in sqlite_files(path) if p.exists()]
        assert {p.name for p in side_files} >= {"kiosk.sqlite3", "kiosk.sqlite3-wal"}
        assert {p.name: mode_of(p) for p in side_files} == {p.name: 0o600 for p in side_files}
    finally:
        db.close()


def test_an_existing_0644_database_is_tightened_on_open_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "kiosk.sqlite3"
    open_database(path).close()
    os.chmod(path, 0o644)
    with caplog.at_level(logging.WARNING, logger="kiosk.storage.private_files"):
        open_database(path).close()
    assert mode_of(path) == 0o600
    assert f"{path} was readable by others (mode 644)" in caplog.text


def test_a_new_office_sqlite_database_is_0600(tmp_path: Path) -> None:
    path = tmp_path / "office" / "office.sqlite3"
    db = open_office_database(str(path))
    db.close()
    assert mode_of(path) == 0o600
    assert all(mode_of(p) == 0o600 for p in sqlite_files(path) if p.exists())


def test_an_existing_0644_office_database_is_tightened_on_open(tmp_path: Path) -> None:
    path = tmp_path / "office.sqlite3"
    open_office_database(f"sqlite:///{path}").close()
    os.chmod(path, 0o644)
    open_office_database(f"sqlite:///{path}").close()
    assert mode_of(path) == 0o600


def test_every_key_file_is_0600(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys")
    assert set(keys.ensure(standalone=True)) == {BADGE_KEY, INVITATION_KEY, DOCUMENT_SALT}
    create_private_key(keys.directory / AUTH_KEY)  # as enrolment makes it
    replace_salt(keys.directory / DOCUMENT_SALT, b"\x01" * 32)
    names = [BADGE_KEY, INVITATION_KEY, DOCUMENT_SALT, AUTH_KEY]
    assert {name: mode_of(keys.directory / name) for name in names} == dict.fromkeys(names, 0o600)
    assert mode_of(keys.directory) == 0o700


def test_a_key_left_0644_by_a_copy_is_tightened_when_loaded(tmp_path: Path) -> None:
    path = tmp_path / AUTH_KEY
    create_private_key(path)
    os.chmod(path, 0o644)
    load_private_key(path)
    assert mode_of(path) == 0o600


def test_a_stale_temporary_file_does_not_pass_its_mode_to_a_key(tmp_path: Path) -> None:
    stale = tmp_path / "document-salt.tmp"
    stale.write_text("left by a crash")
    os.chmod(stale, 0o644)
    replace_salt(tmp_path / DOCUMENT_SALT, b"\x02" * 32)
    assert mode_of(tmp_path / DOCUMENT_SALT) == 0o600


def test_init_makes_the_kiosk_database_0600(config_file: Path) -> None:
    database = load_config(config_file).database_path
    assert mode_of(database) == 0o600


@pytest.mark.parametrize("existing", [False, True])
def test_an_export_is_0600(config_file: Path, tmp_path: Path, existing: bool) -> None:
    output = tmp_path / "visits.csv"
    if existing:  # an older export, made before this fix
        output.write_text("old")
        os.chmod(output, 0o644)
    since = date.today().isoformat()
    assert (
        main(["--config", str(config_file), "export", "--since", since, "--output", str(output)])
        == 0
    )
    assert mode_of(output) == 0o600
    assert output.read_text(encoding="utf-8").startswith("visit,state,visitor")


def test_doctor_names_each_loose_key_and_database_file_until_fixed(config_file: Path) -> None:
    config = load_config(config_file)
    auth_key = config.keys_dir / AUTH_KEY
    create_private_key(auth_key)
    assert [f.status for f in check_file_modes(private_files(config), "key")] == ["ok"]

    loose = [config.database_path, config.keys_dir / BADGE_KEY, auth_key]
    for path in loose:
        os.chmod(path, 0o644)
    findings = check_file_modes(private_files(config), "key")
    assert [(f.name, f.status, f.fix) for f in findings] == [
        (f"permissions {path.name}", "fail", f"chmod 600 {path}") for path in loose
    ]
    assert "mode 644" in findings[0].detail

    for path in loose:
        os.chmod(path, 0o600)
    assert [f.status for f in check_file_modes(private_files(config), "key")] == ["ok"]


def test_kiosk_doctor_checks_the_office_database_too(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    office_db = tmp_path / "office.sqlite3"
    open_office_database(str(office_db)).close()
    os.chmod(office_db, 0o644)
    assert [f.status for f in check_office_database(str(office_db))] == ["ok", "fail"]

    main(["--json", "--config", str(config_file), "doctor", "--office-db", str(office_db)])
    findings = {f["name"]: f for f in json.loads(capsys.readouterr().out)}
    assert findings["permissions office.sqlite3"]["fix"] == f"chmod 600 {office_db}"
    assert findings["permissions"]["status"] == "ok"  # the kiosk's own files

    os.chmod(office_db, 0o600)
    assert [f.status for f in check_office_database(str(office_db))] == ["ok", "ok"]
    assert check_office_database("postgresql://office@db/office")[0].status == "ok"
