"""The figures the procedures ask management for, daily and monthly.

Visits by purpose, host, department and level; the host response time (arrival to
acknowledgement) as median, 90th percentile and the share within the 1-minute standard;
satisfaction; no-shows. Counts survive the retention purge because they use no personal data.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal, cast

from peewee import JOIN

from kiosk.domain.report_values import ResponseTimes, Satisfaction
from kiosk.domain.text import padded
from kiosk.domain.values import ATTENDED_WITHIN, VisitState
from kiosk.services.schedule import SiteCalendar
from kiosk.storage.models import Appointment, Host, HostMessage, Visit

Period = Literal["daily", "monthly"]
_NOT_ARRIVED = (VisitState.EXPECTED.value, VisitState.NO_SHOW.value)


@dataclass
class Report:
    period: str
    start: str
    end: str
    visits: int
    by_purpose: dict[str, int]
    by_host: dict[str, int]
    by_department: dict[str, int]
    by_level: dict[str, int]
    by_method: dict[str, int]
    denied: int
    after_hours: int
    auto_checked_out: int
    messages_left: int
    no_shows: int
    response: ResponseTimes
    satisfaction: Satisfaction

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def period_bounds(period: Period, day: date, calendar: SiteCalendar) -> tuple[datetime, datetime]:
    if period == "daily":
        first, after = day, day + timedelta(days=1)
    else:
        first = day.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
    start = datetime.combine(first, time.min, calendar.zone)
    end = datetime.combine(after, time.min, calendar.zone)
    return start, end


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: the value below which `share` of the values fall."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(share * len(ordered))))
    return ordered[rank - 1]


def build_report(period: Period, day: date, calendar: SiteCalendar) -> Report:
    start, end = period_bounds(period, day, calendar)
    query = (
        Visit.select(
            Visit.state,
            Visit.purpose,
            Visit.level,
            Visit.method,
            Visit.after_hours,
            Visit.auto_checked_out,
            Visit.arrived_at,
            Visit.host_acknowledged_at,
            Visit.satisfaction,
            Host.name,
            Host.department,
        )
        .join(Host, join_type=JOIN.LEFT_OUTER)
        .where(
            (Visit.arrived_at >= start)
            & (Visit.arrived_at < end)
            & Visit.state.not_in(_NOT_ARRIVED)
        )
        .dicts()
    )
    rows = cast("list[dict[str, Any]]", list(query))  # peewee types .dicts() loosely
    admitted = [row for row in rows if row["state"] != VisitState.DENIED.value]
    response_times = [
        (row["host_acknowledged_at"] - row["arrived_at"]).total_seconds()
        for row in admitted
        if row["host_acknowledged_at"] is not None
    ]
    response = ResponseTimes(
        answered=len(response_times), unanswered=len(admitted) - len(response_times)
    )
    if response_times:
        response.median_seconds = statistics.median(response_times)
        response.p90_seconds = percentile(response_times, 0.9)
        limit = ATTENDED_WITHIN.total_seconds()
        response.within_standard = sum(t <= limit for t in response_times) / len(response_times)
    scores = [row["satisfaction"] for row in admitted if row["satisfaction"] is not None]
    satisfaction = Satisfaction(
        ratings=len(scores),
        average=round(statistics.fmean(scores), 2) if scores else None,
        distribution={score: scores.count(score) for score in range(1, 6)},
    )
    no_shows = (
        Visit.select()
        .join(Appointment)
        .where(
            (Visit.state == VisitState.NO_SHOW)
            & (Appointment.starts_at >= start)
            & (Appointment.starts_at < end)
        )
        .count()
    )
    messages = (
        HostMessage.select()
        .where((HostMessage.left_at >= start) & (HostMessage.left_at < end))
        .count()
    )
    return Report(
        period=period,
        start=start.isoformat(),
        end=end.isoformat(),
        visits=len(admitted),
        by_purpose=dict(Counter(row["purpose"] for row in admitted).most_common()),
        by_host=dict(Counter(row["name"] or "(none)" for row in admitted).most_common()),
        by_department=dict(
            Counter(row["department"] or "(none)" for row in admitted).most_common()
        ),
        by_level=dict(Counter(row["level"] for row in admitted).most_common()),
        by_method=dict(Counter(row["method"] for row in admitted).most_common()),
        denied=len(rows) - len(admitted),
        after_hours=sum(bool(row["after_hours"]) for row in admitted),
        auto_checked_out=sum(bool(row["auto_checked_out"]) for row in admitted),
        messages_left=messages,
        no_shows=no_shows,
        response=response,
        satisfaction=satisfaction,
    )


def format_report(report: Report) -> str:
    """The report as text for a terminal or a plain e-mail."""

    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f} s"

    def table(title: str, counts: dict[str, int]) -> list[str]:
        lines = [f"{title}:"]
        rows = [f"  {padded(name, 30)} {count:>6}" for name, count in counts.items()]
        return lines + (rows or ["  (none)"])

    r = report.response
    share = "-" if r.within_standard is None else f"{r.within_standard:.0%}"
    s = report.satisfaction
    lines = [
        f"{report.period.capitalize()} report {report.start[:10]} to {report.end[:10]} (exclusive)",
        f"Visits: {report.visits}   denied: {report.denied}   no-shows: {report.no_shows}   "
        f"after hours: {report.after_hours}   messages left: {report.messages_left}   "
        f"automatic check-outs: {report.auto_checked_out}",
        f"Host response: median {seconds(r.median_seconds)}, p90 {seconds(r.p90_seconds)}, "
        f"within 1 minute {share} ({r.answered} answered, {r.unanswered} not)",
        f"Satisfaction: {s.average if s.average is not None else '-'} from {s.ratings} ratings "
        + " ".join(f"{k}★{v}" for k, v in s.distribution.items()),
    ]
    lines += table("By purpose", report.by_purpose)
    lines += table("By host", report.by_host)
    lines += table("By department", report.by_department)
    lines += table("By level", report.by_level)
    lines += table("By check-in method", report.by_method)
    return "\n".join(lines)
