"""Cases from kiosks: `case.opened` and `case.followed_up` folded into the office's cases.

Called by kiosk.office.intake inside its transaction: `refusals` first (a number already
used by another case of the site, a case of another site, a follow-up before resolution:
"not resolved yet"), then `fold_many` for what was stored. Idempotent: the event id is
judged by kiosk.office.intake, and a case_ref opened twice (a double tap sent twice) is one
case. Each change writes the case's feed row and its history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from peewee import Database

from kiosk.office.alerts import OfficeAlert, raise_alert
from kiosk.office.cases.desk import FEED_ENTITY, CaseDesk, case_data
from kiosk.office.cases.models import Case
from kiosk.office.cases.rules import CASE_KINDS
from kiosk.office.event_schema import parse_time
from kiosk.office.feed import ChangeFeed
from kiosk.office.models import Kiosk, Site
from kiosk.sync.wire import EventKind

NOT_RESOLVED = "not resolved yet"


class CaseIntake:
    """The office's side of the kiosk's case events."""

    def __init__(self, db: Database, feed: ChangeFeed) -> None:
        self.db = db
        self.feed = feed

    def refusals(self, kiosk: Kiosk, events: list[dict[str, Any]], now: datetime) -> dict[str, str]:
        """event id -> why it is refused, for the case events among `events`. A case of
        another site raises a security alert, as a foreign visit does."""
        ours = [e for e in events if e["kind"] in CASE_KINDS]
        if not ours:
            return {}
        refs = {e["payload"]["case_ref"] for e in ours}
        numbers = {e["payload"]["number"] for e in ours if e["kind"] == EventKind.CASE_OPENED}
        known = {
            case.ref: case
            for case in Case.select(Case.id, Case.ref, Case.site, Case.number, Case.state).where(
                Case.ref.in_(list(refs))
                | ((Case.site == kiosk.site_id) & Case.number.in_(list(numbers) or [""]))
            )
        }
        by_number = {c.number: c for c in known.values() if c.site_id == kiosk.site_id}
        refused: dict[str, str] = {}
        batch_numbers: dict[str, str] = {}  # number -> case_ref, within this batch
        for event in ours:
            payload = event["payload"]
            case = known.get(payload["case_ref"])
            if case is not None and case.site_id != kiosk.site_id:
                refused[event["event_id"]] = f"the case {case.ref} is not of this kiosk's site"
                raise_alert(
                    kiosk, OfficeAlert.FOREIGN_SITE, case.ref,
                    {"event_id": event["event_id"], "kind": event["kind"], "refs": [case.ref]},
                    event["occurred_at"], now, also=Site.get_by_id(case.site_id),
                )  # fmt: skip
            elif event["kind"] == EventKind.CASE_OPENED:
                clash = by_number.get(payload["number"])
                earlier = batch_numbers.setdefault(payload["number"], payload["case_ref"])
                if (clash is not None and clash.ref != payload["case_ref"]) or (
                    earlier != payload["case_ref"]
                ):
                    refused[event["event_id"]] = (
                        f"the number {payload['number']} is already used by another case"
                    )
            elif case is None or case.state != "resolved":
                refused[event["event_id"]] = NOT_RESOLVED if case else "unknown case"
        return refused

    def fold_many(self, kiosk: Kiosk, events: list[dict[str, Any]], now: datetime) -> set[str]:
        """Fold the stored case events; the ids of those that changed nothing."""
        unchanged: set[str] = set()
        for event in events:
            if event["kind"] == EventKind.CASE_OPENED:
                if not self._open(kiosk, event["payload"], now):
                    unchanged.add(event["event_id"])
            elif event["kind"] == EventKind.CASE_FOLLOWED_UP:
                self._follow_up(kiosk, event["payload"], now)
        return unchanged

    def _open(self, kiosk: Kiosk, payload: dict[str, Any], now: datetime) -> bool:
        if Case.select().where(Case.ref == payload["case_ref"]).exists():
            return False  # the same case sent twice (a double tap): one case
        place, reporter = payload.get("place") or {}, payload.get("reporter") or {}
        case = Case.create(
            ref=payload["case_ref"], site=kiosk.site_id, number=payload["number"],
            kind=payload["kind"], urgency=payload["urgency"],
            category=payload.get("category", ""), channel="kiosk",
            building=place.get("building", ""), floor=place.get("floor", ""),
            unit=place.get("unit", ""), place_text=place.get("text", ""),
            unit_known=bool(payload.get("unit_known", True)),
            description=payload["description"], reporter_name=reporter.get("name", ""),
            reporter_unit=reporter.get("unit", ""), reporter_phone=reporter.get("phone", ""),
            language=payload["language"], photo_jpeg_b64=payload.get("photo_jpeg_b64", ""),
            opened_at=parse_time(payload["opened_at"], "opened_at"),
            response_due_at=parse_time(payload["response_due_at"], "response_due_at"),
            updated_at=now,
        )  # fmt: skip
        actor = kiosk.name or f"kiosk {kiosk.kiosk_id}"
        CaseDesk.record(case, actor, "open", "", "received", "by kiosk", case.opened_at)
        self.feed.log(kiosk.site, FEED_ENTITY, case.ref, case_data(case))
        return True

    def _follow_up(self, kiosk: Kiosk, payload: dict[str, Any], now: datetime) -> None:
        case = Case.get(Case.ref == payload["case_ref"])
        at = parse_time(payload["at"], "at") or now
        CaseDesk.follow_up(case, payload["outcome"], payload.get("note", ""), at)
        case.state = "followed_up"
        case.updated_at = now
        case.save()
        actor = f"reporter at kiosk {kiosk.name or kiosk.kiosk_id}"
        note = f"{payload['outcome']}: {payload.get('note', '')}".rstrip(": ")
        CaseDesk.record(case, actor, "follow_up", "resolved", "followed_up", note, at)
        self.feed.log(kiosk.site, FEED_ENTITY, case.ref, case_data(case))
