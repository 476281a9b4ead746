"""What a delivery is at the office: its kinds, carriers, states and pickup methods, the
rules its events' payloads follow (contract: /work/briefs/deliveries-contract.md), and
each site's delivery settings.

`validate_delivery_payload` is called by kiosk.office.event_schema for the two delivery
kinds, before anything is stored; it raises InvalidInput naming the field and the problem.
A carrier is checked against the site's own list later, when the site is known
(kiosk.office.deliveries.intake), since the list is a site's setting.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from kiosk.domain.errors import InvalidInput
from kiosk.domain.records import REF_MAX, check_text_field, parse_time
from kiosk.domain.text import check_text
from kiosk.office.deliveries.models import DeliverySettings
from kiosk.office.models import Site
from kiosk.sync.wire import EventKind


class ParcelState(StrEnum):
    WAITING = "waiting"
    COLLECTED = "collected"
    RETURNED = "returned"


class ParcelKind(StrEnum):
    PARCEL = "parcel"
    DOCUMENTS = "documents"
    FOOD = "food"
    FLOWERS = "flowers"
    OTHER = "other"


class PickupMethod(StrEnum):
    QR = "qr"
    CODE = "code"
    GUARD = "guard"


DEFAULT_CARRIERS = (
    "sf",
    "jd",
    "ems",
    "zto",
    "yto",
    "sto",
    "yunda",
    "meituan",
    "eleme",
    "dhl",
    "ups",
    "fedex",
    "other",
)
DELIVERY_KINDS = frozenset({EventKind.DELIVERY_LOGGED, EventKind.DELIVERY_COLLECTED})
COMPANY_MAX = 120
WAYBILL_MAX = 64
SHELF_MAX = 32
COLLECTED_BY_MAX = 80
MAX_ITEMS = 99
_HEX16 = re.compile(r"[0-9a-f]{16}")
_CODE = re.compile(r"[0-9]{6}")
_CARRIER_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


def _field(name: str) -> str:
    return f"payload.{name}"


def _parcel_ref(payload: dict[str, Any]) -> str:
    ref = payload.get("parcel_ref")
    if not isinstance(ref, str) or not _HEX16.fullmatch(ref):
        raise InvalidInput(_field("parcel_ref"), "must be 16 lower-case hex digits")
    return ref


def _flag(payload: dict[str, Any], name: str) -> None:
    if not isinstance(payload.get(name), bool):
        raise InvalidInput(_field(name), "must be true or false")


def _required_time(payload: dict[str, Any], name: str) -> datetime:
    moment = parse_time(payload.get(name), _field(name))
    if moment is None:
        raise InvalidInput(_field(name), "is required")
    return moment


def validate_delivery_payload(kind: str, payload: dict[str, Any]) -> None:
    """A delivery event's payload, checked field by field (InvalidInput if it is not one)."""
    _parcel_ref(payload)
    if kind == EventKind.DELIVERY_LOGGED:
        _validate_logged(payload)
    elif kind == EventKind.DELIVERY_COLLECTED:
        _validate_collected(payload)


def _validate_logged(payload: dict[str, Any]) -> None:
    code = payload.get("pickup_code")
    if not isinstance(code, str) or not _CODE.fullmatch(code) or code == "000000":
        raise InvalidInput(_field("pickup_code"), "must be 6 digits, not 000000")
    host = check_text_field(payload, "host_ref", REF_MAX, field=_field("host_ref"))
    company = check_text_field(payload, "company", COMPANY_MAX, field=_field("company"))
    if bool(host.strip()) == bool(company.strip()):
        raise InvalidInput(_field("host_ref"), "name a host or a company, one of the two")
    if payload.get("kind") not in set(ParcelKind):
        shown = str(payload.get("kind"))[:40]
        raise InvalidInput(_field("kind"), f"is not a kind of delivery ({shown!r})")
    carrier = payload.get("carrier")
    if not isinstance(carrier, str) or not _CARRIER_KEY.fullmatch(carrier):
        raise InvalidInput(_field("carrier"), f"is not a carrier key ({str(carrier)[:40]!r})")
    items = payload.get("items")
    if not isinstance(items, int) or isinstance(items, bool) or not 1 <= items <= MAX_ITEMS:
        raise InvalidInput(_field("items"), f"must be a whole number from 1 to {MAX_ITEMS}")
    check_waybill(payload.get("waybill"), _field("waybill"))
    check_text_field(payload, "shelf", SHELF_MAX, field=_field("shelf"))
    _flag(payload, "recipient_left")
    _required_time(payload, "logged_at")
    token = payload.get("token_id")
    if not isinstance(token, str) or not _HEX16.fullmatch(token):
        raise InvalidInput(_field("token_id"), "must be the pickup token's id (16 hex digits)")
    # The signed token itself (amendment 2026-12-07, deliv2): optional; its signature is
    # checked against the sending kiosk's key by the intake (pickup_tokens).
    if not isinstance(payload.get("pickup_token", ""), str):
        raise InvalidInput(_field("pickup_token"), "must be the pickup token's text")


def check_waybill(value: Any, field: str) -> str:
    """ "" or 1..64 printable characters: a barcode read wrong, or pasted with a tab, is
    refused rather than stored."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be text")
    check_text(value, field, max_length=WAYBILL_MAX)
    if not value.isprintable() or not value.strip():
        raise InvalidInput(field, "must be printable characters")
    return value


def _validate_collected(payload: dict[str, Any]) -> None:
    check_text_field(
        payload, "collected_by", COLLECTED_BY_MAX, field=_field("collected_by"), required=True
    )
    if payload.get("method") not in set(PickupMethod):
        shown = str(payload.get("method"))[:40]
        raise InvalidInput(_field("method"), f"must be qr, code or guard ({shown!r})")
    _flag(payload, "signed")
    _required_time(payload, "collected_at")


# ---------------------------------------------------------------- a site's settings


class DeliveryRules(BaseModel):
    """One site's delivery settings. Unknown keys in the stored JSON are ignored."""

    carriers: list[str] = Field(default_factory=lambda: list(DEFAULT_CARRIERS))
    #: A parcel waiting longer than this gets its recipient a reminder...
    remind_after_hours: int = Field(default=24, ge=1, le=24 * 60)
    #: ...once every this many days (1: once a day), never twice in one local day.
    remind_every_days: int = Field(default=1, ge=1, le=30)
    #: The local hour from which a day's reminders and the desk's list go out.
    send_from_hour: int = Field(default=9, ge=0, le=23)
    #: The language of messages to a recipient without an office account, and the desk's.
    language: str = Field(default="zh_Hans", pattern=r"^(zh_Hans|zh_Hant|en)$")

    @field_validator("carriers")
    @classmethod
    def _carrier_keys(cls, carriers: list[str]) -> list[str]:
        if not carriers or len(carriers) > 50:
            raise ValueError("between 1 and 50 carriers")
        for key in carriers:
            if not _CARRIER_KEY.fullmatch(key):
                raise ValueError(f"{key[:40]!r} is not a carrier key (a-z, 0-9, - and _)")
        return list(dict.fromkeys(carriers))

    @property
    def remind_after(self) -> timedelta:
        return timedelta(hours=self.remind_after_hours)


def load_rules(site: Site | int) -> DeliveryRules:
    row = DeliverySettings.get_or_none(DeliverySettings.site == site)
    return DeliveryRules.model_validate(json.loads(row.data)) if row else DeliveryRules()


def save_rules(site: Site | int, changes: dict[str, Any], now: datetime) -> DeliveryRules:
    """The site's rules with `changes` applied and saved; InvalidInput naming the setting."""
    try:
        rules = DeliveryRules.model_validate({**load_rules(site).model_dump(), **changes})
    except ValidationError as err:
        problem = err.errors()[0]
        raise InvalidInput(str(problem["loc"][0]), str(problem["msg"])) from err
    text = json.dumps(rules.model_dump(mode="json"))
    DeliverySettings.insert(site=site, data=text, updated_at=now).on_conflict(
        conflict_target=[DeliverySettings.site],
        update={DeliverySettings.data: text, DeliverySettings.updated_at: now},
    ).execute()
    return rules
