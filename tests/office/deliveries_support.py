"""Delivery events built to the contract (/work/briefs/deliveries-contract.md), exactly as
the kiosk side sends them, and a kiosk of a site that sends them through the office's
intake. Shared by the deliveries' tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from test_cross_site import SiteKiosk, enrol_at

from kiosk.domain.tokens import new_ref
from kiosk.office.store import OfficeStore
from kiosk.sync.wire import EventKind

__all__ = ["ParcelKiosk", "collected_payload", "enrol_at", "logged_payload", "parcel_kiosk"]


def logged_payload(parcel_ref: str, at: datetime, /, **changes: Any) -> dict[str, Any]:
    """A `delivery.logged` payload, every field of the contract, for a host by default."""
    payload: dict[str, Any] = {
        "parcel_ref": parcel_ref,
        "pickup_code": "482913",
        "host_ref": "",
        "company": "",
        "kind": "parcel",
        "carrier": "sf",
        "items": 1,
        "waybill": "SF1402345678901",
        "shelf": "A-3",
        "recipient_left": False,
        "logged_at": at.isoformat(),
        "token_id": new_ref(),
    }
    payload.update(changes)
    return payload


def collected_payload(parcel_ref: str, at: datetime, /, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "parcel_ref": parcel_ref,
        "collected_by": "李娜",
        "method": "qr",
        "signed": True,
        "collected_at": at.isoformat(),
    }
    payload.update(changes)
    return payload


@dataclass
class ParcelKiosk:
    """A kiosk enrolled at a site, sending delivery events through the office's intake as
    its pushes would (one event per call, or a batch)."""

    kiosk: SiteKiosk
    parcels: list[str] = field(default_factory=list)

    @property
    def store(self) -> OfficeStore:
        return self.kiosk.store

    def raw(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.kiosk.seq += 1
        return {
            "event_id": uuid.uuid4().hex, "seq": self.kiosk.seq, "kind": kind,
            "subject_ref": "",  # the office reads payload.parcel_ref
            "payload": payload, "occurred_at": self.store.clock.now().isoformat(),
        }  # fmt: skip

    def push(self, *events: dict[str, Any]) -> list[Any]:
        from kiosk.office.models import Kiosk

        with self.store.db.connection_context():
            kiosk = Kiosk.get(Kiosk.kiosk_id == self.kiosk.kiosk_id)
            return self.store.ingest(kiosk, list(events)).results

    def log(
        self, *, at: datetime | None = None, ref: str | None = None, **changes: Any
    ) -> tuple[str, Any]:
        """Log a parcel (a host's or a company's); its ref and the office's verdict."""
        ref = ref or new_ref()
        payload = logged_payload(ref, at or self.store.clock.now(), **changes)
        [result] = self.push(self.raw(EventKind.DELIVERY_LOGGED, payload))
        self.parcels.append(ref)
        return ref, result

    def collect(self, ref: str, *, at: datetime | None = None, **changes: Any) -> Any:
        payload = collected_payload(ref, at or self.store.clock.now(), **changes)
        [result] = self.push(self.raw(EventKind.DELIVERY_COLLECTED, payload))
        return result


def parcel_kiosk(store: OfficeStore, site: str) -> ParcelKiosk:
    return ParcelKiosk(enrol_at(store, site))


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
