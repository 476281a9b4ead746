"""`kiosk delivery log|pickup|list|return|reprint --json`, run as a subprocess as an admin
would, on a real kiosk folder with the fake printer the config names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SITE = '[site]\nname = "Parcel Tower"\n\n[devices.printer]\nkind = "fake"\n'


def run(folder: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "--config", str(folder / "kiosk.toml"), *args],
        capture_output=True,
        text=True,
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert (done.returncode == 0) is ok, done.stderr + done.stdout
    return done


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("delivery-cli")
    (folder / "kiosk.toml").write_text(SITE, encoding="utf-8")
    run(folder, "init")
    run(folder, "hosts", "add", "李娜", "--email", "li.na@example.com", "--department", "行政部")
    return folder


def test_log_print_collect_and_list(folder: Path) -> None:
    logged = json.loads(
        run(folder, "--json", "delivery", "log", "--host", "李娜", "--carrier", "sf",
            "--items", "2", "--print").stdout
    )  # fmt: skip
    assert logged["recipient"] == "李娜" and logged["label"] == "done"
    assert "token" not in logged and len(logged["pickup_code"]) == 6
    assert list((folder / "data" / "paper").iterdir())  # the fake printer's paper
    waiting = json.loads(run(folder, "--json", "delivery", "list").stdout)
    assert [p["parcel_ref"] for p in waiting] == [logged["parcel_ref"]]
    done = json.loads(
        run(folder, "--json", "delivery", "pickup", logged["pickup_code"], "--by", "Li Na").stdout
    )
    assert done["state"] == "collected" and done["method"] == "code"
    again = run(folder, "delivery", "pickup", logged["pickup_code"], "--by", "X", ok=False)
    assert "already collected by Li Na" in again.stderr
    assert json.loads(run(folder, "--json", "delivery", "list").stdout) == []


def test_bad_input_gets_a_clear_message(folder: Path) -> None:
    unknown = run(folder, "delivery", "log", "--company", "Acme", "--carrier", "pigeon", ok=False)
    assert "unknown carrier 'pigeon'" in unknown.stderr
    long = run(folder, "delivery", "log", "--company", "Acme", "--carrier", "sf",
               "--waybill", "9" * 200, ok=False)  # fmt: skip
    assert "200 characters" in long.stderr
    forged = run(folder, "delivery", "pickup", "AAAABBBBCCCC", "--by", "X", ok=False)
    assert "forged" in forged.stderr


def test_the_demo_has_parcels_waiting_once(tmp_path: Path) -> None:
    (tmp_path / "kiosk.toml").write_text(SITE, encoding="utf-8")
    run(tmp_path, "init")
    run(tmp_path, "demo-seed")
    run(tmp_path, "demo-seed")  # run again: no more parcels
    waiting = json.loads(run(tmp_path, "--json", "delivery", "list").stdout)
    assert sorted(p["kind"] for p in waiting) == ["documents", "food", "parcel"]
