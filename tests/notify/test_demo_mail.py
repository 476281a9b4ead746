"""The demo's mailbox (`kiosk demo-mail`): a notification sent through the real notifier
and apprise to it becomes one private .eml file."""

from __future__ import annotations

import email
import email.policy
import stat
from pathlib import Path

import pytest
from local_servers import free_port

from kiosk.app import Kiosk, build_notifier
from kiosk.demo_mail import demo_mail_url, start_demo_mail
from kiosk.domain.values import Purpose
from kiosk.services.checkin import Collected, VisitorDetails, WalkIn


@pytest.fixture
def config_extra() -> str:
    return '[notifications]\nlanguage = "en"\n'


def test_a_check_in_notification_lands_in_the_demo_mailbox_as_one_private_eml_file(
    kiosk: Kiosk, tmp_path: Path
) -> None:
    folder, port = tmp_path / "mail", free_port()
    host, _ = kiosk.directory.add_host(
        "李娜", email="li.na@example.com", channels=[demo_mail_url("li.na@example.com", port)]
    )
    mailbox = start_demo_mail(folder, port)
    try:
        kiosk.engine.check_in_walk_in(
            WalkIn(VisitorDetails("Carol White", company="Initech"), host.ref, Purpose.INQUIRY),
            Collected(photo_jpeg=b"\xff\xd8\xff\xe0 a face"),
        )
        report = build_notifier(kiosk).tick()
    finally:
        mailbox.stop()

    assert (report.sent, report.failed) == (1, 0)
    [kept] = folder.iterdir()
    assert kept.suffix == ".eml" and "-li.na@example.com-" in kept.name
    assert "Carol-White" in kept.name
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    message = email.message_from_bytes(kept.read_bytes(), policy=email.policy.default)
    assert message["To"] == "li.na@example.com"
    assert "Carol White (Initech)" in message["Subject"]
