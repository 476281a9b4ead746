"""Who can be told, and how: the channel URLs of a host and of the site's audiences.

Read the same way by the check-in engine (is anybody reachable at all? if not, the guard's
screen is told), by the notifier (where to send) and by the touchscreen's adapter (which
channel told the host, so the done screen says what really happened).

A channel is an Apprise URL; `channel_kind` names it for people ("email", "wecom", ...)
from its scheme alone, so nothing secret in the URL is ever shown.
"""

from __future__ import annotations

import json
from typing import Literal

from kiosk.config import KioskConfig
from kiosk.storage.models import Host

ChannelKind = Literal["email", "wecom", "dingtalk", "feishu", "sms", "chat", "webhook", ""]

#: Apprise schemes by what a visitor would call them. Anything else is "a message".
CHANNEL_KINDS: dict[str, ChannelKind] = {
    "mailto": "email",
    "mailtos": "email",
    "wecombot": "wecom",
    "wxteams": "wecom",
    "dingtalk": "dingtalk",
    "feishu": "feishu",
    "lark": "feishu",
    "twilio": "sms",
    "sns": "sms",
    "clicksend": "sms",
    "msg91": "sms",
    "slack": "chat",
    "msteams": "chat",
    "tgram": "chat",
    "mmost": "chat",
    "matrix": "chat",
    "json": "webhook",
    "jsons": "webhook",
    "form": "webhook",
    "forms": "webhook",
    "xml": "webhook",
    "xmls": "webhook",
}


def host_urls(host: Host | None) -> list[str]:
    """The channels of an active host, in the order they were saved."""
    if host is None or not host.active:
        return []
    try:
        urls = json.loads(host.channels or "[]")
    except ValueError:
        return []
    return [str(url) for url in urls if str(url).strip()]


def audience_urls(config: KioskConfig, audience: str) -> list[str]:
    """The channels of `[notifications].<audience>` (reception, security, vip), or of
    `[cases] duty` for "duty"."""
    secrets = (
        config.cases.duty if audience == "duty" else getattr(config.notifications, audience, [])
    )
    return [secret.get_secret_value() for secret in secrets if secret.get_secret_value()]


def channel_kind(url: str) -> ChannelKind:
    scheme = url.split("://", 1)[0].strip().lower() if "://" in url else ""
    return CHANNEL_KINDS.get(scheme, "")
