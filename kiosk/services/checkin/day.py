"""The site's day from this kiosk's own records (no network): everyone on site now (the
guard's list and the roll call), finding one of them by name (check-out without a badge),
today's figures for the welcome screen, and closing the day (whoever is still on site
checked out, appointments nobody came to marked as no-shows).
"""

from __future__ import annotations

from typing import cast

from peewee import JOIN, SqliteDatabase, fn

from kiosk.config import KioskConfig
from kiosk.domain import names
from kiosk.domain.clock import Clock
from kiosk.domain.text import stored_text
from kiosk.domain.values import ON_SITE_STATES, OnSiteEntry, TodaySummary, VisitState
from kiosk.services.checkin.visits import VisitLedger
from kiosk.services.schedule import SiteCalendar
from kiosk.storage.db import storage_errors
from kiosk.storage.models import Appointment, Badge, Host, OutboxEvent, Visit, Visitor


class SiteDay:
    """Who is on site, today's figures, and the end of the day."""

    def __init__(
        self,
        *,
        db: SqliteDatabase,
        config: KioskConfig,
        clock: Clock,
        calendar: SiteCalendar,
        ledger: VisitLedger,
        kiosk_id: str,
    ) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        self._calendar = calendar
        self._ledger = ledger
        self.kiosk_id = kiosk_id

    def on_site(self) -> list[OnSiteEntry]:
        """Everyone in the building now, from this kiosk's own records (no network)."""
        unsent = {
            row.subject_ref
            for row in OutboxEvent.select(OutboxEvent.subject_ref).where(
                OutboxEvent.sent_at.is_null()
            )
        }
        # Outer joins: a visit whose visitor row is missing (mirrored without a name, or
        # anonymised) is still someone inside, and the roll call must count them.
        visits = (
            Visit.select(Visit, Visitor, Host)
            .join(Visitor, join_type=JOIN.LEFT_OUTER)
            .switch(Visit)
            .join(Host, join_type=JOIN.LEFT_OUTER)
            .where(Visit.state.in_([s.value for s in ON_SITE_STATES]))
            .order_by(Visit.arrived_at)
        )
        entries = []
        for visit in visits:
            badge = (
                Badge.select(Badge.expires_at)
                .where(Badge.visit == visit)
                .order_by(Badge.id.desc())
                .first()
            )
            entries.append(
                OnSiteEntry(
                    visit_ref=visit.ref,
                    visitor_name=stored_text(visit.visitor.name if visit.visitor else None),
                    company=stored_text(visit.company),
                    host_name=stored_text(visit.host.name if visit.host else None),
                    arrived_at=visit.arrived_at,
                    badge_expires_at=badge.expires_at if badge else None,
                    state=VisitState(visit.state),
                    synced=visit.ref not in unsent,
                )
            )
        return entries

    def find_on_site(self, name: str) -> list[OnSiteEntry]:
        """Visitors on site whose name resembles `name`: check-out without a badge."""
        wanted = names.latin_key(name)
        return [
            entry
            for entry in self.on_site()
            if names.similarity(wanted, names.latin_key(entry.visitor_name))
            >= self._config.matching.fuzzy_threshold
            or names.exact_key(name) in names.exact_key(entry.visitor_name)
        ]

    def today_summary(self) -> TodaySummary:
        now = self._clock.now()
        start, end = self._calendar.day_bounds(now)
        # `state || ''` keeps SQLite off the state index, which would walk every future
        # appointment; the day's range on appointments is the selective one.
        expected = (
            Visit.select()
            .join(Appointment)
            .where(
                ((Visit.state + "") == VisitState.EXPECTED)
                & (Appointment.starts_at >= start)
                & (Appointment.starts_at < end)
            )
            .count()
        )
        counts = (
            Visit.select(Visit.state, fn.COUNT(Visit.id))
            .where(Visit.arrived_at >= start, Visit.arrived_at < end)
            .group_by(Visit.state)
            .tuples()
        )
        rows = cast("list[tuple[str, int]]", list(counts))  # peewee types .tuples() loosely
        states = dict(rows)
        on_site = Visit.select().where(Visit.state.in_([s.value for s in ON_SITE_STATES])).count()
        return TodaySummary(
            expected=expected,
            on_site=on_site,
            checked_out=states.get(VisitState.CHECKED_OUT.value, 0),
            awaiting_host=Visit.select().where(Visit.state == VisitState.AWAITING_HOST).count(),
            is_open=self._calendar.is_open(now),
        )

    def close_day(self) -> dict[str, int]:
        """End of day: check out whoever is still on site (flagged automatic) and mark
        today's appointments nobody came to as no-shows."""
        now = self._clock.now()
        checked_out = 0
        no_shows = 0
        with storage_errors(), self._db.atomic():
            # Only this kiosk's own visitors: those checked in elsewhere are that kiosk's to close.
            on_site = Visit.state.in_([s.value for s in ON_SITE_STATES])
            own_on_site = Visit.select().where(on_site & (Visit.kiosk_id == self.kiosk_id))
            for visit in own_on_site:
                self._ledger.move(
                    visit, VisitState.CHECKED_OUT, now, "system", left_at=now, auto_checked_out=True
                )
                checked_out += 1
            overdue = (
                Visit.select(Visit)
                .join(Appointment)
                .where((Visit.state == VisitState.EXPECTED) & (Appointment.ends_at < now))
            )
            for visit in overdue:
                self._ledger.move(visit, VisitState.NO_SHOW, now, "system")
                no_shows += 1
        return {"checked_out": checked_out, "no_shows": no_shows}
