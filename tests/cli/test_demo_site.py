"""The demo site `make run` makes (`kiosk init --demo`, `kiosk demo-seed`): open at any
hour, and every notification addressed to the demo's mailbox."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from tests_support import SHANGHAI

from kiosk.app import init_kiosk, open_kiosk
from kiosk.cli import main
from kiosk.demo import DEMO_RECEPTION, DEMO_SECURITY, HOSTS
from kiosk.demo_mail import demo_mail_url
from kiosk.domain.clock import ManualClock
from kiosk.services.checkin import Collected, VisitorDetails, WalkIn
from kiosk.storage.models import Host, Visit

SATURDAY_9PM = datetime(2026, 11, 28, 21, 0, tzinfo=SHANGHAI)


def make_demo(folder: Path) -> Path:
    config = folder / "kiosk.toml"
    for command in (["init", "--demo"], ["demo-seed"]):
        assert main([*command, "--config", str(config)]) == 0
    return config


def test_the_demo_admits_a_walk_in_on_a_saturday_evening_and_its_config_says_why(
    tmp_path: Path,
) -> None:
    config = make_demo(tmp_path)
    kiosk = open_kiosk(config, clock=ManualClock(SATURDAY_9PM))
    try:
        li_na = Host.get(Host.email == "li.na@example.com")
        result = kiosk.engine.check_in_walk_in(
            WalkIn(VisitorDetails("Carol White", company="Initech"), li_na.ref),
            Collected(photo_jpeg=b"\xff\xd8\xff\xe0 a face"),
        )
        assert not Visit.get(Visit.ref == result.visit_ref).after_hours
        assert kiosk.engine.is_open()
    finally:
        kiosk.close()
    text = config.read_text(encoding="utf-8")
    assert 'after_hours = "open"' in text
    assert "# The demo admits every visitor at any hour" in text


def test_the_demo_hosts_reception_and_security_are_all_mailed_to_the_demo_mailbox(
    tmp_path: Path,
) -> None:
    kiosk = open_kiosk(make_demo(tmp_path))
    try:
        channels = {host.email: json.loads(host.channels) for host in Host.select()}
        reception = [url.get_secret_value() for url in kiosk.config.notifications.reception]
        security = [url.get_secret_value() for url in kiosk.config.notifications.security]
    finally:
        kiosk.close()
    assert channels == {email: [demo_mail_url(email)] for _, email, *_ in HOSTS}
    assert reception == [demo_mail_url(DEMO_RECEPTION)]
    assert security == [demo_mail_url(DEMO_SECURITY)]


def test_a_demo_made_before_the_demo_settings_gets_them_and_an_edited_config_is_kept(
    tmp_path: Path,
) -> None:
    untouched, edited = tmp_path / "untouched" / "kiosk.toml", tmp_path / "edited" / "kiosk.toml"
    for config in (untouched, edited):
        init_kiosk(config)
    edited.write_text(edited.read_text() + '\n[notifications]\nreception = ["json://x"]\n')
    before = edited.read_text()

    assert init_kiosk(untouched, demo=True).updated == [str(untouched)]
    assert init_kiosk(edited, demo=True).updated == []

    assert 'after_hours = "open"' in untouched.read_text()
    assert edited.read_text() == before
