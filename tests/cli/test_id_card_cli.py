"""`kiosk id-card` and `kiosk demo-card`, as an installer runs them: what is printed of a
card is what the kiosk keeps (never the full number, the address or the photo), and the
exit code says whether a valid card was read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.devices.fake_id_reader import DEMO_CARDS

REPO = Path(__file__).resolve().parents[2]
SITE = """
[site]
name = "Test Tower"
timezone = "Asia/Shanghai"

[devices.id_reader]
kind = "fake"
fake_read_delay_s = 0.0
"""


def kiosk(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=60,
    )


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("idcard") / "kiosk.toml"
    path.write_text(SITE, encoding="utf-8")
    return path


def test_a_card_read_once_prints_only_what_is_kept(config: Path) -> None:
    done = kiosk(config, "id-card", "--card", "resident", "--wait", "5", "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["read"] and shown["valid"] and shown["kind"] == "cn_resident_card"
    assert (shown["name"], shown["number_last4"]) == ("刘洋", "0018")
    assert shown["sam_id"] == "05.01-20261207-0000012345-0000678901"
    card = DEMO_CARDS["resident"]
    for secret in (card.number, card.address, card.address[:6]):
        assert secret not in done.stdout and secret not in done.stderr


def test_invalid_expired_or_absent_cards_exit_non_zero(config: Path) -> None:
    expired = kiosk(config, "id-card", "--card", "expired", "--wait", "5")
    assert expired.returncode == 1 and "expired: True" in expired.stdout
    bad = kiosk(config, "id-card", "--card", "bad_check", "--wait", "5")
    assert bad.returncode == 1 and "check_character" in bad.stdout
    nothing = kiosk(config, "id-card", "--wait", "0.5")
    assert nothing.returncode == 1 and "no card" in nothing.stdout


def test_printed_fields_in_words(config: Path) -> None:
    done = kiosk(config, "id-card", "--card", "permit", "--printed", "--language", "zh_Hant")
    assert done.returncode == 0, done.stderr
    assert "sex: 男" in done.stdout and "nationality: 中國" in done.stdout


def test_demo_card_orders_the_running_kiosk_s_fake(config: Path) -> None:
    assert kiosk(config, "demo-card", "lay", "permit").returncode == 0
    tray = config.parent / "data" / "id-card-tray" / "card.json"
    assert json.loads(tray.read_text(encoding="utf-8")) == {"card": "permit"}
    assert kiosk(config, "demo-card", "fault", "garbage").returncode == 0
    assert json.loads(tray.read_text(encoding="utf-8"))["fault"] == "garbage"
    unknown = kiosk(config, "demo-card", "lay", "passport")
    assert unknown.returncode == 1 and "unknown card" in unknown.stderr
