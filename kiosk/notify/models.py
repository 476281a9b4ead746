"""The notifier's own tables: what it planned, what it delivered, which links were used.

They live in the kiosk's database but belong to this package. Like every other table they
are created only by the kiosk's versioned migrations (kiosk/storage/migrations.py, versions
3 and 5), so the schema is the same whichever command opened the database first;
tests/storage/test_storage.py checks the migrated schema against these models.

No personal data is copied here: messages are rendered from the visit rows at send time, so
the retention purge of those rows covers notifications too, and recipient URLs (which hold
passwords and webhook secrets) are stored only as hashes.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from peewee import AutoField, CharField, IntegerField, TextField

from kiosk.dbkit.fields import UtcTimestampField

# channel_hash lives with the channels (the office uses it without these tables); kept
# importable from here for the kiosk's callers.
from kiosk.notify.channels import channel_hash as channel_hash
from kiosk.storage.models import BaseModel


class NotificationEvent(BaseModel):
    """One trigger turned into deliveries: an outbox event (its `event_id`), or a
    time-driven one the notifier made (`escalation:1:<visit>`, `reminder:<host>:<date>`).
    Its row is written in the same transaction as its deliveries, so a trigger is planned
    exactly once."""

    key = CharField(primary_key=True)
    kind = CharField()
    planned_at = UtcTimestampField()

    class Meta:
        table_name = "notification_event"


class NotificationDelivery(BaseModel):
    """One message to one recipient URL. Unique per (trigger, URL hash)."""

    id = AutoField()
    key = CharField()  # NotificationEvent.key
    # arrived | approval | vip | message | security | device | escalation | reminder
    kind = CharField()
    subject_ref = CharField(default="")  # the visit, message or host the message is about
    payload = TextField(default="{}")  # JSON of refs (never personal data)
    audience = CharField()  # host:<ref> | reception | security | vip
    channel_hash = CharField()  # channel_hash(url): the URL itself is never stored
    attempts = IntegerField(default=0)
    next_attempt_at = UtcTimestampField()
    claimed_at = UtcTimestampField(null=True)  # a send is under way (or was, before a crash)
    sent_at = UtcTimestampField(null=True)
    gave_up_at = UtcTimestampField(null=True)  # obsolete, in doubt, or its channel was removed
    last_error = TextField(default="")
    created_at = UtcTimestampField()

    class Meta:
        table_name = "notification_delivery"
        indexes = (
            (("key", "channel_hash"), True),
            (("sent_at", "gave_up_at", "next_attempt_at"), False),
        )


class UsedLink(BaseModel):
    """A redeemed acknowledgement or approval link: recorded so that it works only once."""

    link_id = CharField(primary_key=True)
    action = CharField()
    visit_ref = CharField()
    used_at = UtcTimestampField()

    class Meta:
        table_name = "notification_used_link"


class NotificationForward(BaseModel):
    """A delivery the kiosk could not make and handed to the office instead, as the outbox
    event `event_id` (kind notification.forward). Written in the same transaction as that
    event and as the delivery's own end, so the kiosk never also sends it directly."""

    delivery_id = IntegerField(primary_key=True)  # NotificationDelivery.id
    event_id = CharField()
    forwarded_at = UtcTimestampField()

    class Meta:
        table_name = "notification_forward"


NOTIFY_MODELS: list[type[BaseModel]] = [
    NotificationEvent,
    NotificationDelivery,
    UsedLink,
    NotificationForward,
]


def mask_url(url: str) -> str:
    """A recipient URL without its secrets: scheme and host only (mailto://smtp.example/…)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}/…" if parts.scheme else "…"


def masked_channel(config: Any, audience: str, digest: str) -> str:
    """The masked URL of a delivery's channel, found by its hash among today's channels
    (the host's in the kiosk database, or the configuration's lists)."""
    from kiosk.storage.models import Host

    urls: list[str] = []
    if audience.startswith("host:"):
        host = Host.get_or_none(Host.ref == audience[5:])
        try:
            urls = [str(url) for url in json.loads(host.channels or "[]")] if host else []
        except ValueError:
            urls = []
    else:
        secrets_ = getattr(config.notifications, audience, [])
        urls = [secret.get_secret_value() for secret in secrets_]
    found = next((url for url in urls if channel_hash(url) == digest), None)
    return mask_url(found) if found else f"channel {digest[:8]} (no longer configured)"
