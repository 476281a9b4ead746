"""The doctor says when Pillow cannot lay text out with Raqm: on a Pi without libfribidi0 a
badge is kerned unlike the same badge elsewhere (make test-arm64 found it) and Arabic or
Indic names print unshaped."""

from __future__ import annotations

import pytest
from PIL import features

from kiosk.doctor import check_text_layout


def test_raqm_found_is_ok() -> None:
    finding = check_text_layout()
    assert finding.status == ("ok" if features.check("raqm") else "warn")


def test_no_raqm_is_a_warning_with_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(features, "check", lambda name: name != "raqm")
    finding = check_text_layout()
    assert finding.status == "warn" and "libfribidi0" in finding.fix
