"""`kiosk scan` says what a driving licence's PDF417 is, in JSON and in words: the document's
own kind (aamva) once hid that it was an identity document, and the text said "not a kiosk
code" (found by make test-arm64's scan step)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import pytest

from kiosk.cli import main
from kiosk.devices.synthetic import render_code, synth_frame

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "devices"))
from devices_helpers import CALIFORNIA_ELEMENTS, aamva_payload


@pytest.fixture
def licence_frame(tmp_path: Path) -> Path:
    frame = tmp_path / "licence.png"
    payload = aamva_payload(CALIFORNIA_ELEMENTS)
    cv2.imwrite(str(frame), synth_frame(render_code(payload, "pdf417", 2), size=(1280, 720)))
    return frame


def test_a_licence_is_an_identity_document(
    tmp_path: Path, licence_frame: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(tmp_path / "site" / "kiosk.toml")
    assert main(["init", "--config", config]) == 0
    capsys.readouterr()

    assert main(["--json", "scan", "--config", config, str(licence_frame)]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["format"], row["kind"], row["kind_of_document"]) == (
        "pdf417", "identity_document", "aamva"
    )  # fmt: skip
    assert row["document_number_last4"] == "4567" and "D1234567" not in json.dumps(row)

    assert main(["scan", "--config", config, str(licence_frame)]) == 0
    said = capsys.readouterr().out
    assert "aamva Jane Elizabeth Montgomery, number ending 4567" in said
    assert "not a kiosk code" not in said
