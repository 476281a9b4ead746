"""The deliveries' tables (issue 20): parcels left at the kiosk, and the signatures taken
when one is collected.

Personal data lives in two places only, the company name typed for a recipient and the
collector's name (and signature); the retention purge blanks them once a parcel has been
collected for `[deliveries] retention_days`. The recipient host is a reference to the
directory, not a copy. Times are UTC epoch milliseconds, as in kiosk.storage.models.
"""

from __future__ import annotations

from peewee import BlobField, BooleanField, CharField, ForeignKeyField, IntegerField

from kiosk.dbkit.fields import UtcTimestampField
from kiosk.storage.models import BaseModel


class Parcel(BaseModel):
    ref = CharField(unique=True)  # parcel_ref, 16 hex digits (the contract's key)
    pickup_code = CharField(index=True)  # 6 digits
    host_ref = CharField(default="")
    company = CharField(default="")
    kind = CharField()  # parcel | documents | food | flowers | other
    carrier = CharField()
    items = IntegerField(default=1)
    waybill = CharField(default="")
    shelf = CharField(default="")
    state = CharField(index=True)  # waiting | collected | returned
    recipient_left = BooleanField(default=False)
    token_id = CharField(default="", index=True)
    token = CharField(default="")  # the pickup token's text (only for parcels this kiosk logged)
    photo_jpeg = BlobField(null=True)
    logged_at = UtcTimestampField(index=True)
    collected_at = UtcTimestampField(null=True)
    collected_by = CharField(default="")
    method = CharField(default="")  # qr | code | guard
    signed = BooleanField(default=False)
    returned_at = UtcTimestampField(null=True)
    origin = CharField(default="local")  # local | office (pulled from the feed)
    updated_at = UtcTimestampField()


class ParcelSignature(BaseModel):
    """The strokes of a collection's signature stay on the kiosk; only `signed` travels."""

    parcel = ForeignKeyField(Parcel, backref="signatures", on_delete="CASCADE")
    signature_png = BlobField(null=True)
    signed_at = UtcTimestampField()


#: The tables as first released (migration step 7 in kiosk.storage.migrations); frozen.
PARCEL_TABLES = """
CREATE TABLE IF NOT EXISTS "parcel" ("id" INTEGER NOT NULL PRIMARY KEY, "ref" VARCHAR(255) NOT NULL, "pickup_code" VARCHAR(255) NOT NULL, "host_ref" VARCHAR(255) NOT NULL, "company" VARCHAR(255) NOT NULL, "kind" VARCHAR(255) NOT NULL, "carrier" VARCHAR(255) NOT NULL, "items" INTEGER NOT NULL, "waybill" VARCHAR(255) NOT NULL, "shelf" VARCHAR(255) NOT NULL, "state" VARCHAR(255) NOT NULL, "recipient_left" INTEGER NOT NULL, "token_id" VARCHAR(255) NOT NULL, "token" VARCHAR(255) NOT NULL, "photo_jpeg" BLOB, "logged_at" INTEGER NOT NULL, "collected_at" INTEGER, "collected_by" VARCHAR(255) NOT NULL, "method" VARCHAR(255) NOT NULL, "signed" INTEGER NOT NULL, "returned_at" INTEGER, "origin" VARCHAR(255) NOT NULL, "updated_at" INTEGER NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS "parcel_ref" ON "parcel" ("ref");
CREATE INDEX IF NOT EXISTS "parcel_pickup_code" ON "parcel" ("pickup_code");
CREATE INDEX IF NOT EXISTS "parcel_state" ON "parcel" ("state");
CREATE INDEX IF NOT EXISTS "parcel_token_id" ON "parcel" ("token_id");
CREATE INDEX IF NOT EXISTS "parcel_logged_at" ON "parcel" ("logged_at");
CREATE TABLE IF NOT EXISTS "parcel_signature" ("id" INTEGER NOT NULL PRIMARY KEY, "parcel_id" INTEGER NOT NULL, "signature_png" BLOB, "signed_at" INTEGER NOT NULL, FOREIGN KEY ("parcel_id") REFERENCES "parcel" ("id") ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS "parcel_signature_parcel_id" ON "parcel_signature" ("parcel_id");
"""  # noqa: E501

PARCEL_MODELS: list[type[BaseModel]] = [Parcel, ParcelSignature]
