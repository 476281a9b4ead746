"""`kiosk case open|show|follow-up --json`, run as a subprocess as a script would (issue 19):
a case opened twice with one submission key is one case, bad input exits 1 with the
reason, the receipt's token or URL shows the case, and a follow-up before resolution is
refused with the kiosk's message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SITE = """
[site]
name = "CLI Tower"
timezone = "Asia/Shanghai"

[office]
url = "https://office.example"

[kiosk]
station = "B"
"""


def kiosk(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "--config", str(config), *args],
        capture_output=True, text=True, cwd=config.parent, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("case-cli") / "kiosk.toml"
    path.write_text(SITE, encoding="utf-8")
    assert kiosk(path, "init").returncode == 0
    return path


OPEN = ("case", "open", "--kind", "complaint", "--description", "Noise after 22:00 from 5-0101",
        "--unit", "5-0102", "--name", "王芳", "--phone", "13700000000", "--submission", "cli-1")  # fmt: skip


def test_open_show_and_follow_up(config: Path) -> None:
    first = kiosk(config, "--json", *OPEN)
    assert first.returncode == 0, first.stderr
    opened = json.loads(first.stdout)
    assert opened["number"].startswith("C-") and opened["number"].endswith("-B0001")
    assert opened["receipt_qr"] == f"https://office.example/c/{opened['receipt_token']}"
    assert opened["unit_known"] is False and opened["new"] is True
    again = json.loads(kiosk(config, "--json", *OPEN).stdout)
    assert (again["number"], again["new"]) == (opened["number"], False)

    shown = kiosk(config, "--json", "case", "show", opened["receipt_qr"])
    assert shown.returncode == 0, shown.stderr
    view = json.loads(shown.stdout)
    assert (view["state"], view["can_follow_up"], view["number"]) == (
        "received", False, opened["number"],
    )  # fmt: skip
    assert view["opened_at"].endswith("+08:00")

    refused = kiosk(config, "case", "follow-up", opened["ref"], "satisfied")
    assert refused.returncode == 1 and "This case is not resolved yet" in refused.stderr


def test_bad_input_exits_1_with_the_reason(config: Path) -> None:
    done = kiosk(config, "case", "open", "--kind", "repair", "--category", "water",
                 "--description", "", "--name", "A", "--phone", "1")  # fmt: skip
    assert done.returncode == 1 and "description: is required" in done.stderr
    forged = kiosk(config, "case", "show", "https://office.example/c/AAAAAAAAAAAAAAAA")
    assert forged.returncode == 1 and "rejected" in forged.stderr
