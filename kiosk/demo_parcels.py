"""Demo parcels for `make run` (issue 20): two parcels waiting on the shelves, so "Collect a
parcel" and `kiosk delivery list` have something to show. Added once: a demo database that
has parcels already gets none."""

from __future__ import annotations

from kiosk.parts import Kiosk
from kiosk.services.deliveries import NewParcel
from kiosk.storage.models import Host
from kiosk.storage.parcels import Parcel


def seed_demo_parcels(kiosk: Kiosk) -> int:
    """Log the demo's parcels (none if any parcel exists); returns how many were logged."""
    from kiosk.delivery_parts import build_delivery_desk

    if Parcel.select().exists():
        return 0
    hosts = list(Host.select().where(Host.active).order_by(Host.name).limit(2))
    desk = build_delivery_desk(kiosk)
    parcels = [NewParcel(kind="food", carrier="meituan", company="Demo Trading Ltd")]
    parcels += [
        NewParcel(kind=kind, carrier=carrier, items=items, host_ref=host.ref)
        for host, (kind, carrier, items) in zip(
            hosts, [("parcel", "sf", 2), ("documents", "ems", 1)], strict=False
        )
    ]
    for parcel in parcels:
        desk.log_parcel(parcel)
    return len(parcels)
