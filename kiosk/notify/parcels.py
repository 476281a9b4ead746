"""The `notification.delivery_waiting` messages (issue 20): the recipient told at once that
a parcel waits, with its pickup code, where to collect it and the pickup QR as an image
(the e-mail's attachment); the desk told instead when the recipient has left the company
or the parcel is for a company rather than a host.

kiosk.notify.notifier plans and sends them as any other kind; this module only says who
hears and what the message says.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import segno

from kiosk.domain.errors import NotFound
from kiosk.notify.channels import Attachment, Message
from kiosk.storage.models import Host
from kiosk.storage.parcels import Parcel


def parcel_audiences(payload: dict[str, Any]) -> list[str]:
    """Who hears of a waiting parcel: its host (and the desk too only when nobody else
    would hear), else the desk."""
    if payload.get("audience") == "host" and payload.get("host"):
        return [f"host:{payload['host']}"]
    return ["reception"]


def qr_png(token: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(token, error="m", micro=False).save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()


def render_parcel(
    payload: dict[str, Any], gettext: Callable[[str], str], place: str, footer: str
) -> Message:
    """The message about one waiting parcel, from its row as it is now."""
    _ = gettext
    parcel = Parcel.get_or_none(Parcel.ref == payload["parcel"])
    if parcel is None:
        raise NotFound(f"parcel {payload['parcel']}")
    if parcel.state != "waiting":
        raise NotFound(f"parcel {parcel.ref} is {parcel.state}")
    host = Host.get_or_none(Host.ref == parcel.host_ref) if parcel.host_ref else None
    recipient = host.name if host else parcel.company
    lines = [
        _("A delivery for {recipient} is waiting at {place}.").format(
            recipient=recipient, place=place
        ),
        _("Pickup code: {code}").format(code=parcel.pickup_code),
    ]
    if parcel.shelf:
        lines.append(_("Shelf: {shelf}").format(shelf=parcel.shelf))
    lines.append(_("Show the attached QR code at the kiosk, or type the pickup code there."))
    if parcel.recipient_left:
        lines.insert(0, _("The recipient has left the company: please take care of it."))
    title = _("A delivery is waiting for you: code {code}").format(code=parcel.pickup_code)
    attachments = [Attachment("pickup-qr.png", "image/png", qr_png(parcel.token))]
    return Message(title, "\n".join(lines) + footer, attachments if parcel.token else [])
