"""Reports (reception and admins) for a day, a week or a month in the site's time zone:
visits per day, by purpose, department, level and check-in method; host response times
against the 1-minute standard, overall and per host; satisfaction; no-shows. Charts are SVG
drawn here (kiosk.office.charts), each beside a table of its numbers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import cast

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from kiosk.domain.values import ATTENDED_WITHIN
from kiosk.office import charts, reporting
from kiosk.office.models import Site
from kiosk.office.staff import Role, Staff
from kiosk.office.typed_dates import typed_date
from kiosk.office.web import N_, PageRefused, require, web, words
from kiosk.office.web.onsite import site_zone
from kiosk.office.web.templating import Translator

router = APIRouter()
may_see = require(Role.RECEPTION)


def _shift(period: reporting.Period, day: date, steps: int) -> date:
    if period == "day":
        return day + timedelta(days=steps)
    if period == "week":
        return day + timedelta(weeks=steps)
    month = day.year * 12 + day.month - 1 + steps
    return date(month // 12, month % 12 + 1, 1)


@router.get("/reports")
def reports(
    request: Request,
    period: str = Query("week", max_length=8),
    day: str = Query("", max_length=20),
    staff: Staff = Depends(may_see),
) -> Response:
    if period not in reporting.PERIODS:
        raise PageRefused(400, N_("The period is a day, a week or a month."))
    chosen = cast(reporting.Period, period)
    context = web(request)
    now = context.store.clock.now()
    with context.db():
        zone = site_zone(staff.site_id)
        try:
            when = typed_date(day) if day else now.astimezone(zone).date()
        except ValueError as err:
            raise PageRefused(400, N_("The day is not a date (YYYY-MM-DD).")) from err
        report = reporting.build_report(Site.get_by_id(staff.site_id), chosen, when, zone, now)
    target = ATTENDED_WITHIN.total_seconds()
    figures = _charts(report, chosen, words(request, staff), target)
    return context.page(
        request,
        staff,
        "reports.html",
        report=report,
        charts=figures,
        period=chosen,
        day=when,
        earlier=_shift(chosen, when, -1),
        later=_shift(chosen, when, 1),
        standard=target,
    )


def _charts(
    report: reporting.OfficeReport, chosen: reporting.Period, _: Translator, target: float
) -> dict[str, Markup]:
    """The report's charts, each an SVG in the reader's language."""

    def day_label(day: date) -> str:
        return _.short_date(day) if chosen == "week" else day.strftime("%d")

    answered_hosts = [h for h in report.by_host if h.response.median_seconds is not None]
    return {
        "per_day": charts.column_chart(
            _("Visits per day"),
            [(day_label(d), count) for d, count in report.per_day],
        ),
        "purpose": charts.bar_chart(
            _("Visits by purpose"), _labelled(report.by_purpose, "purpose", _)
        ),
        # Departments are names people typed: shown as they are, never translated.
        "department": charts.bar_chart(
            _("Visits by department"), list(report.by_department.items())
        ),
        "level": charts.bar_chart(
            _("Visits by visitor level"), _labelled(report.by_level, "level", _)
        ),
        "method": charts.bar_chart(
            _("Visits by check-in method"), _labelled(report.by_method, "method", _)
        ),
        "response": charts.bar_chart(
            _("Host response time"),
            [
                (label, value)
                for label, value in (
                    (_("median"), report.response.median_seconds),
                    (_("90th percentile"), report.response.p90_seconds),
                )
                if value is not None
            ],
            target=target,
            target_label=_("1 min"),
            unit=_(" s"),
        ),
        "hosts": charts.bar_chart(
            _("Median response time by host"),
            [(h.name, h.response.median_seconds or 0.0) for h in answered_hosts[:15]],
            target=target,
            target_label=_("1 min"),
            unit=_(" s"),
        ),
        "satisfaction": charts.bar_chart(
            _("Satisfaction ratings"),
            [(f"{score} ★", count) for score, count in report.satisfaction.distribution.items()],
        ),
    }


def _labelled(counts: dict[str, int], kind: str, _: Translator) -> list[tuple[str, float]]:
    """Stored codes (visit_person) as words (visit person) in the reader's language; a code
    the table does not know as it is."""
    return [(_.label(kind, code), count) for code, count in counts.items()]
