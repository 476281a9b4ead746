"""The office's `parcel` rows applied to the kiosk's table (kiosk.sync.apply calls it), and
the retention purge of collected parcels' names (kiosk.services.retention calls it).

A parcel logged at another kiosk of the site arrives here, so it can be collected here; a
parcel the office marked returned is refused at pickup. A state only moves forward
(waiting -> collected | returned), so an older row pulled late never reopens a parcel.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kiosk.domain.records import parse_time
from kiosk.services.deliveries.values import ParcelState
from kiosk.storage.parcels import Parcel, ParcelSignature

_RANK = {ParcelState.WAITING: 0, ParcelState.COLLECTED: 1, ParcelState.RETURNED: 1}


def apply_parcel(ref: str, data: dict[str, Any], now: datetime) -> None:
    """Insert or move forward one parcel from the feed (checked by kiosk.sync.feed_schema)."""
    state = ParcelState(data["state"])
    collected_at = parse_time(data.get("collected_at"), "data.collected_at")
    row = Parcel.get_or_none(Parcel.ref == ref)
    if row is None:
        Parcel.create(
            ref=ref,
            pickup_code=data["pickup_code"],
            host_ref=data.get("host_ref") or "",
            company=data.get("company") or "",
            kind=data["kind"],
            carrier=data["carrier"],
            items=int(data.get("items") or 1),
            shelf=data.get("shelf") or "",
            state=state,
            token_id=data.get("token_id") or "",
            logged_at=parse_time(data["logged_at"], "data.logged_at"),
            collected_at=collected_at,
            returned_at=now if state is ParcelState.RETURNED else None,
            origin="office",
            updated_at=now,
        )
        return
    if _RANK[state] <= _RANK[ParcelState(row.state)]:
        return
    row.state, row.updated_at = state, now
    if state is ParcelState.COLLECTED:
        row.collected_at = collected_at or now
        row.collected_by = row.collected_by or "(at another kiosk)"
    else:
        row.returned_at = now
    row.save()


def purge_parcels(now: datetime, retention_days: int) -> int:
    """Blank the names of parcels collected or returned more than `retention_days` ago
    (the company typed, who collected, the signature and the photo); the counts stay."""
    cutoff = now - timedelta(days=retention_days)
    ended = (Parcel.state != ParcelState.WAITING) & (
        (Parcel.collected_at < cutoff) | (Parcel.returned_at < cutoff)
    )
    stale = Parcel.select(Parcel.id).where(
        ended
        & ((Parcel.company != "") | (Parcel.collected_by != "") | Parcel.photo_jpeg.is_null(False))
    )
    ids = [row.id for row in stale]
    if not ids:
        return 0
    ParcelSignature.delete().where(ParcelSignature.parcel.in_(ids)).execute()
    Parcel.update(company="", collected_by="", photo_jpeg=None, waybill="").where(
        Parcel.id.in_(ids)
    ).execute()
    return len(ids)
