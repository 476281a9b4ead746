"""The office's tables for deliveries (issue 20). Times are UTC epoch milliseconds, as in
kiosk.office.models, whose `OfficeModel` they share; kiosk.office.db creates them with the
office's other tables (`DELIVERY_MODELS`) and adds their new columns the same way.

    Parcel            one parcel left at a kiosk of the site, as the office knows it now
    ParcelHistory     what happened to it, in order (logged, collected, returned, reminded)
    ParcelMail        one reminder or desk list, per audience and local day: never twice
    DeliverySettings  a site's rules for deliveries (carriers, reminders), as JSON
"""

from __future__ import annotations

from peewee import (
    BigAutoField,
    BooleanField,
    CharField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from kiosk.dbkit.fields import UtcTimestampField
from kiosk.office.models import Kiosk, OfficeModel, Site


class Parcel(OfficeModel):
    """A parcel (or documents, food, flowers) for a host or a company of the site.

    `logged` is false while only its collection is known (a kiosk that handed it over
    pushed before the kiosk that took it in): `logged_at` is then the collection's time
    until the logging arrives."""

    id = BigAutoField()
    ref = CharField(unique=True)  # parcel_ref: 16 hex digits, the key everywhere
    site = ForeignKeyField(Site, on_delete="CASCADE")
    kiosk = ForeignKeyField(Kiosk, on_delete="CASCADE")  # where it was logged
    logged = BooleanField(default=True)
    pickup_code = CharField(default="")
    host_ref = CharField(default="")
    company = CharField(default="")
    kind = CharField(default="")
    carrier = CharField(default="")
    items = IntegerField(default=1)
    waybill = CharField(default="")
    shelf = CharField(default="")
    recipient_left = BooleanField(default=False)
    token_id = CharField(default="")
    #: The kiosk's signed pickup token while the parcel waits ("" after): the reminders'
    #: QR (kiosk.office.deliveries.pickup_tokens). Never shown on a page.
    pickup_token = TextField(default="")
    state = CharField(default="waiting")  # waiting | collected | returned
    logged_at = UtcTimestampField()
    collected_at = UtcTimestampField(null=True)
    collected_by = CharField(default="")
    collected_method = CharField(default="")  # qr | code | guard
    signed = BooleanField(default=False)
    collected_kiosk = CharField(default="")  # the kiosk_id it was handed over at
    returned_at = UtcTimestampField(null=True)
    returned_by = CharField(default="")
    updated_at = UtcTimestampField()

    class Meta:
        indexes = (
            # The deliveries page: a site's parcels of one state, newest first, in pages.
            (("site", "state", "logged_at", "id"), False),
            (("site", "logged_at", "id"), False),
            (("site", "host_ref", "logged_at", "id"), False),
            (("site", "carrier", "logged_at", "id"), False),
        )


class ParcelHistory(OfficeModel):
    id = BigAutoField()
    parcel = ForeignKeyField(Parcel, backref="history", on_delete="CASCADE")
    at = UtcTimestampField()
    action = CharField()  # logged | collected | second_collection | returned | reminded
    actor = CharField(default="")  # a kiosk id, a username, "cli" or "office"
    detail = TextField(default="{}")  # JSON


class ParcelMail(OfficeModel):
    """A reminder to a recipient (`key` "parcel:<ref>:<day>") or the desk's daily list
    ("desk:<site id>:<day>"), recorded before it is sent: the unique key is what makes a
    second round of the same day send nothing."""

    key = CharField(unique=True)
    site = ForeignKeyField(Site, on_delete="CASCADE")
    audience = CharField()  # host:<ref> | desk
    day = CharField()  # the site's local date, YYYY-MM-DD
    status = CharField(default="sending")  # sending | sent | failed | no_channel
    sent_at = UtcTimestampField(null=True)
    last_error = TextField(default="")
    created_at = UtcTimestampField()


class DeliverySettings(OfficeModel):
    """A site's delivery rules (kiosk.office.deliveries.rules.DeliveryRules) as JSON."""

    site = ForeignKeyField(Site, unique=True, on_delete="CASCADE")
    data = TextField(default="{}")
    updated_at = UtcTimestampField()


DELIVERY_MODELS: list[type[OfficeModel]] = [Parcel, ParcelHistory, ParcelMail, DeliverySettings]
