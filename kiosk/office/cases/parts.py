"""The cases' parts, built once by the office's composition root (kiosk.office.api
build_office) and shared by the web pages, the CLI and the serving loop."""

from __future__ import annotations

from dataclasses import dataclass

from peewee import Database

from kiosk.domain.clock import Clock
from kiosk.notify.channels import Sender
from kiosk.office.cases.calls import CallLog
from kiosk.office.cases.desk import CaseDesk
from kiosk.office.cases.escalation import CaseEscalator
from kiosk.office.cases.reports import CaseReports
from kiosk.office.cases.rules import CaseSettings
from kiosk.office.feed import ChangeFeed


@dataclass(frozen=True)
class CaseParts:
    desk: CaseDesk
    reports: CaseReports
    escalator: CaseEscalator
    calls: CallLog


def build_case_parts(
    db: Database,
    clock: Clock,
    feed: ChangeFeed,
    sender: Sender,
    settings: CaseSettings | None = None,
) -> CaseParts:
    """`settings` fixes every site's deadlines (tests); None reads each site's own."""
    desk = CaseDesk(db, clock, feed, settings)
    return CaseParts(
        desk=desk,
        reports=CaseReports(settings),
        escalator=CaseEscalator(db, clock, sender, settings),
        calls=CallLog(desk, sender),
    )
