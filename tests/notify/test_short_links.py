"""Links in text messages are at most 40 characters (kiosk.notify.short_links): an SMS
channel (apprise's Twilio plugin, as a site configures it) gets `…/s/<code>`, and the
office learns which link the code names through an outbox event; e-mail keeps the full
link. The office's side is in tests/office/test_links_forwarding.py."""

from __future__ import annotations

import json
import re

from conftest import LINK_BASE
from local_servers import Mailbox, text_of

from kiosk.app import Kiosk, build_notifier
from kiosk.domain.values import Purpose
from kiosk.notify import LinkAction
from kiosk.notify.channels import Message, SendResult, is_text_message
from kiosk.notify.short_links import MAX_LENGTH, SHORT_KIND, is_code, short_base
from kiosk.services.checkin import Collected, VisitorDetails, WalkIn
from kiosk.storage.models import OutboxEvent

TWILIO = "twilio://AC" + "a" * 32 + ":" + "b" * 32 + "@15551234567/15557654321"


class TextGateway:
    """The SMS gateway's side: what it was asked to send, accepted."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Message]] = []

    def send(self, url: str, message: Message) -> SendResult:
        self.sent.append((url, message))
        return SendResult(True)


def test_apprise_says_which_channels_are_text_messages(smtp: Mailbox) -> None:
    assert is_text_message(TWILIO)
    assert not is_text_message(smtp.url("maria@tower.test"))
    assert not is_text_message("json://localhost:8000/hook")
    assert not is_text_message("not a url")


def test_an_sms_gets_a_short_link_and_the_office_is_told_what_it_names(
    kiosk: Kiosk, hosts: dict[str, str], smtp: Mailbox
) -> None:
    host, _ = kiosk.directory.add_host("王芳", email="wang.fang@tower.test", channels=[TWILIO])
    gateway = TextGateway()
    notifier = build_notifier(kiosk, sender=gateway, link_base_url=LINK_BASE)
    visit = kiosk.engine.check_in_walk_in(
        WalkIn(VisitorDetails("Carol White"), host.ref, purpose=Purpose.INQUIRY),
        Collected(photo_jpeg=b"\xff\xd8\xff\xe0 a face"),
    ).visit_ref

    notifier.tick()

    [message] = [m for u, m in gateway.sent if u == TWILIO]
    links = re.findall(r"https?://\S+", message.body)
    assert links, message.body
    assert all(len(link) <= MAX_LENGTH for link in links), links
    assert "v2." not in message.body  # no full token in the text
    codes = [link.rsplit("/", 1)[1] for link in links]
    assert all(link.startswith(short_base(LINK_BASE) + "s/") for link in links)
    assert all(is_code(code) for code in codes)
    events = {
        e.subject_ref: json.loads(e.payload)
        for e in OutboxEvent.select().where(OutboxEvent.kind == SHORT_KIND)
    }
    assert set(events) == set(codes)
    claim = notifier.links.verify(events[codes[0]]["token"])  # the full, signed link
    assert (claim.action, claim.visit_ref) == (LinkAction.ACKNOWLEDGE, visit)


def test_email_keeps_the_full_link(kiosk: Kiosk, hosts: dict[str, str], smtp: Mailbox) -> None:
    notifier = build_notifier(kiosk, link_base_url=LINK_BASE)
    kiosk.engine.check_in_walk_in(
        WalkIn(VisitorDetails("Carol White"), hosts["Maria Schmidt"], purpose=Purpose.INQUIRY),
        Collected(photo_jpeg=b"\xff\xd8\xff\xe0 a face"),
    )
    notifier.tick()
    [mail] = smtp.to("maria@tower.test")
    assert LINK_BASE + "v2." in text_of(mail)
    assert OutboxEvent.select().where(OutboxEvent.kind == SHORT_KIND).count() == 0
