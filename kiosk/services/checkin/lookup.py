"""Lookups before a check-in: hosts by name, pinyin, initials or department (for a
walk-in's choice), and today's appointments matching a visitor's document or name, best
tier first (document, exact, Latin spelling, then fuzzily).
"""

from __future__ import annotations

from typing import Any, cast

from peewee import SqliteDatabase
from rapidfuzz import fuzz, process

from kiosk.config import KioskConfig
from kiosk.domain import names
from kiosk.domain.clock import Clock
from kiosk.domain.text import check_name
from kiosk.domain.values import HostAvailability, VisitState
from kiosk.services.checkin.rules import recipient_for
from kiosk.services.checkin.values import AppointmentMatch, HostSummary
from kiosk.services.schedule import SiteCalendar
from kiosk.storage.models import Appointment, Host, Visit


class Lookup:
    """Finding whom a visitor comes to see, and which of today's appointments is theirs."""

    def __init__(
        self, *, db: SqliteDatabase, config: KioskConfig, clock: Clock, calendar: SiteCalendar
    ) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        self._calendar = calendar

    def search_hosts(self, query: str, limit: int = 8) -> list[HostSummary]:
        """Hosts by name, pinyin, initials or department; best first."""
        needle = names.exact_key(query)
        if not needle:
            return []
        compact = needle.replace(" ", "")
        candidates = (
            Host.select()
            .where(
                Host.active & (Host.search_key.contains(needle) | Host.search_key.contains(compact))
            )
            .order_by(Host.name)
            .limit(200)
        )

        def rank(host: Host) -> tuple[int, str]:
            keys = host.search_key.split("|")
            if needle in keys or compact in keys:
                return (0, host.name)
            if any(key.startswith(needle) or key.startswith(compact) for key in keys):
                return (1, host.name)
            return (2, host.name)

        ranked = sorted(candidates, key=rank)[:limit]
        return [
            HostSummary(
                h.ref,
                h.name,
                h.department,
                HostAvailability(h.availability),
                absent=recipient_for(h)[1] == "absent",
            )
            for h in ranked
        ]

    def match_identity(self, name: str, document_hash: str | None = None) -> list[AppointmentMatch]:
        """Today's expected appointments for this person: by document, exact name, pinyin or
        Latin spelling, then fuzzily. Returns the best tier only, so one result is a match and
        several mean the visitor must choose (by host).

        Each tier is one indexed lookup (key, then day); only the fuzzy tier reads the whole
        day, and only its Latin keys, which rapidfuzz scores in C."""
        check_name(name)
        start, end = self._calendar.day_bounds(self._clock.now())
        today = (
            (Appointment.starts_at >= start)
            & (Appointment.starts_at < end)
            & Appointment.cancelled_at.is_null()
        )
        tiers: list[tuple[str, Any]] = []
        if document_hash:
            tiers.append(("document", Appointment.document_hash == document_hash))
        tiers.append(("exact", Appointment.exact_key == names.exact_key(name)))
        latin = names.latin_key(name)
        if latin:
            tiers.append(("latin", Appointment.latin_key == latin))
        for how, condition in tiers:
            found = self._still_expected(Appointment.select().where(condition & today))
            if found:
                return [self._match(a, how, 100.0) for a in found]
        # The raw cursor: peewee's row objects would cost more than the scoring itself.
        day = cast(
            "list[tuple[int, str]]",
            self._db.execute(
                Appointment.select(Appointment.id, Appointment.latin_key).where(today)
            ).fetchall(),
        )
        scored = process.extract(
            latin,
            [key for _id, key in day],
            scorer=fuzz.token_sort_ratio,
            score_cutoff=self._config.matching.fuzzy_threshold,
            limit=10,
        )
        scores = {day[index][0]: score for _key, score, index in scored}
        candidates = Appointment.select().where(Appointment.id.in_(list(scores)))
        found = sorted(self._still_expected(candidates), key=lambda a: -scores[a.id])
        return [self._match(a, "fuzzy", scores[a.id]) for a in found[:5]]

    @staticmethod
    def _still_expected(query: Any) -> list[Appointment]:
        """The appointments of `query` whose visit nobody has checked in to yet."""
        appointments = list(query)
        if not appointments:
            return []
        # The state is compared here, not in SQL: with it there, SQLite would walk the
        # state index (every future appointment is "expected") instead of the unique
        # appointment index.
        states = Visit.select(Visit.appointment, Visit.state).where(
            Visit.appointment.in_([a.id for a in appointments])
        )
        rows = cast("list[tuple[int, str]]", list(states.tuples()))
        expected = {appointment for appointment, state in rows if state == VisitState.EXPECTED}
        return [a for a in appointments if a.id in expected]

    @staticmethod
    def _match(appointment: Appointment, how: str, score: float) -> AppointmentMatch:
        return AppointmentMatch(
            appointment_ref=appointment.ref,
            visitor_name=appointment.visitor_name,
            host_name=appointment.host.name,
            starts_at=appointment.starts_at,
            how=how,  # type: ignore[arg-type]
            score=score,
        )
