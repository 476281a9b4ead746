"""A real SMTP server (aiosmtpd) and a JSON webhook receiver on loopback, standing in for
the hosts' mailboxes and the chat channels; a kiosk whose channels point at them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from local_servers import Mailbox, Webhook, smtp_server, webhook_server

from kiosk.app import Kiosk, build_notifier
from kiosk.notify import Notifier

LINK_BASE = "https://office.test/l/"


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with webhook_server() as hook:
        yield hook


@pytest.fixture
def config_extra(smtp: Mailbox, webhook: Webhook) -> str:
    return f"""
[notifications]
reception = ["{smtp.url("reception@tower.test")}"]
security = ["{webhook.url("security")}"]
vip = ["{webhook.url("vip")}"]
escalation_seconds = 60
language = "en"
"""


@pytest.fixture
def hosts(kiosk: Kiosk, smtp: Mailbox) -> dict[str, str]:
    """The suite's hosts, with their mail going to the local SMTP server; Maria's delegate
    is Amy."""
    directory = kiosk.directory
    made = {}
    for name, address, department, delegate in [
        ("Amy Assistant", "amy@tower.test", "Engineering", None),
        ("Maria Schmidt", "maria@tower.test", "Engineering", "amy@tower.test"),
        ("李娜", "li.na@tower.test", "行政部", None),
    ]:
        host, _ = directory.add_host(
            name,
            email=address,
            department=department,
            delegate=delegate,
            channels=[smtp.url(address)],
        )
        made[name] = host.ref
    return made


@pytest.fixture
def notifier(kiosk: Kiosk, hosts: dict[str, str]) -> Notifier:
    return build_notifier(kiosk, link_base_url=LINK_BASE)
