"""A forwarded notification as an event: what the office accepts of it, and what it keeps.

A kiosk hands a message it could not deliver to the office as an event `notification.forward`
(kiosk.notify.notifier). Its payload is checked with the event (kiosk.office.event_schema);
ingest (kiosk.office.intake) records it once as a ForwardedNotification row (`forward_row`)
and keeps in the event log only its refs (`stored_forward_payload`), never the message. The
office's forwarder (kiosk.office.forwarding) sends the row.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime
from typing import Any

from kiosk.domain.errors import InvalidInput
from kiosk.notify.kinds import DELIVERY_KINDS, FORWARD_KIND
from kiosk.office.models import Kiosk

__all__ = ["FORWARD_KIND", "SITE_AUDIENCES", "forward_row", "stored_forward_payload",
           "validate_forward_payload"]  # fmt: skip

SITE_AUDIENCES = ("reception", "security", "vip")
MAX_TITLE = 500
MAX_BODY = 20_000
MAX_ATTACHMENTS = 3
MAX_ATTACHMENT_BYTES = 1024 * 1024
_HASH = re.compile(r"^[0-9a-f]{24}$")


def validate_forward_payload(payload: dict[str, Any]) -> None:
    """Refuse a forwarded notification the office could not send as it is."""

    def text(name: str, limit: int, required: bool = True) -> str:
        value = payload.get(name)
        if not isinstance(value, str) or len(value) > limit or (required and not value):
            raise InvalidInput(f"payload.{name}", f"must be text of at most {limit} characters")
        return value

    text("delivery", 200)
    if text("kind", 32) not in DELIVERY_KINDS:
        raise InvalidInput("payload.kind", "is not a notification kind")
    audience = text("audience", 80)
    if audience not in SITE_AUDIENCES and not (audience.startswith("host:") and audience[5:]):
        raise InvalidInput("payload.audience", "must be host:<ref>, reception, security or vip")
    if not _HASH.match(text("channel_hash", 24)):
        raise InvalidInput("payload.channel_hash", "must be a channel hash")
    text("title", MAX_TITLE)
    text("body", MAX_BODY)
    attachments = payload.get("attachments", [])
    if not isinstance(attachments, list) or len(attachments) > MAX_ATTACHMENTS:
        raise InvalidInput("payload.attachments", f"at most {MAX_ATTACHMENTS}")
    for item in attachments:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(key), str) for key in ("name", "mimetype", "content")
        ):
            raise InvalidInput("payload.attachments", "each needs name, mimetype and content")
        try:
            size = len(base64.b64decode(item["content"], validate=True))
        except (binascii.Error, ValueError) as err:
            raise InvalidInput("payload.attachments", "content must be base64") from err
        if size > MAX_ATTACHMENT_BYTES or len(item["name"]) > 100 or len(item["mimetype"]) > 100:
            raise InvalidInput("payload.attachments", "an attachment is too large")


def forward_row(
    kiosk: Kiosk, event_id: str, payload: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The ForwardedNotification row of a validated forward event."""
    return {
        "site": kiosk.site_id,
        "kiosk": kiosk.id,
        "event_id": event_id,
        "delivery_key": payload["delivery"],
        "kind": payload["kind"],
        "audience": payload["audience"],
        "channel_hash": payload["channel_hash"],
        "title": payload["title"],
        "body": payload["body"],
        "attachments": json.dumps(payload.get("attachments", [])),
        "next_attempt_at": now,
        "created_at": now,
    }


def stored_forward_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """What the event log keeps of a forward: the refs, not the message."""
    return {key: payload[key] for key in ("delivery", "kind", "audience", "channel_hash")}
