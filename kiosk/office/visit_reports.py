"""The office's reports of a site's visits over a day, an ISO week or a month.

They keep the kiosk's definitions (kiosk.services.reports): a visit counts when it arrived in
the period and was not denied; the response time runs from the host being told (at check-in,
the same moment as the arrival on the kiosk) to the acknowledgement, and is summarised as
the median, the nearest-rank 90th percentile and the share within the 1-minute standard.
Every figure is aggregated in SQL over indexed columns, and none reads a personal field, so
the counts are the same after the retention purge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from peewee import JOIN, SQL, Case, Database, PostgresqlDatabase, fn

from kiosk.dbkit.rows import rows_of

# The same figures as the kiosk's own report (kiosk.services.reports), computed in SQL here.
from kiosk.domain.report_values import ResponseTimes, Satisfaction
from kiosk.domain.values import ATTENDED_WITHIN, VisitState
from kiosk.office.models import OfficeAppointment, OfficeHost, OfficeVisit, Site, office_database

Period = Literal["day", "week", "month"]
PERIODS: tuple[Period, ...] = ("day", "week", "month")
NOT_ARRIVED = (VisitState.EXPECTED.value, VisitState.NO_SHOW.value)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


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
    per_bucket, denied = _visits_per_day(arrived, bounds)
    per_day = [(d, per_bucket.get(n, 0)) for n, d in enumerate(days)]
    visits = sum(per_bucket.values())

    def by(column: Any) -> dict[str, int]:
        counts = _counts(
            OfficeVisit.select(column, fn.COUNT(OfficeVisit.id))
            .where(admitted)
            .group_by(column)
            .order_by(fn.COUNT(OfficeVisit.id).desc(), column)
        )
        return counts

    by_purpose = by(OfficeVisit.purpose)
    response, per_host_response = _response_times(site.id, start_ms, end_ms)
    by_host = _by_host(admitted, per_host_response)
    by_department = _by_department(by_host)
    response.unanswered = visits - response.answered
    no_show_appointments, no_show_visits = _no_shows(site, start_ms, end_ms, now)
    return OfficeReport(
        period=period,
        first_day=first,
        last_day=last,
        per_day=per_day,
        visits=visits,
        denied=denied,
        by_purpose=by_purpose,
        by_department=by_department,
        by_level=by(OfficeVisit.level),
        by_method=by(OfficeVisit.method),
        by_host=by_host,
        response=response,
        satisfaction=_satisfaction(admitted),
        no_show_appointments=no_show_appointments,
        no_show_visits=no_show_visits,
    )


#: A visit's host, by ref within the visit's site (a visit may name a host not synced yet).
_HOST_OF_VISIT = (OfficeHost.ref == OfficeVisit.host_ref) & (OfficeHost.site == OfficeVisit.site)


def _visits_per_day(arrived: Any, bounds: list[int]) -> tuple[dict[int, int], int]:
    """The visits admitted per local day (by the day's index), and those denied.

    Each day's bounds are computed in the site's zone by the caller (a day may be 23 or 25
    hours long), and the database sorts each visit into its day."""
    denied_flag = Case(None, [(OfficeVisit.state == VisitState.DENIED.value, 1)], 0)
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
    return per_bucket, denied


def _by_host(admitted: Any, per_host_response: dict[str, ResponseTimes]) -> list[HostFigures]:
    host_visits = rows_of(
        OfficeVisit.select(
            OfficeVisit.host_ref, OfficeHost.name, OfficeHost.department, fn.COUNT(OfficeVisit.id)
        )
        .join(OfficeHost, JOIN.LEFT_OUTER, on=_HOST_OF_VISIT)
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
    return by_host


def _by_department(by_host: list[HostFigures]) -> dict[str, int]:
    """The visits per department of their host, summed from the per-host figures (one scan
    of the period's visits fewer): a host the office does not know counts as "(none)"."""
    counts: dict[str, int] = {}
    for figures in by_host:
        department = figures.department or "(none)"
        counts[department] = counts.get(department, 0) + figures.visits
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _satisfaction(admitted: Any) -> Satisfaction:
    ratings: dict[int, int] = {
        int(score): int(count)
        for score, count in rows_of(
            OfficeVisit.select(OfficeVisit.satisfaction, fn.COUNT(OfficeVisit.id))
            .where(admitted & OfficeVisit.satisfaction.is_null(False))
            .group_by(OfficeVisit.satisfaction)
        )
    }
    rated = sum(ratings.values())
    return Satisfaction(
        ratings=rated,
        average=round(sum(score * count for score, count in ratings.items()) / rated, 2)
        if rated
        else None,
        distribution={score: int(ratings.get(score, 0)) for score in range(1, 6)},
    )


def _no_shows(site: Site, start_ms: int, end_ms: int, now: datetime) -> tuple[int, int]:
    """Appointments booked here whose time is over with nobody arrived, and the visits
    kiosks marked as no-shows for appointments the office never booked."""
    no_show_appointments = (
        OfficeAppointment.select()
        .where(
            (OfficeAppointment.site == site.id)
            & (OfficeAppointment.starts_at >= start_ms)
            & (OfficeAppointment.starts_at < end_ms)
            & (OfficeAppointment.ends_at <= now)
            & OfficeAppointment.cancelled_at.is_null()
            # Copied from the visit when it arrived (kiosk.office.appointment_arrivals).
            & OfficeAppointment.visit_arrived_at.is_null()
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
    return int(no_show_appointments), int(no_show_visits)


def _response_times(
    site_id: int, start_ms: int, end_ms: int
) -> tuple[ResponseTimes, dict[str, ResponseTimes]]:
    """Median, p90 and the share within the standard, overall and per host, in one SQL
    statement (one scan of the period's visits)."""
    db = OfficeVisit._meta.database
    if isinstance(office_database.obj, PostgresqlDatabase):  # the models' database is a proxy
        return _response_times_by_aggregates(db, site_id, start_ms, end_ms)
    return _response_times_by_windows(db, site_id, start_ms, end_ms)


def _response_times_by_windows(
    db: Database, site_id: int, start_ms: int, end_ms: int
) -> tuple[ResponseTimes, dict[str, ResponseTimes]]:
    """The figures by window functions, which SQLite has (it has no percentile aggregates):
    each answered visit's response time is ranked over all and within its host's, and only
    the rows whose rank is a median or the 90th percentile in either come back."""
    mark = db.param
    limit_ms = int(ATTENDED_WITHIN.total_seconds() * 1000)

    def picked(rank: str, n: str) -> str:
        return f"({rank} = ({n} + 1) / 2 OR {rank} = {n} / 2 + 1 OR {rank} = (9 * {n} + 9) / 10)"

    within = f"SUM(CASE WHEN ms <= {limit_ms} THEN 1 ELSE 0 END)"
    host = 'PARTITION BY "host_ref"'
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
                   ROW_NUMBER() OVER (ORDER BY ms) AS rank_all,
                   COUNT(*) OVER () AS n_all,
                   {within} OVER () AS within_all,
                   ROW_NUMBER() OVER ({host} ORDER BY ms) AS rank_host,
                   COUNT(*) OVER ({host}) AS n_host,
                   {within} OVER ({host}) AS within_host
            FROM answered
        )
        SELECT "host_ref", ms, rank_all, n_all, within_all, rank_host, n_host, within_host
        FROM ranked
        WHERE {picked("rank_all", "n_all")} OR {picked("rank_host", "n_host")}
    """
    params = (site_id, start_ms, end_ms, *NOT_ARRIVED, VisitState.DENIED.value)
    ranks: dict[str, dict[int, float]] = {}
    sizes: dict[str, tuple[int, int]] = {}
    overall = "\0all"  # a key no host_ref has
    for host_ref, ms, *counted in db.execute_sql(sql, params).fetchall():
        rank_all, n_all, within_all, rank_host, n_host, within_host = map(int, counted)
        for key, rank, n, inside in (
            (overall, rank_all, n_all, within_all),
            (host_ref, rank_host, n_host, within_host),
        ):
            if rank in ((n + 1) // 2, n // 2 + 1, (9 * n + 9) // 10):
                ranks.setdefault(key, {})[rank] = float(ms) / 1000
                sizes[key] = (n, inside)
    figures = {key: _figures(ranks[key], n, inside) for key, (n, inside) in sizes.items()}
    everyone = figures.pop(overall, ResponseTimes())
    return everyone, figures


def _response_times_by_aggregates(
    db: Database, site_id: int, start_ms: int, end_ms: int
) -> tuple[ResponseTimes, dict[str, ResponseTimes]]:
    """The same figures by PostgreSQL's ordered-set aggregates, a third of the windows' time
    on a month of a big site: percentile_cont(0.5) is the mean of the two middle values, and
    percentile_disc(0.9) the nearest rank ceil(0.9 n), which is (9 n + 9) // 10 above."""
    limit_ms = int(ATTENDED_WITHIN.total_seconds() * 1000)
    sql = f"""
        SELECT "host_ref", GROUPING("host_ref"), COUNT(*),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY ms),
               percentile_disc(0.9) WITHIN GROUP (ORDER BY ms),
               SUM(CASE WHEN ms <= {limit_ms} THEN 1 ELSE 0 END)
        FROM (
            SELECT "host_ref",
                   "host_acknowledged_at" - COALESCE("host_notified_at", "arrived_at") AS ms
            FROM "office_visit"
            WHERE "site_id" = %s AND "arrived_at" >= %s AND "arrived_at" < %s
              AND "state" NOT IN (%s, %s, %s) AND "host_acknowledged_at" IS NOT NULL
        ) AS answered
        GROUP BY GROUPING SETS (("host_ref"), ())
    """
    params = (site_id, start_ms, end_ms, *NOT_ARRIVED, VisitState.DENIED.value)
    everyone, per_host = ResponseTimes(), {}
    for host_ref, is_total, n, median_ms, p90_ms, within in db.execute_sql(sql, params):
        if not n:  # the grand total's row comes even when nobody was answered
            continue
        figures = ResponseTimes(
            answered=int(n),
            median_seconds=float(median_ms) / 1000,
            p90_seconds=float(p90_ms) / 1000,
            within_standard=int(within) / int(n),
        )
        if is_total:
            everyone = figures
        else:
            per_host[host_ref] = figures
    return everyone, per_host


def _figures(ranks: dict[int, float], n: int, within: int) -> ResponseTimes:
    """ResponseTimes from the response times (seconds) at the median and p90 ranks."""
    return ResponseTimes(
        answered=n,
        median_seconds=(ranks[(n + 1) // 2] + ranks[n // 2 + 1]) / 2,
        p90_seconds=ranks[(9 * n + 9) // 10],
        within_standard=within / n,
    )
