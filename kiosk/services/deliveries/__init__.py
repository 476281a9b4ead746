"""Deliveries at the kiosk (issue 20): parcels logged for a host or a company, a pickup
code and signed token, collection by QR, code or guard, the office's `parcel` feed applied,
and collected parcels' names purged. `desk` holds the engine, `values` what crosses it,
`feed` the office's rows and the purge."""

from __future__ import annotations

from kiosk.services.deliveries.desk import DeliveryDesk, PickupKeyRing
from kiosk.services.deliveries.values import (
    KINDS,
    WAYBILL_MAX,
    AmbiguousCode,
    NewParcel,
    ParcelState,
    ParcelView,
    PickupRefusal,
    PickupRefused,
    WaybillProblem,
    waybill_problem,
)

__all__ = [
    "KINDS",
    "WAYBILL_MAX",
    "AmbiguousCode",
    "DeliveryDesk",
    "NewParcel",
    "ParcelState",
    "ParcelView",
    "PickupKeyRing",
    "PickupRefusal",
    "PickupRefused",
    "WaybillProblem",
    "waybill_problem",
]
