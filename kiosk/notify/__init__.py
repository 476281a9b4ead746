"""Host notifications: the outbox's notification events, sent through apprise.

    Notifier            plans, escalates, reminds, delivers and forwards (`tick`, `run`)
    LinkSigner          signed (Ed25519), single-use, expiring "on my way" / approve / deny
                        links that the office verifies too (`verify_link`)
    Notifier.redeem_link(token) -> RedeemedLink   (raises LinkRefused)
    host_response(visit_ref) -> HostResponse | None   what the host answered, for the UI
    AppriseSender       the channels: e-mail, SMS gateways, chat apps, webhooks

`build_notifier(kiosk)` wires one over a kiosk (the composition root may call it).
Its tables are created by the kiosk's versioned migrations (kiosk/storage/migrations.py).
"""

from __future__ import annotations

import importlib
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
    read_link,
    verify_link,
)

if TYPE_CHECKING:
    from kiosk.app import Kiosk
    from kiosk.notify.notifier import Notifier, RedeemedLink, TickReport
    from kiosk.notify.responses import HostResponse, host_response

__all__ = [
    "AppriseSender",
    "Attachment",
    "HostResponse",
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
    "host_response",
    "link_signer",
    "load_link_key",
    "read_link",
    "verify_link",
]


#: The kiosk-only names, each loaded from its module on first use: the office imports this
#: package's links and channels, and must not load the kiosk's notifier (which brings the
#: check-in engine) nor the kiosk's tables (kiosk.storage).
_KIOSK_ONLY = {
    "Notifier": "kiosk.notify.notifier",
    "RedeemedLink": "kiosk.notify.notifier",
    "TickReport": "kiosk.notify.notifier",
    "HostResponse": "kiosk.notify.responses",
    "host_response": "kiosk.notify.responses",
}


def __getattr__(name: str) -> Any:
    if name in _KIOSK_ONLY:
        return getattr(importlib.import_module(_KIOSK_ONLY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def default_link_base(kiosk: Kiosk) -> str:
    """Where links point: `[notifications] link_base_url` if set, else the office's link
    page (the configured office URL, or the one this kiosk enrolled with). A standalone
    kiosk has no page hosts can reach; its links name the kiosk's own host name."""
    from kiosk.storage.models import KioskState

    configured = kiosk.config.notifications.link_base_url.strip()
    if configured:
        return configured if configured.endswith("/") else configured + "/"
    office = kiosk.config.office.url.rstrip("/")
    if not office:
        with kiosk.using():
            row = KioskState.get_or_none(KioskState.key == "sync_office_url")
        office = row.value.rstrip("/") if row else ""
    return f"{office}/l/" if office else "http://kiosk.local/l/"


def link_signer(kiosk: Kiosk) -> LinkSigner:
    """The kiosk's link signer: its sync key once enrolled, else its own link key."""
    return LinkSigner(load_link_key(kiosk.config.keys_dir), kiosk.kiosk_id, kiosk.clock.now)


def build_notifier(
    kiosk: Kiosk,
    *,
    sender: Sender | None = None,
    link_base_url: str | None = None,
    link_ttl: timedelta = timedelta(hours=2),
    **options: Any,
) -> Notifier:
    """A notifier over a kiosk's database, clock, engine and keys folder."""
    from kiosk.notify.notifier import Notifier

    return Notifier(
        db=kiosk.db,
        config=kiosk.config,
        clock=kiosk.clock,
        engine=kiosk.engine,
        links=link_signer(kiosk),
        link_base_url=link_base_url or default_link_base(kiosk),
        sender=sender,
        link_ttl=link_ttl,
        **options,
    )
