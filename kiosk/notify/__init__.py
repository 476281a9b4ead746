"""Host notifications: the outbox's notification events, sent through apprise.

    Notifier            plans, escalates, reminds, delivers and forwards (`tick`, `run`)
    LinkSigner          signed (Ed25519), single-use, expiring "on my way" / approve / deny
                        links that the office verifies too (`verify_link`)
    Notifier.redeem_link(token) -> RedeemedLink   (raises LinkRefused)
    host_response(visit_ref) -> HostResponse | None   what the host answered, for the UI
    AppriseSender       the channels: e-mail, SMS gateways, chat apps, webhooks

`kiosk.app.build_notifier(kiosk)` wires one over a kiosk (the composition root).
Its tables are created by the kiosk's versioned migrations (kiosk/storage/migrations.py).
"""

from __future__ import annotations

import importlib
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
    "host_response",
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
