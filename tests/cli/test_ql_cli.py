"""`kiosk print-test` and `kiosk doctor` with a Brother QL chosen in kiosk.toml (the fake)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SITE = """
[site]
name = "Label Tower"

[devices.printer]
kind = "brother_ql"
ql_model = "QL-800"
ql_label = "62x100"
ql_connection = "fake"
timeout_s = 3
"""


def kiosk(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "--config", str(config), *args],
        capture_output=True,
        text=True,
        cwd=config.parent,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )


def test_print_test_and_doctor_know_the_ql(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(SITE, encoding="utf-8")
    assert kiosk(config, "init").returncode == 0
    printed = kiosk(config, "--json", "print-test")
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout)["printer"] == "fake Brother QL-800 (DK-11202)"
    [label] = (tmp_path / "data" / "paper").glob("label-*.png")
    from PIL import Image

    assert Image.open(label).size == (696, 1109)  # the die-cut label, as the QL printed it
    doctor = kiosk(config, "--json", "doctor")
    findings = {f["name"]: f for f in json.loads(doctor.stdout)}
    assert findings["printer fake Brother QL-800 (DK-11202)"]["status"] == "ok", findings
    assert findings["printer fake Brother QL-800 (DK-11202)"]["detail"] == "ready"
    assert findings["printer brother_ql"]["detail"] == "QL-800, label 62x100"
