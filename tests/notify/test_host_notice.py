"""What the done screen may say about who was told of a visitor (KioskServices.host_notice),
checked against what the real notifier did with a real SMTP server on loopback: "sending"
until a message is accepted, then "sent" by its channel; "retrying" while the channel is
down; reception when the host has no channel; and "nobody" when neither has one, with an
alert on the guard's screen so that someone really is told. Also the guard's alerts for an
invitation shown twice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from local_servers import Mailbox, free_port

from kiosk.app import Kiosk, KioskServices
from kiosk.devices.printers import FakePrinter
from kiosk.domain.errors import TokenRejected
from kiosk.notify import Notifier
from kiosk.services.checkin import Collected, VisitorDetails, WalkIn
from kiosk.ui.services import HostNotice

PHOTO = Collected(photo_jpeg=b"\xff\xd8\xff\xe0 a jpeg")


@pytest.fixture
def services(kiosk: Kiosk) -> Iterator[KioskServices]:
    built = KioskServices(kiosk, printer=FakePrinter())
    yield built
    built.close()


def walk_in(kiosk: Kiosk, host_ref: str, name: str = "Carol White") -> str:
    result = kiosk.engine.check_in_walk_in(WalkIn(VisitorDetails(name), host_ref), PHOTO)
    assert result.visit_ref
    return result.visit_ref


def test_told_only_once_the_mail_was_accepted(
    kiosk: Kiosk, hosts: dict[str, str], notifier: Notifier, services: KioskServices,
    smtp: Mailbox,
) -> None:  # fmt: skip
    visit = walk_in(kiosk, hosts["李娜"])
    assert services.host_notice(visit) == HostNotice("sending", "host", "李娜", "email")
    notifier.tick()
    assert smtp.to("li.na@tower.test")
    assert services.host_notice(visit) == HostNotice("sent", "host", "李娜", "email")


def test_a_channel_down_is_retrying_not_told(
    kiosk: Kiosk, hosts: dict[str, str], notifier: Notifier, services: KioskServices
) -> None:
    dead = Mailbox(free_port()).url("li.na@tower.test")  # nothing listens there
    kiosk.directory.add_host("李娜", email="li.na@tower.test", channels=[dead])
    visit = walk_in(kiosk, hosts["李娜"])
    notifier.tick()
    assert services.host_notice(visit) == HostNotice("retrying", "host", "李娜", "email")


def test_a_host_without_a_channel_is_stood_in_for_by_reception(
    kiosk: Kiosk, hosts: dict[str, str], notifier: Notifier, services: KioskServices,
    smtp: Mailbox,
) -> None:  # fmt: skip
    host, _ = kiosk.directory.add_host("Nobody Reachable", channels=[])
    visit = walk_in(kiosk, host.ref)
    assert services.host_notice(visit) == HostNotice("sending", "reception", "", "email")
    notifier.tick()
    assert smtp.to("reception@tower.test")
    assert services.host_notice(visit) == HostNotice("sent", "reception", "", "email")
    assert [a.kind for a in services.recent_alerts()] == []


@pytest.mark.parametrize("config_extra", ["[notifications]\nreception = []\n"])
def test_nobody_to_tell_alerts_the_guard(
    kiosk: Kiosk, notifier: Notifier, services: KioskServices
) -> None:
    host, _ = kiosk.directory.add_host("Nobody Reachable", channels=[])
    visit = walk_in(kiosk, host.ref, name="Dora Door")
    assert services.host_notice(visit) == HostNotice("nobody")
    notifier.tick()  # planned, with nobody to send to: still nobody, never "sent"
    assert services.host_notice(visit) == HostNotice("nobody")
    [alert] = services.recent_alerts()
    assert (alert.kind, alert.subject) == ("nobody_to_notify", "Dora Door")


def test_an_invitation_shown_again_alerts_the_guard_once(
    kiosk: Kiosk, hosts: dict[str, str], services: KioskServices
) -> None:
    from tests_support import MONDAY_10AM

    signer = kiosk.keys.invitation_signer()
    token = kiosk.directory.invite(
        signer, visitor_name="Zhang Wei", host="Maria Schmidt", at=MONDAY_10AM
    ).token
    kiosk.engine.check_in_with_invitation(token, PHOTO)
    for _ in range(3):
        with pytest.raises(TokenRejected):
            services.preview_invitation(token)
    [alert] = services.recent_alerts()
    assert (alert.kind, alert.subject) == ("invitation_used_twice", "Zhang Wei")
