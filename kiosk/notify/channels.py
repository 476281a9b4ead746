"""Sending one message to one recipient URL, through apprise.

apprise speaks e-mail (SMTP), SMS gateways, Slack, Microsoft Teams, DingTalk, WeCom,
Feishu, plain JSON webhooks and a hundred more; the kiosk never writes those clients.
One `Apprise` object per URL, so that the notifier learns the outcome of each recipient
on its own and can retry only the ones that failed.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    name: str
    mimetype: str
    content: bytes


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    attachments: list[Attachment] = field(default_factory=list)


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: str = ""


def channel_hash(url: str) -> str:
    """A stable name for a recipient URL that does not reveal its secrets."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:24]


#: apprise's body limit of an SMS (its Twilio, SNS, ClickSend ... plugins say 160).
TEXT_MESSAGE_LIMIT = 160


def is_text_message(url: str) -> bool:
    """Whether `url` is a channel of short text messages (SMS-like), by apprise's own
    limit for its body; an URL apprise cannot read is not."""
    import apprise

    service = apprise.Apprise.instantiate(url)
    return bool(service) and 0 < int(getattr(service, "body_maxlen", 0)) <= TEXT_MESSAGE_LIMIT


class Sender(Protocol):
    def send(self, url: str, message: Message) -> SendResult:
        """Deliver `message` to `url`; never raises for a channel's failure."""
        ...


class AppriseSender:
    """The real channels. Attachments go only to channels that take them (e-mail, most
    chat webhooks); the others get the text alone."""

    def send(self, url: str, message: Message) -> SendResult:
        import apprise
        from apprise.attachment.memory import AttachMemory

        service = apprise.Apprise()
        if not service.add(url):
            return SendResult(False, "not a valid apprise URL")
        attach = None
        if message.attachments and getattr(service[0], "attachment_support", False):
            attach = apprise.AppriseAttachment()
            for item in message.attachments:
                attach.add(
                    AttachMemory(content=item.content, name=item.name, mimetype=item.mimetype)
                )
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
            try:
                ok = bool(
                    service.notify(
                        body=message.body,
                        title=message.title,
                        body_format=apprise.NotifyFormat.TEXT,
                        attach=attach,
                    )
                )
            except Exception as err:  # a plugin's bug must not stop the other deliveries
                log.exception("apprise failed")
                return SendResult(False, f"{type(err).__name__}: {err}")
        if ok:
            return SendResult(True)
        text = captured.getvalue().strip() if hasattr(captured, "getvalue") else ""
        lines = [line for line in text.splitlines() if line.strip()]
        return SendResult(False, (lines[-1] if lines else "the channel refused the message")[:500])
