"""What the office's pages read: who is on site, the visit log, the reports, and the check of
each kiosk's event chain. No web imports: the CLI and benchmarks use it too.

The reports keep the kiosk's definitions (kiosk.services.reports): a visit counts when it
arrived in the period and was not denied; the response time runs from the host being told
(at check-in, the same moment as the arrival on the kiosk) to the acknowledgement, and is
summarised as the median, the nearest-rank 90th percentile and the share within the
1-minute standard. Every figure is aggregated in SQL over indexed columns, and none reads a
personal field, so the counts are the same after the retention purge.
"""

from __future__ import annotations

import csv
import io
import json
import random
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from peewee import JOIN, SQL, Case, Database, Tuple, fn

from kiosk.dbkit.rows import insert_rows, rows_of
from kiosk.domain import names
from kiosk.domain.event_chain import GENESIS, canonical_json, event_chain_hash, payload_digest

# The same figures as the kiosk's own report (kiosk.services.reports), computed in SQL here.
from kiosk.domain.report_values import ResponseTimes, Satisfaction
from kiosk.domain.text import stored_text
from kiosk.domain.values import (
    ATTENDED_WITHIN,
    ON_SITE_STATES,
    CheckInMethod,
    Purpose,
    VisitorLevel,
    VisitState,
)
from kiosk.office.models import Event, Kiosk, OfficeAppointment, OfficeHost, OfficeVisit, Site

Period = Literal["day", "week", "month"]
PERIODS: tuple[Period, ...] = ("day", "week", "month")
ON_SITE = tuple(sorted(state.value for state in ON_SITE_STATES))
NOT_ARRIVED = (VisitState.EXPECTED.value, VisitState.NO_SHOW.value)
LOG_PAGE_SIZE = 50
#: How the visit log is ordered: the arrival, or the last change for a visit never arrived.
log_time = fn.COALESCE(OfficeVisit.arrived_at, OfficeVisit.updated_at)


def visit_name_key(name: str) -> str:
    """Keys a visitor's name is found by: as typed, in pinyin (spaced, joined and with the
    words sorted, so 张伟, "zhang wei" and "Wei Zhang" all find 张伟) and by initials."""
    if not name:
        return ""
    return "|".join(dict.fromkeys((names.search_key(name), names.latin_key(name))))


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
    if wanted.date_from:
        query = query.where(log_time >= _ms(datetime.combine(wanted.date_from, time.min, zone)))
    if wanted.date_to:
        after = datetime.combine(wanted.date_to + timedelta(days=1), time.min, zone)
        query = query.where(log_time < _ms(after))
    for column, value in (
        (OfficeVisit.host_ref, wanted.host_ref),
        (OfficeVisit.state, wanted.state),
        (OfficeVisit.purpose, wanted.purpose),
        (Kiosk.kiosk_id, wanted.kiosk_id),
    ):
        if value:
            query = query.where(column == value)
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


def visit_log_count(site_id: int, wanted: VisitFilter, zone: ZoneInfo) -> int:
    return int(_log_query(site_id, wanted, zone).count())


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


# ---------------------------------------------------------------- reports


@dataclass
class HostFigures:
    host_ref: str
    name: str
    department: str
    visits: int
    response: ResponseTimes


@dataclass
class OfficeReport:
    period: Period
    first_day: date
    last_day: date  # inclusive
    per_day: list[tuple[date, int]]
    visits: int
    denied: int
    by_purpose: dict[str, int]
    by_department: dict[str, int]
    by_level: dict[str, int]
    by_method: dict[str, int]
    by_host: list[HostFigures]
    response: ResponseTimes
    satisfaction: Satisfaction
    no_show_appointments: int
    no_show_visits: int

    @property
    def no_shows(self) -> int:
        return self.no_show_appointments + self.no_show_visits


def period_days(period: Period, day: date) -> tuple[date, date]:
    """The first and last day of the day, ISO week (from Monday) or month holding `day`."""
    if period == "day":
        return day, day
    if period == "week":
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=6)
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _midnight_ms(day: date, zone: ZoneInfo) -> int:
    return _ms(datetime.combine(day, time.min, zone))


def _arrived_in(site_id: int, start_ms: int, end_ms: int) -> Any:
    return (
        (OfficeVisit.site == site_id)
        & (OfficeVisit.arrived_at >= start_ms)
        & (OfficeVisit.arrived_at < end_ms)
        & OfficeVisit.state.not_in(NOT_ARRIVED)
    )


def _counts(query: Any) -> dict[str, int]:
    return {str(key or "(none)"): int(count) for key, count in rows_of(query)}


def build_report(
    site: Site, period: Period, day: date, zone: ZoneInfo, now: datetime
) -> OfficeReport:
    first, last = period_days(period, day)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    bounds = [_midnight_ms(d, zone) for d in [*days, last + timedelta(days=1)]]
    start_ms, end_ms = bounds[0], bounds[-1]
    arrived = _arrived_in(site.id, start_ms, end_ms)
    admitted = arrived & (OfficeVisit.state != VisitState.DENIED.value)
    denied_flag = Case(None, [(OfficeVisit.state == VisitState.DENIED.value, 1)], 0)

    # Visits per local day: each day's bounds are computed here in the site's zone (a day
    # may be 23 or 25 hours long), and the database sorts each visit into its day.
    bucket = Case(None, [(OfficeVisit.arrived_at < edge, n) for n, edge in enumerate(bounds[1:])])
    per_bucket: dict[int, int] = {}
    denied = 0
    for index, is_denied, count in rows_of(
        OfficeVisit.select(bucket, denied_flag, fn.COUNT(OfficeVisit.id))
        .where(arrived)
        .group_by(SQL("1"), SQL("2"))  # by position: PostgreSQL cannot match bound CASEs
    ):
        if is_denied:
            denied += int(count)
        else:
            per_bucket[int(index)] = per_bucket.get(int(index), 0) + int(count)
    per_day = [(d, per_bucket.get(n, 0)) for n, d in enumerate(days)]

    def by(column: Any) -> dict[str, int]:
        counts = _counts(
            OfficeVisit.select(column, fn.COUNT(OfficeVisit.id))
            .where(admitted)
            .group_by(column)
            .order_by(fn.COUNT(OfficeVisit.id).desc(), column)
        )
        return counts

    by_department = _counts(
        OfficeVisit.select(OfficeHost.department, fn.COUNT(OfficeVisit.id))
        .join(
            OfficeHost,
            JOIN.LEFT_OUTER,
            on=(OfficeHost.ref == OfficeVisit.host_ref) & (OfficeHost.site == OfficeVisit.site),
        )
        .where(admitted)
        .group_by(OfficeHost.department)
        .order_by(fn.COUNT(OfficeVisit.id).desc(), OfficeHost.department)
    )
    by_purpose = by(OfficeVisit.purpose)
    response, per_host_response = _response_times(site.id, start_ms, end_ms)
    host_visits = rows_of(
        OfficeVisit.select(
            OfficeVisit.host_ref, OfficeHost.name, OfficeHost.department, fn.COUNT(OfficeVisit.id)
        )
        .join(
            OfficeHost,
            JOIN.LEFT_OUTER,
            on=(OfficeHost.ref == OfficeVisit.host_ref) & (OfficeHost.site == OfficeVisit.site),
        )
        .where(admitted)
        .group_by(OfficeVisit.host_ref, OfficeHost.name, OfficeHost.department)
        .order_by(fn.COUNT(OfficeVisit.id).desc(), OfficeVisit.host_ref)
    )
    by_host = [
        HostFigures(
            host_ref=ref,
            name=name or ref or "(none)",
            department=department or "",
            visits=int(count),
            response=per_host_response.get(ref, ResponseTimes()),
        )
        for ref, name, department, count in host_visits
    ]
    for figures in by_host:
        figures.response.unanswered = figures.visits - figures.response.answered
    response.unanswered = sum(per_bucket.values()) - response.answered

    ratings: dict[int, int] = {
        int(score): int(count)
        for score, count in rows_of(
            OfficeVisit.select(OfficeVisit.satisfaction, fn.COUNT(OfficeVisit.id))
            .where(admitted & OfficeVisit.satisfaction.is_null(False))
            .group_by(OfficeVisit.satisfaction)
        )
    }
    rated = sum(ratings.values())
    satisfaction = Satisfaction(
        ratings=rated,
        average=round(sum(score * count for score, count in ratings.items()) / rated, 2)
        if rated
        else None,
        distribution={score: int(ratings.get(score, 0)) for score in range(1, 6)},
    )

    # No-shows: appointments booked here whose time is over with nobody arrived, and the
    # visits kiosks marked as no-shows for appointments the office never booked.
    arrived_visit = OfficeVisit.select(OfficeVisit.id).where(
        (OfficeVisit.ref == OfficeAppointment.visit_ref) & OfficeVisit.arrived_at.is_null(False)
    )
    no_show_appointments = (
        OfficeAppointment.select()
        .where(
            (OfficeAppointment.site == site.id)
            & (OfficeAppointment.starts_at >= start_ms)
            & (OfficeAppointment.starts_at < end_ms)
            & (OfficeAppointment.ends_at <= now)
            & OfficeAppointment.cancelled_at.is_null()
            & ~fn.EXISTS(arrived_visit)
        )
        .count()
    )
    booked_here = OfficeAppointment.select(OfficeAppointment.id).where(
        OfficeAppointment.visit_ref == OfficeVisit.ref
    )
    no_show_visits = (
        OfficeVisit.select()
        .where(
            (OfficeVisit.site == site.id)
            & (OfficeVisit.state == VisitState.NO_SHOW.value)
            & (OfficeVisit.updated_at >= start_ms)
            & (OfficeVisit.updated_at < end_ms)
            & ~fn.EXISTS(booked_here)
        )
        .count()
    )
    return OfficeReport(
        period=period,
        first_day=first,
        last_day=last,
        per_day=per_day,
        visits=sum(per_bucket.values()),
        denied=denied,
        by_purpose=by_purpose,
        by_department=by_department,
        by_level=by(OfficeVisit.level),
        by_method=by(OfficeVisit.method),
        by_host=by_host,
        response=response,
        satisfaction=satisfaction,
        no_show_appointments=int(no_show_appointments),
        no_show_visits=int(no_show_visits),
    )


def _response_times(
    site_id: int, start_ms: int, end_ms: int
) -> tuple[ResponseTimes, dict[str, ResponseTimes]]:
    """Median, p90 and the share within the standard, overall and per host, in SQL: a window
    ranks each answered visit's response time, and only the ranks that are the median or
    the 90th percentile come back."""
    db = OfficeVisit._meta.database
    mark = db.param
    limit_ms = int(ATTENDED_WITHIN.total_seconds() * 1000)
    results: list[dict[str, ResponseTimes]] = []
    for partition in ("", 'PARTITION BY "host_ref"'):
        sql = f"""
            WITH answered AS (
                SELECT "host_ref",
                       "host_acknowledged_at" - COALESCE("host_notified_at", "arrived_at") AS ms
                FROM "office_visit"
                WHERE "site_id" = {mark} AND "arrived_at" >= {mark} AND "arrived_at" < {mark}
                  AND "state" NOT IN ({mark}, {mark}, {mark})
                  AND "host_acknowledged_at" IS NOT NULL
            ), ranked AS (
                SELECT "host_ref", ms,
                       ROW_NUMBER() OVER ({partition} ORDER BY ms) AS rank,
                       COUNT(*) OVER ({partition}) AS n,
                       SUM(CASE WHEN ms <= {limit_ms} THEN 1 ELSE 0 END) OVER ({partition})
                           AS within
                FROM answered
            )
            SELECT "host_ref", ms, rank, n, within FROM ranked
            WHERE rank = (n + 1) / 2 OR rank = n / 2 + 1 OR rank = (9 * n + 9) / 10
        """
        params = (site_id, start_ms, end_ms, *NOT_ARRIVED, VisitState.DENIED.value)
        picked: dict[str, dict[int, float]] = {}
        sizes: dict[str, tuple[int, int]] = {}
        for host_ref, ms, rank, n, within in db.execute_sql(sql, params).fetchall():
            key = host_ref if partition else ""
            picked.setdefault(key, {})[int(rank)] = float(ms) / 1000
            sizes[key] = (int(n), int(within))
        figures = {}
        for key, (n, within) in sizes.items():
            ranks = picked[key]
            median = (ranks[(n + 1) // 2] + ranks[n // 2 + 1]) / 2
            figures[key] = ResponseTimes(
                answered=n,
                median_seconds=median,
                p90_seconds=ranks[(9 * n + 9) // 10],
                within_standard=within / n,
            )
        results.append(figures)
    return results[0].get("", ResponseTimes()), results[1]


# ---------------------------------------------------------------- the kiosks' event chains


@dataclass
class ChainCheck:
    kiosk_id: str
    kiosk_name: str
    checked: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    unchained: int = 0  # sent before the kiosk chained its events
    gaps: list[tuple[int, int]] = field(default_factory=list)
    broken_seq: int | None = None
    problem: str = ""

    @property
    def status(self) -> str:
        if self.broken_seq is not None:
            return "broken"
        if self.gaps:
            return "gap"
        return "ok" if self.checked else "empty"


def verify_chain(kiosk: Kiosk) -> ChainCheck:
    """Walk one kiosk's events in seq order and check every link: the payload against its
    digest (unless the purge anonymised it), each hash against its fields, and each
    prev_hash against the event before. Missing seqs are gaps, not breaks: those events
    were not received (still unsent, or refused by the office); the link across a gap
    cannot be checked. Events the office made itself (seq 0) are not the kiosk's."""
    check = ChainCheck(kiosk.kiosk_id, kiosk.name or kiosk.kiosk_id)
    query = (
        Event.select(
            Event.seq,
            Event.event_id,
            Event.kind,
            Event.occurred_at,
            Event.payload,
            Event.prev_hash,
            Event.event_hash,
            Event.payload_digest,
            Event.anonymised_at,
        )
        .where((Event.kiosk == kiosk.id) & (Event.seq > 0))
        .order_by(Event.seq, Event.id)
        .tuples()
    )
    previous_seq: int | None = None
    previous_hash: str | None = None
    for (
        seq,
        event_id,
        kind,
        occurred,
        payload,
        prev_hash,
        event_hash,
        digest,
        anonymised,
    ) in query.iterator():
        check.checked += 1
        check.first_seq = seq if check.first_seq is None else check.first_seq
        check.last_seq = seq

        def broken(problem: str, at: int = seq) -> ChainCheck:
            check.broken_seq, check.problem = at, problem
            return check

        if previous_seq is not None and seq == previous_seq:
            return broken(f"two events carry seq {seq}")
        expected_before = (previous_seq or 0) + 1
        if seq > expected_before:
            check.gaps.append((expected_before, seq - 1))
            previous_hash = None
        if not event_hash:
            check.unchained += 1
            previous_seq, previous_hash = seq, None
            continue
        if anonymised is None and payload_digest(canonical_json(json.loads(payload))) != digest:
            return broken("its payload was changed after it arrived")
        if event_chain_hash(prev_hash, seq, event_id, kind, _ms(occurred), digest) != event_hash:
            return broken("its fields do not match its hash: it was changed")
        if seq == 1 and prev_hash != GENESIS:
            return broken("the first event does not start the chain")
        if previous_hash is not None and prev_hash != previous_hash:
            return broken(
                f"it does not follow event {previous_seq}: that one was changed or replaced"
            )
        previous_seq, previous_hash = seq, event_hash
    return check


def verify_site_chains(site_id: int) -> list[ChainCheck]:
    return [
        verify_chain(kiosk)
        for kiosk in Kiosk.select().where(Kiosk.site == site_id).order_by(Kiosk.name, Kiosk.id)
    ]


# ---------------------------------------------------------------- a year of visits


def seed_year(
    db: Database,
    site: Site,
    *,
    visits: int = 100_000,
    end: datetime,
    zone: ZoneInfo,
    kiosks: int = 3,
    hosts: int = 200,
    seed: int = 6,
    host_refs: Sequence[str] = (),
    visitors: Sequence[tuple[str, str]] = (),
) -> int:
    """Fill the site with a year of visits ending at `end` (for benchmarks and tests):
    hosts in departments, kiosks, office appointments (some never kept), visits with
    response times and ratings, in bulk (insert_rows), within a few seconds for 100,000.
    `host_refs` gives the site's own hosts instead of `hosts` made-up ones, and `visitors`
    the (name, company) pairs visitors are drawn from instead of "Visitor n, Example Ltd"
    (the demo office). Returns the number of visits written."""
    rng = random.Random(seed)
    now = end
    kiosk_ids = []
    with db.atomic():
        for n in range(kiosks):
            kiosk_id = f"bench-{site.id}-{n}-{secrets.token_hex(3)}"
            kiosk_ids.append(
                Kiosk.create(
                    kiosk_id=kiosk_id,
                    site=site,
                    name=f"Lobby {n + 1}",
                    auth_public_key="0" * 64,
                    badge_public_key="0" * 64,
                    enrolled_at=now,
                ).id
            )
        if not host_refs:
            departments = ["Sales", "Finance", "行政部", "Engineering", "Legal", "Facilities"]
            host_refs = [secrets.token_hex(8) for _ in range(hosts)]
            insert_rows(
                db,
                OfficeHost,
                [
                    {
                        "ref": ref,
                        "site": site.id,
                        "name": f"Host {n}",
                        "department": departments[n % len(departments)],
                        "updated_at": now,
                    }
                    for n, ref in enumerate(host_refs)
                ],
            )
        purposes = [p.value for p in Purpose]
        levels = (
            [VisitorLevel.ORDINARY.value] * 8
            + [VisitorLevel.SENIOR.value] * 1
            + [VisitorLevel.VIP.value]
        )
        methods = [m.value for m in CheckInMethod]
        first_day = (end.astimezone(zone) - timedelta(days=365)).date()
        visit_rows: list[dict[str, Any]] = []
        appointment_rows: list[dict[str, Any]] = []
        for n in range(visits):
            day = first_day + timedelta(days=rng.randrange(365))
            arrived = datetime.combine(day, time(9), zone) + timedelta(
                seconds=rng.randrange(8 * 3600)
            )
            if arrived >= end:
                arrived -= timedelta(days=365)
            ref = secrets.token_hex(8)
            host = rng.choice(host_refs)
            name, company = rng.choice(visitors) if visitors else (f"Visitor {n}", "Example Ltd")
            roll = rng.random()
            state = "checked_out" if roll < 0.93 else ("denied" if roll < 0.95 else "no_show")
            acknowledged = (
                arrived + timedelta(seconds=rng.expovariate(1 / 45))
                if state == "checked_out" and rng.random() < 0.9
                else None
            )
            method = rng.choice(methods)
            rated = state == "checked_out" and rng.random() < 0.4
            appointment_ref = secrets.token_hex(8) if method != "walk_in" else ""
            visit_rows.append(
                {
                    "ref": ref,
                    "site": site.id,
                    "kiosk": rng.choice(kiosk_ids),
                    "state": state,
                    "visitor_name": name,
                    "company": company,
                    "name_key": visit_name_key(name),
                    "host_ref": host,
                    "appointment_ref": appointment_ref,
                    "method": method,
                    "purpose": rng.choice(purposes),
                    "level": rng.choice(levels),
                    "visitor_type": "visitor",
                    "escort_required": False,
                    "arrived_at": None if state == "no_show" else arrived,
                    "host_notified_at": None if state == "no_show" else arrived,
                    "host_acknowledged_at": acknowledged,
                    "left_at": arrived + timedelta(hours=1) if state == "checked_out" else None,
                    "satisfaction": rng.randint(1, 5) if rated else None,
                    "auto_checked_out": False,
                    "updated_at": arrived + timedelta(hours=1),
                }
            )
            if appointment_ref:
                appointment_rows.append(
                    {
                        "ref": appointment_ref,
                        "site": site.id,
                        "visit_ref": ref,
                        "host_ref": host,
                        "visitor_name": name,
                        "starts_at": arrived,
                        "ends_at": arrived + timedelta(hours=1),
                        "updated_at": now,
                    }
                )
        for start in range(0, len(visit_rows), 5000):
            insert_rows(db, OfficeVisit, visit_rows[start : start + 5000])
        for start in range(0, len(appointment_rows), 5000):
            insert_rows(db, OfficeAppointment, appointment_rows[start : start + 5000])
    return len(visit_rows)
