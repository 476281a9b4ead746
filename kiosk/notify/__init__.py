"""Host notifications: the outbox's notification events, sent through apprise.

    Notifier            plans, escalates, reminds and delivers (`tick`, `run`)
    LinkSigner          signed, single-use, expiring "on my way" / approve / deny links
    Notifier.redeem_link(token) -> RedeemedLink   (raises LinkRefused)
    AppriseSender       the channels: e-mail, SMS gateways, chat apps, webhooks

`build_notifier(kiosk)` wires one over a kiosk (the composition root may call it).
Its tables are created by `ensure_tables` (`NOTIFY_DDL` for a migration).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kiosk.notify.channels import AppriseSender, Attachment, Message, Sender, SendResult
from kiosk.notify.links import (
    LinkAction,
    LinkClaim,
    LinkRefusal,
    LinkRefused,
    LinkSigner,
    load_link_key,
)
from kiosk.notify.models import NOTIFY_DDL, ensure_tables
from kiosk.notify.notifier import Notifier, RedeemedLink, TickReport

if TYPE_CHECKING:
    from kiosk.app import Kiosk

__all__ = [
    "NOTIFY_DDL",
    "AppriseSender",
    "Attachment",
    "LinkAction",
    "LinkClaim",
    "LinkRefusal",
    "LinkRefused",
    "LinkSigner",
    "Message",
    "Notifier",
    "RedeemedLink",
    "SendResult",
    "Sender",
    "TickReport",
    "build_notifier",
    "default_link_base",
    "ensure_tables",
    "load_link_key",
]


def default_link_base(kiosk: Kiosk) -> str:
    """Where links point: the office's link page when there is an office. A standalone
    kiosk has no page hosts can reach yet; its links name the kiosk's own host name."""
    office = kiosk.config.office.url.rstrip("/")
    return f"{office}/l/" if office else "http://kiosk.local/l/"


def build_notifier(
    kiosk: Kiosk,
    *,
    sender: Sender | None = None,
    link_base_url: str | None = None,
    link_ttl: timedelta = timedelta(hours=2),
    **options: Any,
) -> Notifier:
    """A notifier over a kiosk's database, clock, engine and keys folder."""
    return Notifier(
        db=kiosk.db,
        config=kiosk.config,
        clock=kiosk.clock,
        engine=kiosk.engine,
        links=LinkSigner(load_link_key(kiosk.config.keys_dir), kiosk.clock.now),
        link_base_url=link_base_url or default_link_base(kiosk),
        sender=sender,
        link_ttl=link_ttl,
        **options,
    )
