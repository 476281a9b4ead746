"""The deliveries' reports for a site and a span of local days: parcels logged per day
and per carrier, the median time from logging to pickup, and the parcels not collected
(with their CSV). The reports count; only the uncollected list names recipients, and
it is for the staff who may see the site's parcels (kiosk.office.deliveries.ledger).

A parcel counts on the local day it was logged (the site's time zone); the median is
over the parcels of the span that were collected, whenever they were.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kiosk.dbkit.rows import rows_of
from kiosk.domain.errors import InvalidInput
from kiosk.domain.records import MAX_TIME, MIN_TIME
from kiosk.office.deliveries.ledger import ParcelFilter, ParcelRow, Viewer, parcel_page
from kiosk.office.deliveries.models import Parcel
from kiosk.office.deliveries.rules import ParcelState

#: The longest span a report covers (a year and a day, for leap years).
MAX_DAYS = 367


@dataclass
class DeliveryReport:
    first_day: date
    last_day: date
    per_day: list[tuple[date, int]] = field(default_factory=list)
    per_carrier: list[tuple[str, int]] = field(default_factory=list)
    logged: int = 0
    collected: int = 0
    returned: int = 0
    waiting: int = 0
    median_pickup_seconds: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "from": self.first_day.isoformat(),
            "to": self.last_day.isoformat(),
            "logged": self.logged,
            "collected": self.collected,
            "returned": self.returned,
            "waiting": self.waiting,
            "median_pickup_seconds": self.median_pickup_seconds,
            "per_day": [{"day": day.isoformat(), "parcels": n} for day, n in self.per_day],
            "per_carrier": [{"carrier": c, "parcels": n} for c, n in self.per_carrier],
        }


def _span(first_day: date, last_day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(first_day, time.min, zone),
        datetime.combine(last_day + timedelta(days=1), time.min, zone),
    )


def delivery_report(
    viewer: Viewer, first_day: date, last_day: date, zone: ZoneInfo
) -> DeliveryReport:
    """The report of the viewer's parcels logged from `first_day` to `last_day` (local)."""
    for day, name in ((first_day, "from"), (last_day, "to")):
        if not MIN_TIME.year <= day.year < MAX_TIME.year:
            raise InvalidInput(name, f"must be between {MIN_TIME.year} and {MAX_TIME.year - 1}")
    if last_day < first_day:
        first_day, last_day = last_day, first_day
    last_day = min(last_day, first_day + timedelta(days=MAX_DAYS - 1))
    start, end = _span(first_day, last_day, zone)
    where = (
        (Parcel.site == viewer.site_id)
        & (Parcel.logged_at >= start)
        & (Parcel.logged_at < end)
        & Parcel.logged
    )
    if viewer.host_ref:
        where &= Parcel.host_ref == viewer.host_ref
    days: Counter[date] = Counter()
    carriers: Counter[str] = Counter()
    states: Counter[str] = Counter()
    waits: list[float] = []
    for logged_at, collected_at, carrier, state in rows_of(
        Parcel.select(Parcel.logged_at, Parcel.collected_at, Parcel.carrier, Parcel.state).where(
            where
        )
    ):
        days[logged_at.astimezone(zone).date()] += 1
        carriers[carrier] += 1
        states[state] += 1
        if state == ParcelState.COLLECTED and collected_at is not None:
            waits.append(max(0.0, (collected_at - logged_at).total_seconds()))
    report = DeliveryReport(first_day, last_day)
    report.per_day = [
        (first_day + timedelta(days=n), days[first_day + timedelta(days=n)])
        for n in range((last_day - first_day).days + 1)
    ]
    report.per_carrier = sorted(carriers.items(), key=lambda item: (-item[1], item[0]))
    report.logged = sum(days.values())
    report.collected = states[ParcelState.COLLECTED]
    report.returned = states[ParcelState.RETURNED]
    report.waiting = states[ParcelState.WAITING]
    report.median_pickup_seconds = statistics.median(waits) if waits else None
    return report


def uncollected(viewer: Viewer, now: datetime) -> Iterator[ParcelRow]:
    """Every waiting parcel of the viewer, newest first, page by page (no limit)."""
    after = ""
    while True:
        rows, after = parcel_page(viewer, ParcelFilter(state=ParcelState.WAITING), now, after, 500)
        yield from rows
        if not after:
            return


CSV_COLUMNS = (
    "parcel_ref",
    "logged_at",
    "days_waiting",
    "recipient",
    "company",
    "kind",
    "carrier",
    "items",
    "waybill",
    "shelf",
    "pickup_code",
    "recipient_left",
    "kiosk",
)


def _cell(value: str) -> str:
    """A cell no spreadsheet runs as a formula (=, +, -, @ at the start)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def uncollected_csv(viewer: Viewer, now: datetime, zone: ZoneInfo) -> Iterator[str]:
    """The uncollected parcels as CSV (UTF-8 with a BOM, so spreadsheets read Chinese)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + buffer.getvalue()
    for row in uncollected(viewer, now):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            [
                row.ref,
                row.logged_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                (now - row.logged_at).days,
                _cell(row.recipient),
                _cell(row.company),
                row.kind,
                row.carrier,
                row.items,
                _cell(row.waybill),
                _cell(row.shelf),
                row.pickup_code,
                "yes" if row.recipient_left else "no",
                _cell(row.kiosk_name),
            ]
        )
        yield buffer.getvalue()
