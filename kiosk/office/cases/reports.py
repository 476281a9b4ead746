"""The desk's weekly and monthly summaries of cases (the procedures' 周报 / 月报).

Over the cases of one site opened in a period (the site's local weeks and months):
counts by kind and by repair category; first response time (opened → first assigned,
started or resolved) and resolution time (opened → resolved), each as median and 90th
percentile in minutes (nearest-rank: the ⌈0.9·n⌉-th smallest); the share of resolved cases
followed up within the follow-up window (24 h by default) against the 98 % standard, for
all kinds and for repairs; satisfaction; reopened; overdue now; and what is still open.
The same numbers feed the web page, `kiosk office cases report --json` and the CSV."""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.dbkit.rows import rows_of
from kiosk.domain.errors import InvalidInput
from kiosk.office.cases.escalation import overdue
from kiosk.office.cases.models import Case
from kiosk.office.cases.rules import KINDS, OPEN_STATES, CaseSettings
from kiosk.office.cases.site_settings import case_settings_of
from kiosk.office.models import Site
from kiosk.office.settings import load_site_settings

FOLLOWUP_STANDARD = 0.98
DAY = timedelta(hours=24)


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile: the ⌈share·n⌉-th smallest value; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


@dataclass
class CaseReport:
    site: str
    period: str
    start: str
    end: str
    total: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    first_response_minutes: dict[str, float | None] = field(default_factory=dict)
    resolution_minutes: dict[str, float | None] = field(default_factory=dict)
    resolved: int = 0
    followed_up_in_time: int = 0
    followup_rate: float | None = None
    repair_resolved: int = 0
    repair_followed_up_in_time: int = 0
    repair_followup_rate: float | None = None
    followup_standard: float = FOLLOWUP_STANDARD
    meets_standard: bool | None = None
    satisfaction: dict[str, int] = field(default_factory=dict)
    reopened: int = 0
    overdue: int = 0
    still_open: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def month_bounds(month: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """A "YYYY-MM" month's start and end in the site's zone; InvalidInput if malformed."""
    try:
        first = datetime.strptime(month, "%Y-%m").date()
    except (TypeError, ValueError):
        raise InvalidInput("month", "must be YYYY-MM, for example 2026-12") from None
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return _local(first, zone), _local(following, zone)


def week_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The Monday-to-Sunday week holding `day`, in the site's zone."""
    monday = day - timedelta(days=day.weekday())
    return _local(monday, zone), _local(monday + timedelta(days=7), zone)


def _local(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


class CaseReports:
    """Builds a site's case report for a period."""

    def __init__(self, settings: CaseSettings | None = None) -> None:
        #: Fixed deadlines (tests); None: each site's own (kiosk.office.cases.site_settings).
        self.fixed_settings = settings

    def followup_windows(self, site: Site) -> dict[str, timedelta]:
        """Each kind's follow-up window at `site` (a case is followed up in time within it)."""
        settings = self.fixed_settings or case_settings_of(site)
        return {kind: timedelta(hours=settings.followup_hours.get(kind, 24)) for kind in KINDS}

    def zone(self, site: Site) -> ZoneInfo:
        return ZoneInfo(load_site_settings(site).timezone)

    def month(self, site: Site, month: str, now: datetime) -> CaseReport:
        start, end = month_bounds(month, self.zone(site))
        return self.build(site, month, start, end, now)

    def week(self, site: Site, day: date, now: datetime) -> CaseReport:
        start, end = week_bounds(day, self.zone(site))
        return self.build(site, f"week of {start.date().isoformat()}", start, end, now)

    def build(
        self, site: Site, period: str, start: datetime, end: datetime, now: datetime
    ) -> CaseReport:
        report = CaseReport(site.name, period, start.isoformat(), end.isoformat())
        in_period = (Case.site == site.id) & (Case.opened_at >= start) & (Case.opened_at < end)
        rows = rows_of(
            Case.select(
                Case.kind, Case.category, Case.opened_at, Case.responded_at, Case.resolved_at,
                Case.followed_up_at, Case.followup_outcome, Case.reopened_count,
            ).where(in_period)
        )  # fmt: skip
        windows = self.followup_windows(site)
        kinds: Counter[str] = Counter()
        categories: Counter[str] = Counter()
        outcomes: Counter[str] = Counter()
        responses: list[float] = []
        resolutions: list[float] = []
        for kind, category, opened, responded, resolved, followed, outcome, reopened in rows:
            kinds[kind] += 1
            if category:
                categories[category] += 1
            if responded is not None:
                responses.append((responded - opened).total_seconds() / 60)
            if resolved is not None:
                resolutions.append((resolved - opened).total_seconds() / 60)
                window = windows.get(kind, DAY)
                in_time = followed is not None and followed - resolved <= window
                report.resolved += 1
                report.followed_up_in_time += in_time
                if kind == "repair":
                    report.repair_resolved += 1
                    report.repair_followed_up_in_time += in_time
            if outcome:
                outcomes[outcome] += 1
            report.reopened += reopened > 0
        report.total = len(rows)
        report.by_kind = dict(sorted(kinds.items()))
        report.by_category = dict(sorted(categories.items()))
        report.satisfaction = dict(sorted(outcomes.items()))
        report.first_response_minutes = {
            "median": _median(responses), "p90": percentile(responses, 0.9)
        }  # fmt: skip
        report.resolution_minutes = {
            "median": _median(resolutions), "p90": percentile(resolutions, 0.9)
        }  # fmt: skip
        if report.resolved:
            report.followup_rate = report.followed_up_in_time / report.resolved
        if report.repair_resolved:
            report.repair_followup_rate = report.repair_followed_up_in_time / report.repair_resolved
        judged = report.repair_followup_rate
        if judged is None:
            judged = report.followup_rate
        report.meets_standard = None if judged is None else judged >= FOLLOWUP_STANDARD
        report.overdue = Case.select().where(in_period & overdue(now)).count()
        report.still_open = [
            {"number": number, "kind": kind, "state": state, "opened_at": opened.isoformat()}
            for number, kind, state, opened in rows_of(
                Case.select(Case.number, Case.kind, Case.state, Case.opened_at)
                .where(
                    (Case.site == site.id) & (Case.opened_at < end) & Case.state.in_(OPEN_STATES)
                )
                .order_by(Case.opened_at)
                .limit(500)
            )
        ]
        return report

    def weekly_followup_rates(
        self, site: Site, start: datetime, end: datetime
    ) -> list[tuple[str, float]]:
        """(week's Monday, % of the week's resolved cases followed up in time) for each week
        from the one holding `start` to `end`: the chart. One query for all the weeks."""
        zone = self.zone(site)
        windows = self.followup_windows(site)
        first = start.astimezone(zone).date()
        first -= timedelta(days=first.weekday())
        resolved: Counter[date] = Counter()
        in_time: Counter[date] = Counter()
        for kind, opened, done, followed in rows_of(
            Case.select(Case.kind, Case.opened_at, Case.resolved_at, Case.followed_up_at).where(
                (Case.site == site.id) & (Case.opened_at >= _local(first, zone))
                & (Case.opened_at < end) & Case.resolved_at.is_null(False)
            )
        ):  # fmt: skip
            local = opened.astimezone(zone).date()
            week = local - timedelta(days=local.weekday())
            window = windows.get(kind, DAY)
            resolved[week] += 1
            in_time[week] += followed is not None and followed - done <= window
        weeks = []
        day = first
        while _local(day, zone) < end:
            rate = 100 * in_time[day] / resolved[day] if resolved[day] else 0.0
            weeks.append((day.strftime("%m-%d"), round(rate, 1)))
            day += timedelta(days=7)
        return weeks


def report_csv(report: CaseReport) -> str:
    """The report as CSV: one `section,key,value` row per number, then the open cases."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", "value"])
    writer.writerow(["period", report.period, f"{report.start} / {report.end}"])
    writer.writerow(["total", "cases", report.total])
    for section in ("by_kind", "by_category", "satisfaction", "first_response_minutes",
                    "resolution_minutes"):  # fmt: skip
        for key, value in getattr(report, section).items():
            writer.writerow([section, key, "" if value is None else value])
    for name in ("resolved", "followed_up_in_time", "followup_rate", "repair_resolved",
                 "repair_followed_up_in_time", "repair_followup_rate", "followup_standard",
                 "meets_standard", "reopened", "overdue"):  # fmt: skip
        value = getattr(report, name)
        writer.writerow(["followup" if "follow" in name else "cases", name,
                         "" if value is None else value])  # fmt: skip
    for case in report.still_open:
        writer.writerow(["still_open", case["number"], f"{case['kind']} {case['state']}"])
    return out.getvalue()
