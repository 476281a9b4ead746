"""What the office's pages read: who is on site and the visit log (with its CSV export).
No web imports: the CLI and benchmarks use it too.

The reports (kiosk.office.visit_reports), the check of each kiosk's event chain
(kiosk.office.event_chains) and a year of made-up visits (kiosk.office.year_seed) live in
modules of their own and are re-exported here, where the pages and the tests find them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from peewee import JOIN, SQL, Database, Tuple, fn

from kiosk.dbkit.rows import rows_of
from kiosk.domain import names

# The same figures as the kiosk's own report (kiosk.services.reports), computed in SQL here.
from kiosk.domain.text import stored_text
from kiosk.domain.values import (
    ON_SITE_STATES,
    VisitState,
)
from kiosk.office.event_chains import ChainCheck, verify_chain, verify_site_chains
from kiosk.office.models import Kiosk, OfficeHost, OfficeVisit
from kiosk.office.visit_names import visit_name_key
from kiosk.office.visit_reports import (
    NOT_ARRIVED,
    PERIODS,
    HostFigures,
    OfficeReport,
    Period,
    build_report,
    period_days,
)
from kiosk.office.year_seed import seed_year

ON_SITE = tuple(sorted(state.value for state in ON_SITE_STATES))
LOG_PAGE_SIZE = 50
#: The reports, the chain check and the year of visits live in modules of their own; kept
#: importable from here for the pages, the CLI, the benchmarks and the tests.
__all__ = ["NOT_ARRIVED", "PERIODS", "ChainCheck", "HostFigures", "OfficeReport", "Period",
           "build_report", "period_days", "seed_year", "verify_chain", "verify_site_chains",
           "visit_name_key"]  # fmt: skip
#: How the visit log is ordered: the arrival, or the last change for a visit never arrived.
log_time = fn.COALESCE(OfficeVisit.arrived_at, OfficeVisit.updated_at)


def _name_terms(query: str) -> list[str]:
    terms = [names.exact_key(query), names.latin_key(query)]
    # LIKE's wildcards are never part of a key: a typed % or _ must not match everything.
    cleaned = [term.replace("%", "").replace("_", "").replace("\\", "") for term in terms]
    return list(dict.fromkeys(term for term in cleaned if term))


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# ---------------------------------------------------------------- on site now


@dataclass(frozen=True)
class OnSiteRow:
    ref: str
    visitor_name: str
    company: str
    host_name: str
    kiosk_name: str
    state: str
    level: str
    escort_required: bool
    arrived_at: datetime | None
    host_notified_at: datetime | None
    host_acknowledged_at: datetime | None

    def waiting_seconds(self, now: datetime) -> float | None:
        """How long the visitor has waited for the host (so far, or until answered)."""
        told = self.host_notified_at or self.arrived_at
        if told is None:
            return None
        until = self.host_acknowledged_at or now
        return max(0.0, (until - told).total_seconds())

    def waiting_now(self) -> bool:
        return self.state != VisitState.HOST_ACKNOWLEDGED.value


def on_site(site_id: int) -> list[OnSiteRow]:
    """Everyone inside now, at every kiosk of the site, earliest arrival first."""
    query = (
        OfficeVisit.select(
            OfficeVisit.ref,
            OfficeVisit.visitor_name,
            OfficeVisit.company,
            OfficeHost.name,
            Kiosk.name,
            Kiosk.kiosk_id,
            OfficeVisit.state,
            OfficeVisit.level,
            OfficeVisit.escort_required,
            OfficeVisit.arrived_at,
            OfficeVisit.host_notified_at,
            OfficeVisit.host_acknowledged_at,
        )
        .join(Kiosk, on=(OfficeVisit.kiosk == Kiosk.id))
        .join(
            OfficeHost,
            JOIN.LEFT_OUTER,
            on=(OfficeHost.ref == OfficeVisit.host_ref) & (OfficeHost.site == OfficeVisit.site),
        )
        .where((OfficeVisit.site == site_id) & OfficeVisit.state.in_(ON_SITE))
        .order_by(OfficeVisit.arrived_at, OfficeVisit.id)
    )
    return [
        OnSiteRow(
            ref=ref,
            visitor_name=stored_text(name),
            company=stored_text(company),
            host_name=stored_text(host),
            kiosk_name=kiosk_name or kiosk_id,
            state=state,
            level=stored_text(level),
            escort_required=bool(escort),
            arrived_at=arrived,
            host_notified_at=notified,
            host_acknowledged_at=acknowledged,
        )
        for (
            ref,
            name,
            company,
            host,
            kiosk_name,
            kiosk_id,
            state,
            level,
            escort,
            arrived,
            notified,
            acknowledged,
        ) in rows_of(query)
    ]


def roll_call(site_id: int) -> list[OnSiteRow]:
    """The evacuation list: everyone on site, by name. Every row is listed whatever it
    holds (a missing name, host or arrival is shown as "–" by the page)."""
    return sorted(on_site(site_id), key=lambda row: (names.exact_key(row.visitor_name), row.ref))


# ---------------------------------------------------------------- the visit log


@dataclass(frozen=True)
class VisitFilter:
    query: str = ""
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    host_ref: str = ""
    kiosk_id: str = ""
    state: str = ""
    purpose: str = ""

    def as_params(self) -> dict[str, str]:
        """The filter as the query string of the log's links (the export, the next page)."""
        values = {
            "q": self.query,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "host": self.host_ref,
            "kiosk": self.kiosk_id,
            "state": self.state,
            "purpose": self.purpose,
        }
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class LogRow:
    id: int
    ref: str
    at: datetime
    visitor_name: str
    company: str
    host_name: str
    department: str
    kiosk_name: str
    state: str
    purpose: str
    level: str
    method: str
    escort_required: bool
    arrived_at: datetime | None
    left_at: datetime | None
    response_seconds: float | None
    satisfaction: int | None
    anonymised: bool

    @property
    def cursor(self) -> str:
        return f"{_ms(self.at)}.{self.id}"


def _log_query(site_id: int, wanted: VisitFilter, zone: ZoneInfo) -> Any:
    query = (
        OfficeVisit.select(
            OfficeVisit.id,
            OfficeVisit.ref,
            log_time.alias("at"),
            OfficeVisit.visitor_name,
            OfficeVisit.company,
            OfficeHost.name,
            OfficeHost.department,
            Kiosk.name,
            Kiosk.kiosk_id,
            OfficeVisit.state,
            OfficeVisit.purpose,
            OfficeVisit.level,
            OfficeVisit.method,
            OfficeVisit.escort_required,
            OfficeVisit.arrived_at,
            OfficeVisit.left_at,
            OfficeVisit.host_notified_at,
            OfficeVisit.host_acknowledged_at,
            OfficeVisit.satisfaction,
            OfficeVisit.anonymised_at,
        )
        .join(Kiosk, on=(OfficeVisit.kiosk == Kiosk.id))
        .join(
            OfficeHost,
            JOIN.LEFT_OUTER,
            on=(OfficeHost.ref == OfficeVisit.host_ref) & (OfficeHost.site == OfficeVisit.site),
        )
        .where(OfficeVisit.site == site_id)
    )
    return _log_filters(query, wanted, zone)


def _log_filters(query: Any, wanted: VisitFilter, zone: ZoneInfo) -> Any:
    """The filter's conditions on a query of one site's visits (the kiosk by a subquery,
    so the count needs no join)."""
    if wanted.date_from:
        query = query.where(log_time >= _ms(datetime.combine(wanted.date_from, time.min, zone)))
    if wanted.date_to:
        after = datetime.combine(wanted.date_to + timedelta(days=1), time.min, zone)
        query = query.where(log_time < _ms(after))
    for column, value in (
        (OfficeVisit.host_ref, wanted.host_ref),
        (OfficeVisit.state, wanted.state),
        (OfficeVisit.purpose, wanted.purpose),
    ):
        if value:
            query = query.where(column == value)
    if wanted.kiosk_id:
        kiosk_ids = Kiosk.select(Kiosk.id).where(Kiosk.kiosk_id == wanted.kiosk_id)
        query = query.where(OfficeVisit.kiosk.in_(kiosk_ids))
    terms = _name_terms(wanted.query) if wanted.query else []
    if wanted.query and not terms:
        query = query.where(SQL("1 = 0"))
    if terms:
        matches = OfficeVisit.name_key.contains(terms[0])
        for term in terms[1:]:
            matches |= OfficeVisit.name_key.contains(term)
        query = query.where(matches)
    return query


def _log_rows(query: Any) -> list[LogRow]:
    rows = []
    for (
        row_id,
        ref,
        at,
        name,
        company,
        host,
        department,
        kiosk_name,
        kiosk_id,
        state,
        purpose,
        level,
        method,
        escort,
        arrived,
        left,
        notified,
        acknowledged,
        satisfaction,
        anonymised,
    ) in rows_of(query):
        told = notified or arrived
        rows.append(
            LogRow(
                id=row_id,
                ref=ref,
                at=at if isinstance(at, datetime) else OfficeVisit.updated_at.python_value(at),
                visitor_name=name,
                company=company,
                host_name=host or "",
                department=department or "",
                kiosk_name=kiosk_name or kiosk_id,
                state=state,
                purpose=purpose,
                level=level,
                method=method,
                escort_required=bool(escort),
                arrived_at=arrived,
                left_at=left,
                response_seconds=(acknowledged - told).total_seconds()
                if acknowledged and told
                else None,
                satisfaction=satisfaction,
                anonymised=anonymised is not None,
            )
        )
    return rows


def _parse_cursor(cursor: str) -> tuple[int, int] | None:
    at, _, row_id = cursor.partition(".")
    try:
        return int(at), int(row_id)
    except ValueError:
        return None


def visit_log_page(
    site_id: int, wanted: VisitFilter, zone: ZoneInfo, after: str = "", size: int = LOG_PAGE_SIZE
) -> tuple[list[LogRow], str]:
    """One page of the log, newest first, and the cursor of the next page ("" at the end).

    Keyset pagination: the next page starts below the last row's (time, id), which the
    index on (site, time, id) finds at once however deep the page."""
    query = _log_query(site_id, wanted, zone)
    position = _parse_cursor(after) if after else None
    if position:
        query = query.where(Tuple(log_time, OfficeVisit.id) < Tuple(*position))
    rows = _log_rows(query.order_by(log_time.desc(), OfficeVisit.id.desc()).limit(size + 1))
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].cursor if more and rows else "")


#: The visit log counts its matches up to this many; past it, the page says "more than".
LOG_COUNT_CAP = 10_000


def visit_log_count(
    site_id: int, wanted: VisitFilter, zone: ZoneInfo, cap: int | None = LOG_COUNT_CAP
) -> int:
    """How many visits match, counted up to `cap` + 1 (a count above `cap` means "more than
    `cap`"): counting each of a flagship site's millions of visits whenever the log opens
    took seconds (make growth), and nobody reads the log's tenth thousand visit but by a
    filter. `cap=None` counts them all."""
    # The visits alone: every visit has its kiosk and at most one host row, so the log's
    # joins change no count, and without them PostgreSQL counts from an index alone.
    query = _log_filters(
        OfficeVisit.select(OfficeVisit.id).where(OfficeVisit.site == site_id), wanted, zone
    )
    return int((query if cap is None else query.limit(cap + 1)).count())


CSV_HEADER = (
    "time",
    "visitor",
    "company",
    "host",
    "department",
    "kiosk",
    "state",
    "purpose",
    "level",
    "method",
    "escort",
    "arrived",
    "left",
    "response_seconds",
    "satisfaction",
    "ref",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a quote first,
    so a visitor named "=HYPERLINK(...)" cannot run anything in Excel."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def visit_log_csv(
    db: Database, site_id: int, wanted: VisitFilter, zone: ZoneInfo, batch: int = 1000
) -> Iterator[str]:
    """The filtered log as CSV text, piece by piece: a UTF-8 byte order mark first (Excel
    then reads Chinese names right), then the rows in keyset batches, each batch on its own
    connection, so a long export holds no transaction open."""

    def when(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if moment else ""

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    yield "\ufeff" + buffer.getvalue()
    cursor = ""
    while True:
        with db.connection_context():
            rows, cursor = visit_log_page(site_id, wanted, zone, cursor, batch)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows:
            writer.writerow(
                [
                    csv_cell(value)
                    for value in (
                        when(row.at),
                        row.visitor_name,
                        row.company,
                        row.host_name,
                        row.department,
                        row.kiosk_name,
                        row.state,
                        row.purpose,
                        row.level,
                        row.method,
                        "yes" if row.escort_required else "no",
                        when(row.arrived_at),
                        when(row.left_at),
                        "" if row.response_seconds is None else round(row.response_seconds),
                        row.satisfaction,
                        row.ref,
                    )
                ]
            )
        yield buffer.getvalue()
        if not cursor:
            return


def log_choices(site_id: int) -> dict[str, list[tuple[str, str]]]:
    """The values the log's filters offer: the site's hosts and kiosks (the states and
    purposes are the fixed codes, kiosk.office.web.labels)."""
    hosts = rows_of(
        OfficeHost.select(OfficeHost.ref, OfficeHost.name)
        .where(OfficeHost.site == site_id)
        .order_by(OfficeHost.name)
    )
    kiosks = rows_of(
        Kiosk.select(Kiosk.kiosk_id, Kiosk.name).where(Kiosk.site == site_id).order_by(Kiosk.name)
    )
    return {
        "hosts": [(ref, name) for ref, name in hosts],
        "kiosks": [(kiosk_id, name or kiosk_id) for kiosk_id, name in kiosks],
    }
