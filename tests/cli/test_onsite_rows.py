"""`kiosk onsite` and `kiosk rollcall` on a database holding odd rows, as a pull wrote them
before sync checked changes: an on-site visit without its arrival time or host, and names
holding ESC, CR, NUL and C1 controls. Both commands succeed, show "–" for what is missing,
and never write a raw control character to the terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from kiosk.storage.db import open_database
from kiosk.storage.models import Visit, Visitor, database

REPO = Path(__file__).resolve().parents[2]
SITE = '[site]\nname = "Roll Call Tower"\ntimezone = "Asia/Shanghai"\n'
HOSTILE_NAMES = {
    "1000000000000001": "Eve\x1b[2J\x1b]0;owned\x07",
    "1000000000000002": "Carriage\rReturn",
    "1000000000000003": "C1\u009b31mRed\x7f",
}
#: Bytes a terminal would act on: C0 (but newline), DEL, and C1 in UTF-8 (0xC2 0x80-0x9F).
C1_IN_UTF8 = [bytes([0xC2, code]) for code in range(0x80, 0xA0)]


def run(config: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "--config", str(config), *args],
        capture_output=True,
        cwd=config.parent,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done


def assert_terminal_safe(output: bytes) -> None:
    assert not [b for b in output if (b < 0x20 and b != 0x0A) or b == 0x7F], output
    assert not any(sequence in output for sequence in C1_IN_UTF8), output


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "site" / "kiosk.toml"
    path.parent.mkdir()
    path.write_text(SITE, encoding="utf-8")
    run(path, "init")
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    db = open_database(path.parent / "data" / "kiosk.sqlite3")
    try:
        with database.atomic():
            rows = {"0000000000000000": "Nora Nulltime", **HOSTILE_NAMES}
            for ref, name in rows.items():
                Visit.create(
                    ref=ref,
                    visitor=Visitor.create(name=name, created_at=now),
                    host=None,
                    state="checked_in",
                    arrived_at=None,  # as a pulled row could be before sync checked them
                    kiosk_id="kiosk-elsewhere",
                    created_at=now,
                    updated_at=now,
                )
    finally:
        db.close()
    return path


def test_onsite_lists_every_row_with_a_dash_and_no_control_bytes(config: Path) -> None:
    output = run(config, "onsite").stdout
    assert_terminal_safe(output)
    text = output.decode()
    assert "4 on site" in text
    [nora] = [line for line in text.splitlines() if "Nora Nulltime" in line]
    assert nora.startswith("–") and "host –" in nora
    assert "Eve\ufffd[2J\ufffd]0;owned\ufffd" in text
    assert "Carriage\ufffdReturn" in text


def test_onsite_json_escapes_every_control_character(config: Path) -> None:
    output = run(config, "--json", "onsite").stdout
    assert_terminal_safe(output)
    entries = json.loads(output)
    assert {e["visit_ref"]: e["visitor_name"] for e in entries} == {
        "0000000000000000": "Nora Nulltime",
        **HOSTILE_NAMES,
    }  # the data itself is exact
    assert all(e["arrived_at"] is None for e in entries)


def test_rollcall_prints_every_row(config: Path) -> None:
    done = run(config, "--json", "rollcall")
    assert_terminal_safe(done.stdout + done.stderr)
    assert json.loads(done.stdout)["people"] == 4
    [paper] = (config.parent / "data" / "paper").glob("*.png")
    assert Image.open(paper).height > 400
