"""The office's parcels as staff see them and change them: the deliveries list (filters,
keyset pages), one parcel with its history, and "returned to sender".

Who sees what is decided here, not in the pages: a `Viewer` is a site, and for a host
account the host too. Reception, security and admins see every parcel of their site; a
host sees only the parcels addressed to them; nobody sees another site's. A parcel out of
a viewer's sight is NotFound, as if it did not exist.

Marking a parcel returned writes its new state to the change feed (so every kiosk of the
site refuses its pickup, "returned to sender on <date>") and revokes its pickup token
(a `revoked_token` row, as the office revokes an invitation), in one transaction with
the parcel's history and the audit entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from peewee import JOIN, Case, Expression, fn

from kiosk.dbkit.rows import rows_of
from kiosk.domain.errors import InvalidInput, NotFound
from kiosk.office.deliveries.intake import FEED_ENTITY, parcel_data, record
from kiosk.office.deliveries.models import Parcel, ParcelHistory
from kiosk.office.deliveries.rules import ParcelState
from kiosk.office.feed import ChangeFeed
from kiosk.office.models import AuditEntry, Kiosk, OfficeHost, Site

PAGE_SIZE = 50
#: The token kind a kiosk reads from a `revoked_token` row of the feed.
PICKUP_TOKEN_KIND = "parcel_pickup"


@dataclass(frozen=True)
class Viewer:
    """Whose eyes: a site, and for a host account the host (they see only theirs)."""

    site_id: int
    host_ref: str = ""


@dataclass(frozen=True)
class ParcelFilter:
    state: str = ""  # waiting | collected | returned | "" (all)
    host_ref: str = ""
    company: str = ""  # part of the company's name
    carrier: str = ""
    older_than_days: int = 0  # logged at least this many days ago

    def as_params(self) -> dict[str, str]:
        values = {
            "state": self.state,
            "host": self.host_ref,
            "company": self.company,
            "carrier": self.carrier,
            "age": str(self.older_than_days) if self.older_than_days else "",
        }
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class ParcelRow:
    ref: str
    state: str
    recipient: str  # the host's name, or the company
    host_ref: str
    company: str
    department: str
    kind: str
    carrier: str
    items: int
    waybill: str
    shelf: str
    pickup_code: str
    recipient_left: bool
    logged_at: datetime
    collected_at: datetime | None
    collected_by: str
    collected_method: str
    signed: bool
    returned_at: datetime | None
    returned_by: str
    kiosk_name: str
    logged: bool


@dataclass
class ParcelDetail:
    row: ParcelRow
    history: list[dict[str, Any]] = field(default_factory=list)
    #: The names of the kiosks its history names (by kiosk id).
    kiosk_names: dict[str, str] = field(default_factory=dict)


def _conditions(viewer: Viewer, wanted: ParcelFilter, now: datetime) -> list[Expression]:
    where = [Parcel.site == viewer.site_id]
    if viewer.host_ref:
        where.append(Parcel.host_ref == viewer.host_ref)
    if wanted.state:
        where.append(Parcel.state == wanted.state)
    if wanted.host_ref:
        where.append(Parcel.host_ref == wanted.host_ref)
    if wanted.company:
        where.append(Parcel.company.contains(wanted.company))
    if wanted.carrier:
        where.append(Parcel.carrier == wanted.carrier)
    if wanted.older_than_days:
        where.append(Parcel.logged_at <= now - timedelta(days=wanted.older_than_days))
    return where


def _all(conditions: list[Expression]) -> Expression:
    combined = conditions[0]
    for condition in conditions[1:]:
        combined &= condition
    return combined


def _query(conditions: list[Expression]) -> Any:
    return (
        Parcel.select(Parcel, OfficeHost.name, OfficeHost.department, Kiosk.name, Kiosk.kiosk_id)
        .join(OfficeHost, JOIN.LEFT_OUTER, on=(OfficeHost.ref == Parcel.host_ref), attr="host_row")
        .switch(Parcel)
        .join(Kiosk)
        .where(_all(conditions))
    )


def _row(parcel: Parcel) -> ParcelRow:
    host = getattr(parcel, "host_row", None)
    host_name = getattr(host, "name", "") or ""
    return ParcelRow(
        ref=parcel.ref,
        state=parcel.state,
        recipient=host_name or parcel.company or parcel.host_ref,
        host_ref=parcel.host_ref,
        company=parcel.company,
        department=getattr(host, "department", "") or "",
        kind=parcel.kind,
        carrier=parcel.carrier,
        items=parcel.items,
        waybill=parcel.waybill,
        shelf=parcel.shelf,
        pickup_code=parcel.pickup_code,
        recipient_left=parcel.recipient_left,
        logged_at=parcel.logged_at,
        collected_at=parcel.collected_at,
        collected_by=parcel.collected_by,
        collected_method=parcel.collected_method,
        signed=parcel.signed,
        returned_at=parcel.returned_at,
        returned_by=parcel.returned_by,
        kiosk_name=parcel.kiosk.name or parcel.kiosk.kiosk_id,
        logged=parcel.logged,
    )


def _cursor(parcel: ParcelRow, parcel_id: int) -> str:
    return f"{int(parcel.logged_at.timestamp() * 1000)}.{parcel_id}"


def parcel_page(
    viewer: Viewer, wanted: ParcelFilter, now: datetime, after: str = "", size: int = PAGE_SIZE
) -> tuple[list[ParcelRow], str]:
    """One page of the viewer's parcels, newest first, and the cursor of the next ("")."""
    conditions = _conditions(viewer, wanted, now)
    if after:
        try:
            stamp_text, id_text = after.split(".", 1)
            last_id = int(id_text)
            if not 0 <= last_id < 2**62:
                raise ValueError(id_text)
            moment = datetime.fromtimestamp(int(stamp_text) / 1000, tz=now.tzinfo)
        except (ValueError, OverflowError, OSError) as err:  # a cursor typed by hand
            raise InvalidInput("after", "is not a page of this list") from err
        conditions.append(
            (Parcel.logged_at < moment) | ((Parcel.logged_at == moment) & (Parcel.id < last_id))
        )
    found = list(
        _query(conditions).order_by(Parcel.logged_at.desc(), Parcel.id.desc()).limit(size + 1)
    )
    rows = [_row(parcel) for parcel in found[:size]]
    more = len(found) > size
    return rows, (_cursor(rows[-1], found[size - 1].id) if more else "")


def state_counts(
    viewer: Viewer, now: datetime, wanted: ParcelFilter | None = None
) -> dict[str, int]:
    """How many of the viewer's parcels (of `wanted`, whatever its state) are in each
    state: the page's tabs."""
    conditions = _conditions(viewer, replace(wanted or ParcelFilter(), state=""), now)
    # Sums rather than GROUP BY state: a grouping lets SQLite's planner (without ANALYZE)
    # walk the (site, state) index over the whole site instead of the filters' index.
    states = list(ParcelState)
    sums = [fn.SUM(Case(None, [(Parcel.state == state.value, 1)], 0)) for state in states]
    [found] = rows_of(Parcel.select(*sums).where(_all(conditions)))
    return {state.value: int(count or 0) for state, count in zip(states, found, strict=True)}


def _parcel(viewer: Viewer, ref: str) -> Parcel:
    where = (Parcel.ref == ref) & (Parcel.site == viewer.site_id)
    if viewer.host_ref:
        where &= Parcel.host_ref == viewer.host_ref
    found = list(_query([where]).limit(1))
    if not found:
        raise NotFound(f"no parcel {ref[:32]} at this site")
    return found[0]


def parcel_detail(viewer: Viewer, ref: str) -> ParcelDetail:
    parcel = _parcel(viewer, ref)
    history = [
        {
            "at": line.at,
            "action": line.action,
            "actor": line.actor,
            "detail": json.loads(line.detail or "{}"),
        }
        for line in ParcelHistory.select()
        .where(ParcelHistory.parcel == parcel.id)
        .order_by(ParcelHistory.at, ParcelHistory.id)
    ]
    actors = sorted({line["actor"] for line in history})
    names = {
        kiosk_id: name or kiosk_id
        for kiosk_id, name in rows_of(
            Kiosk.select(Kiosk.kiosk_id, Kiosk.name).where(
                (Kiosk.site == viewer.site_id) & Kiosk.kiosk_id.in_(actors)
            )
        )
    }
    return ParcelDetail(_row(parcel), history, names)


def mark_returned(
    feed: ChangeFeed, viewer: Viewer, ref: str, actor: str, now: datetime
) -> ParcelRow:
    """Returned to sender: only a waiting parcel. The feed's parcel row and its pickup
    token's revocation, the history and the audit commit together."""
    site = Site.get_by_id(viewer.site_id)
    with feed.site_writes(site):
        parcel = _parcel(viewer, ref)
        if parcel.state != ParcelState.WAITING:
            raise InvalidInput("parcel", f"is {parcel.state}, not waiting")
        if not parcel.logged:
            raise InvalidInput("parcel", "is not logged yet")
        parcel.state = ParcelState.RETURNED
        parcel.returned_at = parcel.updated_at = now
        parcel.returned_by = actor
        Parcel.update(
            state=parcel.state, returned_at=now, returned_by=actor, updated_at=now,
            pickup_token="",  # revoked below: the office keeps no credential for it
        ).where(Parcel.id == parcel.id).execute()  # fmt: skip
        record(parcel, "returned", actor, now)
        feed.log(site, FEED_ENTITY, parcel.ref, parcel_data(parcel))
        if parcel.token_id:
            feed.log(site, "revoked_token", parcel.token_id, {"kind": PICKUP_TOKEN_KIND})
        AuditEntry.create(
            site=site,
            at=now,
            actor=actor,
            action="parcel.return",
            entity="parcel",
            ref=parcel.ref,
            detail=json.dumps({"token": parcel.token_id}),
        )
        return _row(parcel)


def host_choices(site_id: int) -> list[tuple[str, str]]:
    """(ref, name) of the hosts of the site that have had parcels, for the filter."""
    refs = (
        Parcel.select(Parcel.host_ref)
        .where((Parcel.site == site_id) & (Parcel.host_ref != ""))
        .distinct()
    )
    return list(
        rows_of(
            OfficeHost.select(OfficeHost.ref, OfficeHost.name)
            .where((OfficeHost.site == site_id) & OfficeHost.ref.in_(refs))
            .order_by(OfficeHost.name)
        )
    )
