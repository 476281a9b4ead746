"""Overdue cases: which are overdue, and telling people so.

A case is overdue when its first response is due and nobody has responded (assigned,
started or resolved it), or when it is resolved and its follow-up is due. A due time that
passes tells the assignee (the department's channels and the assigned person's, as host
messages go), then, `supervisor_after_hours` later, the desk's supervisor (the site's
reception channels): the escalation host notifications have. Sent through the office's
sender, the one built by kiosk.office.api.build_office; the clock is injected."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import JOIN, Database, Expression

from kiosk.domain.clock import Clock
from kiosk.notify.channels import Message, Sender
from kiosk.office.cases.models import Case, Department
from kiosk.office.cases.rules import OPEN_STATES, CaseSettings
from kiosk.office.cases.site_settings import case_settings_of
from kiosk.office.models import OfficeHost, Site, StaffUser
from kiosk.office.settings import load_site_settings

log = logging.getLogger(__name__)


def overdue(now: datetime) -> Expression:
    """Cases overdue at `now`, as a query condition."""
    return (
        Case.state.in_(OPEN_STATES) & Case.responded_at.is_null() & (Case.response_due_at <= now)
    ) | ((Case.state == "resolved") & (Case.followup_due_at <= now))


def due_time(case: Case) -> datetime | None:
    """The deadline a case is being held to now, if any."""
    if case.state == "resolved":
        return case.followup_due_at
    if case.state in OPEN_STATES and case.responded_at is None:
        return case.response_due_at
    return None


def is_overdue(case: Case, now: datetime) -> bool:
    due = due_time(case)
    return due is not None and due <= now


@dataclass
class EscalationReport:
    assignees_told: int = 0
    supervisors_told: int = 0
    failed: int = 0


class CaseEscalator:
    """Tells the assignee, then the supervisor, of each case whose due time has passed."""

    def __init__(
        self, db: Database, clock: Clock, sender: Sender, settings: CaseSettings | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.sender = sender
        #: Fixed deadlines (tests); None: each site's own (kiosk.office.cases.site_settings).
        self.fixed_settings = settings

    def run(self, stop: threading.Event, interval: float = 60.0) -> None:
        while not stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("overdue cases: round failed; retrying")
            stop.wait(interval)

    def tick(self) -> EscalationReport:
        report = EscalationReport()
        now = self.clock.now()
        later_of: dict[int, timedelta] = {}
        with self.db.connection_context():
            cases = list(
                Case.select(Case, Department)
                .join(Department, JOIN.LEFT_OUTER)
                .where(overdue(now) & (Case.escalation_level < 2))
                .order_by(Case.id)
            )
            for case in cases:
                if case.site_id not in later_of:
                    hours = (
                        self.fixed_settings or case_settings_of(case.site_id)
                    ).supervisor_after_hours
                    later_of[case.site_id] = timedelta(hours=hours)
                later = later_of[case.site_id]
                due = due_time(case)
                assert due is not None
                if case.escalation_level == 0:
                    urls = self._assignee_channels(case)
                    level = 1 if urls else 2  # nobody to tell: straight to the supervisor
                    if not urls:
                        urls = self._supervisor_channels(case.site)
                elif now >= due + later:
                    urls, level = self._supervisor_channels(case.site), 2
                else:
                    continue
                if self._send(urls, self._message(case, due, level)):
                    report.assignees_told += level == 1
                    report.supervisors_told += level == 2
                    Case.update(escalation_level=level).where(Case.id == case.id).execute()
                else:
                    report.failed += 1
        return report

    def _send(self, urls: list[str], message: Message) -> bool:
        if not urls:
            return False
        results = [self.sender.send(url, message) for url in urls]
        return any(result.ok for result in results)

    @staticmethod
    def _message(case: Case, due: datetime, level: int) -> Message:
        what = "follow-up" if case.state == "resolved" else "first response"
        place = " ".join(p for p in (case.building, case.floor, case.unit, case.place_text) if p)
        title = f"Case {case.number} is overdue" + (" (escalated)" if level == 2 else "")
        body = (
            f"The {what} of case {case.number} ({case.kind}"
            + (f", {case.category}" if case.category else "")
            + f") was due at {due.isoformat(timespec='minutes')} UTC."
            + (f"\nPlace: {place}" if place else "")
            + "\nPlease open the case at the office."
        )
        return Message(title, body)

    @staticmethod
    def _assignee_channels(case: Case) -> list[str]:
        urls: list[str] = []
        department = case.department if case.department_id is not None else None
        if department is not None:
            urls += json.loads(department.channels or "[]")
        if case.assignee_id is not None:
            user = StaffUser.get_by_id(case.assignee_id)
            host = OfficeHost.get_or_none(
                (OfficeHost.ref == user.host_ref) & (OfficeHost.site == case.site_id)
            )
            if host is not None:
                urls += json.loads(host.channels or "[]")
        return list(dict.fromkeys(urls))

    @staticmethod
    def _supervisor_channels(site: Site | int) -> list[str]:
        row = site if isinstance(site, Site) else Site.get_by_id(site)
        return [secret.get_secret_value() for secret in load_site_settings(row).reception]
