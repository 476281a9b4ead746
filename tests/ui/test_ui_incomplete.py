"""The real `kiosk run` when first-boot provisioning stopped: the "installation incomplete"
screen (kiosk.ui.incomplete) instead of the kiosk, up for systemd (READY=1), with the
provisioning error on it. The screenshot is in test-artifacts/screenshots/."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from PIL import ImageGrab
from window import SCREENSHOTS, start_kiosk_run

ERROR = "/boot/firmware/kiosk-site.conf:13: unknown key PRINTR_KIND (known: SITE_NAME ...)"


def test_a_stopped_provisioning_shows_installation_incomplete(
    tmp_path: Path, xvfb_display: str, font_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    note = tmp_path / "provision-failed"
    note.write_text(ERROR + "\n", encoding="utf-8")
    monkeypatch.setenv("KIOSK_PROVISION_FAILED", str(note))
    # No kiosk.toml and no database: the state a typo leaves on a first boot.
    process = start_kiosk_run(tmp_path, xvfb_display, font_cache, output=True)
    try:
        assert process.poll() is None  # READY=1 was sent, and it keeps running
        reds = 0
        for _ in range(40):  # READY=1 comes at the app's start, the first frame just after
            picture = ImageGrab.grab(xdisplay=xvfb_display).convert("RGB")
            reds = sum(
                1 for r, g, b in picture.get_flattened_data() if r > 180 and g < 90 and b < 80
            )
            if reds > 500:
                break
            time.sleep(0.25)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        picture.save(SCREENSHOTS / "installation-incomplete.png")
        assert reds > 500, "no red headline on the screen"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "installation incomplete: " + ERROR in output, output
    assert "Traceback" not in output, output
