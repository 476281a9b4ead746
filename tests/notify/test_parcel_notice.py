"""The recipient of a parcel told at once by e-mail through a real local SMTP server
(aiosmtpd): the pickup code, the shelf and the pickup QR as an image that decodes to a token
the kiosk accepts; the desk told instead when the recipient has left."""

from __future__ import annotations

import io

import numpy as np
import zxingcpp
from local_servers import Mailbox, attachments_of, text_of
from PIL import Image

from kiosk.app import Kiosk, build_delivery_desk
from kiosk.notify import Notifier
from kiosk.services.deliveries import NewParcel
from kiosk.storage.models import Host


def test_the_recipient_gets_the_code_the_shelf_and_a_working_qr(
    kiosk: Kiosk, hosts: dict[str, str], smtp: Mailbox, notifier: Notifier
) -> None:
    desk = build_delivery_desk(kiosk)
    view = desk.log_parcel(NewParcel(kind="parcel", carrier="sf", host_ref=hosts["李娜"]))

    report = notifier.tick()

    assert (report.planned, report.sent, report.failed) == (1, 1, 0)
    [mail] = smtp.to("li.na@tower.test")
    assert view.pickup_code in mail["Subject"]
    text = text_of(mail)
    assert f"Pickup code: {view.pickup_code}" in text and f"Shelf: {view.shelf}" in text
    [(name, png)] = attachments_of(mail)
    assert name == "pickup-qr.png"
    grey = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    [found] = zxingcpp.read_barcodes(grey)
    assert desk.parcel_for_token(found.text).parcel_ref == view.parcel_ref
    assert smtp.to("reception@tower.test") == []


def test_the_desk_is_told_when_the_recipient_has_left(
    kiosk: Kiosk, hosts: dict[str, str], smtp: Mailbox, notifier: Notifier
) -> None:
    Host.update(active=False).where(Host.ref == hosts["李娜"]).execute()
    desk = build_delivery_desk(kiosk)
    view = desk.log_parcel(NewParcel(kind="documents", carrier="ems", host_ref=hosts["李娜"]))
    notifier.tick()
    assert smtp.to("li.na@tower.test") == []
    [mail] = smtp.to("reception@tower.test")
    assert "has left the company" in text_of(mail) and view.pickup_code in mail["Subject"]
