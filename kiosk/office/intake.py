"""Ingesting the events kiosks push: validation, the office's view of each visit, the
used-invitation rule, and forwarded notifications' intake.

Ingest is idempotent by event id, so a kiosk that retries after a lost answer changes
nothing. A visit's state at the office only moves forward (a late "no-show" never undoes an
arrival), whatever order events from several kiosks arrive in. A kiosk speaks only for its
own site: an event naming another site's visit, host or appointment is rejected with a
security alert. An invitation used at two kiosks (both offline at the time) raises one too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from peewee import Database

from kiosk.dbkit.rows import insert_rows, rows_of
from kiosk.domain.clock import Clock
from kiosk.domain.errors import InvalidInput
from kiosk.domain.event_chain import canonical_json, payload_digest
from kiosk.office.alerts import OfficeAlert, raise_alert
from kiosk.office.appointment_arrivals import copy_arrivals
from kiosk.office.cases.intake import CaseIntake
from kiosk.office.deliveries.intake import ParcelIntake
from kiosk.office.event_schema import FINAL_STATES, STATE_RANK, validate_event
from kiosk.office.feed import VISIT_FIELDS, ChangeFeed, visit_data
from kiosk.office.forwarded_events import FORWARD_KIND, forward_row, stored_forward_payload
from kiosk.office.models import (
    Event,
    ForwardedNotification,
    Kiosk,
    OfficeAppointment,
    OfficeHost,
    OfficeVisit,
    Site,
    UsedInvitation,
)
from kiosk.office.visit_names import visit_name_key
from kiosk.sync.wire import EventKind


@dataclass
class EventResult:
    event_id: str
    status: str  # stored | duplicate | rejected | conflict
    error: str = ""


@dataclass
class IngestReport:
    results: list[EventResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(result.status == status for result in self.results)


def _refs_named(event: dict[str, Any]) -> list[tuple[type[Any], str]]:
    """The (model, ref) of each visit, host and appointment an event names."""
    payload = event["payload"]
    named: list[tuple[type[Any], str]] = []
    for model, ref in (
        (OfficeVisit, payload.get("visit")),
        (OfficeVisit, event["subject_ref"] if event["kind"] != EventKind.TOKEN_REVOKED else None),
        (OfficeHost, payload.get("host")),
        (OfficeAppointment, payload.get("appointment")),
    ):
        if isinstance(ref, str) and ref:
            named.append((model, ref))
    return named


def _parse_time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("time without a zone")
    return moment.astimezone(UTC)


class Intake:
    """Stores a kiosk's pushed events and folds them into the office's view."""

    def __init__(self, db: Database, clock: Clock, feed: ChangeFeed) -> None:
        self.db = db
        self.clock = clock
        self.feed = feed
        self.parcels = ParcelIntake(db, feed)
        self.cases = CaseIntake(db, feed)

    def ingest(self, kiosk: Kiosk, events: Iterable[dict[str, Any]]) -> IngestReport:
        """Store a batch of a kiosk's events. Each event is judged alone: a bad one is
        rejected with its reason and does not block the rest.

        A kiosk speaks only for its own site: an event about another site's visit, host or
        appointment is rejected and raises a security alert (visit refs are in every
        badge's QR, so anyone can learn one). An event id sent again with other content is
        a conflict, never a kiosk's own doing, and raises one too."""
        report = IngestReport()
        valid: list[dict[str, Any]] = []
        for raw in events:
            event_id = raw.get("event_id", "") if isinstance(raw, dict) else ""
            event_id = event_id if isinstance(event_id, str) and event_id.isascii() else ""
            try:
                valid.append(validate_event(kiosk.kiosk_id, raw))
            except (InvalidInput, ValueError, TypeError, KeyError) as err:
                report.results.append(EventResult(event_id[:64], "rejected", str(err)))
        if not valid:
            return report
        now = self.clock.now()
        verdicts: dict[str, EventResult] = {}
        unique: dict[str, dict[str, Any]] = {}
        unchanged: set[str] = (
            set()
        )  # stored, but only as duplicates (a case sent twice, a second collection)
        with self.feed.site_writes(kiosk.site):
            for event in valid:
                event["digest"] = payload_digest(canonical_json(event["payload"]))
            verdicts.update(self._judge_known(kiosk, valid, now))
            fresh = [e for e in valid if e["event_id"] not in verdicts]
            verdicts.update(self._refuse_foreign(kiosk, fresh, now))
            unjudged = [e for e in fresh if e["event_id"] not in verdicts]
            refusals = {
                **self.parcels.refusals(kiosk, unjudged, now),
                **self.cases.refusals(kiosk, unjudged, now),
            }
            for event_id, reason in refusals.items():
                verdicts.setdefault(event_id, EventResult(event_id, "rejected", reason))
            # The same event twice in one batch counts once.
            for event in fresh:
                if event["event_id"] not in verdicts:
                    unique.setdefault(event["event_id"], event)
            if unique:
                insert_rows(
                    self.db,
                    Event,
                    [
                        {
                            "event_id": e["event_id"],
                            "kiosk": kiosk.id,
                            "seq": e["seq"],
                            "kind": e["kind"],
                            "subject_ref": e["subject_ref"],
                            "payload": json.dumps(e["payload"], ensure_ascii=False),
                            "prev_hash": e["prev_hash"],
                            "event_hash": e["event_hash"],
                            "payload_digest": e["digest"],
                            "occurred_at": e["occurred_at"],
                            "received_at": now,
                        }
                        for e in unique.values()
                    ],
                )
                in_order = sorted(unique.values(), key=lambda e: e["seq"])
                unchanged = self.cases.fold_many(kiosk, in_order, now)
                unchanged |= self._project(kiosk, in_order, now)
                Kiosk.update(
                    last_seq=max(kiosk.last_seq, max(e["seq"] for e in unique.values())),
                    last_seen_at=now,
                ).where(Kiosk.id == kiosk.id).execute()
        stored = {id(event) for event in unique.values()}
        for event in valid:
            if id(event) in stored:
                status = "duplicate" if event["event_id"] in unchanged else "stored"
                report.results.append(EventResult(event["event_id"], status))
            else:
                verdict = verdicts.get(event["event_id"])
                report.results.append(verdict or EventResult(event["event_id"], "duplicate"))
        return report

    def _judge_known(
        self, kiosk: Kiosk, events: list[dict[str, Any]], now: datetime
    ) -> dict[str, EventResult]:
        """Events already stored: a duplicate when sent again as they were (a retry after a
        lost answer), a conflict when the id comes back with other content or from another
        kiosk. The first version is kept either way."""
        stored = {
            event_id: (kiosk_id, digest)
            for event_id, kiosk_id, digest in rows_of(
                Event.select(Event.event_id, Event.kiosk, Event.payload_digest).where(
                    Event.event_id.in_([e["event_id"] for e in events])
                )
            )
        }
        verdicts: dict[str, EventResult] = {}
        for event in events:
            found = stored.get(event["event_id"])
            if found is None:
                continue
            if found == (kiosk.id, event["digest"]) or (found[0] == kiosk.id and not found[1]):
                verdicts[event["event_id"]] = EventResult(event["event_id"], "duplicate")
                continue
            reason = "this event id was stored before with other content; the first is kept"
            verdicts[event["event_id"]] = EventResult(event["event_id"], "conflict", reason)
            raise_alert(
                kiosk, OfficeAlert.EVENT_CONFLICT, event["subject_ref"],
                {"event_id": event["event_id"], "kind": event["kind"]},
                event["occurred_at"], now,
            )  # fmt: skip
        return verdicts

    def _refuse_foreign(
        self, kiosk: Kiosk, events: list[dict[str, Any]], now: datetime
    ) -> dict[str, EventResult]:
        """Events naming a visit, host or appointment of another site: rejected, each with
        a security alert."""
        wanted: dict[type[Any], set[str]] = {OfficeVisit: set(), OfficeHost: set(),
                                             OfficeAppointment: set()}  # fmt: skip
        for event in events:
            for model, ref in _refs_named(event):
                wanted[model].add(ref)
        foreign: set[tuple[type[Any], str]] = set()
        owner: dict[tuple[type[Any], str], int] = {}
        for model, refs in wanted.items():
            listed = sorted(refs)
            for start in range(0, len(listed), 500):
                query = model.select(model.ref, model.site).where(
                    model.ref.in_(listed[start : start + 500]) & (model.site != kiosk.site_id)
                )
                for ref, site_id in rows_of(query):
                    foreign.add((model, ref))
                    owner[(model, ref)] = site_id
        verdicts: dict[str, EventResult] = {}
        if not foreign:
            return verdicts
        for event in events:
            named = [ref for model, ref in _refs_named(event) if (model, ref) in foreign]
            if not named:
                continue
            what = {OfficeVisit: "visit", OfficeHost: "host", OfficeAppointment: "appointment"}
            model = next(m for m, ref in _refs_named(event) if (m, ref) in foreign)
            reason = f"the {what[model]} {named[0]} is not of this kiosk's site"
            verdicts[event["event_id"]] = EventResult(event["event_id"], "rejected", reason)
            raise_alert(
                kiosk, OfficeAlert.FOREIGN_SITE, named[0],
                {"event_id": event["event_id"], "kind": event["kind"], "refs": named},
                event["occurred_at"], now, also=Site.get_by_id(owner[(model, named[0])]),
            )  # fmt: skip
        return verdicts

    def _project(self, kiosk: Kiosk, events: list[dict[str, Any]], now: datetime) -> set[str]:
        """Fold visit events into the office's view of each visit, and note used invitations
        (and parcels: kiosk.office.deliveries). The ids of events that changed nothing."""
        site = kiosk.site
        unchanged = self.parcels.fold_many(kiosk, events, now)
        refs = {e["payload"].get("visit") for e in events if e["kind"].startswith("visit.")}
        refs.discard(None)
        visits = (
            {
                v.ref: v
                for v in OfficeVisit.select().where(
                    OfficeVisit.ref.in_(list(refs)) & (OfficeVisit.site == site.id)
                )
            }
            if refs
            else {}
        )
        changed: dict[str, OfficeVisit] = {}
        for event in events:
            self._fold(kiosk, event, visits, changed, now)
        if not changed:
            return unchanged
        # One upsert and one feed insert for the whole batch: per-row statements would cost
        # a round trip to PostgreSQL each.
        insert_rows(
            self.db,
            OfficeVisit,
            [
                {"ref": v.ref, "site": site.id, "kiosk": kiosk.id, "updated_at": now,
                 **{name: getattr(v, name) for name in VISIT_FIELDS},
                 "name_key": visit_name_key(v.visitor_name)}
                for v in changed.values()
            ],
            conflict_on="ref",
            update=(*VISIT_FIELDS, "name_key", "kiosk", "updated_at"),
        )  # fmt: skip
        self.feed.log_many(site, "visit", [(v.ref, visit_data(v)) for v in changed.values()])
        copy_arrivals(self.db, [v.ref for v in changed.values() if v.arrived_at is not None])
        return unchanged

    def _fold(
        self,
        kiosk: Kiosk,
        event: dict[str, Any],
        visits: dict[str, OfficeVisit],
        changed: dict[str, OfficeVisit],
        now: datetime,
    ) -> None:
        """One event into `visits` (the site's visits it names, by ref), noting in `changed`
        each visit it moves."""
        payload = event["payload"]
        if event["kind"] == EventKind.VISIT_RATED and payload.get("visit") in visits:
            visit = visits[payload["visit"]]
            visit.satisfaction = payload.get("satisfaction")
            changed[visit.ref] = visit
            return
        if event["kind"] == FORWARD_KIND:
            self._record_forward(kiosk, event, now)
            return
        if event["kind"] == EventKind.TOKEN_REVOKED:
            self.feed.log(
                kiosk.site,
                "revoked_token",
                str(payload.get("token", "")),
                {"kind": payload.get("kind", "")},
            )
            return
        if not event["kind"].startswith("visit.") or "state" not in payload:
            return
        ref = str(payload.get("visit", ""))
        if not ref:
            return
        token = payload.get("invitation")
        if token and payload["state"] == "checked_in":
            self._use_invitation(kiosk, str(token), ref, event["occurred_at"])
        found = visits.get(ref)
        if found is None:
            visit = OfficeVisit(
                ref=ref, site=kiosk.site, kiosk=kiosk, state=payload["state"], updated_at=now
            )
            visits[ref] = visit
        elif STATE_RANK.get(payload["state"], -1) < STATE_RANK.get(found.state, -1):
            return  # late news: an arrival is never undone by an older "expected"
        elif found.state in FINAL_STATES:
            return  # an ended visit stays as it ended: a late "denied" undoes no checkout
        elif payload["state"] == "no_show" and found.arrived_at is not None:
            return
        else:
            visit = found
        self._copy_snapshot(visit, payload)
        visit.kiosk = kiosk
        visit.updated_at = now
        changed[ref] = visit

    @staticmethod
    def _copy_snapshot(visit: OfficeVisit, payload: dict[str, Any]) -> None:
        visitor = payload.get("visitor") or {}
        values: dict[str, Any] = {
            "state": payload.get("state"),
            "visitor_name": visitor.get("name", visit.visitor_name or ""),
            "company": visitor.get("company", visit.company or ""),
            "host_ref": payload.get("host") or visit.host_ref or "",
            "appointment_ref": payload.get("appointment") or visit.appointment_ref or "",
            "method": payload.get("method", visit.method or ""),
            "purpose": payload.get("purpose", visit.purpose or ""),
            "level": payload.get("level", visit.level or ""),
            "visitor_type": payload.get("visitor_type", visit.visitor_type or ""),
            "escort_required": bool(payload.get("escort_required", visit.escort_required)),
            "auto_checked_out": bool(payload.get("auto_checked_out", False)),
        }
        for name in ("arrived_at", "host_notified_at", "host_acknowledged_at", "left_at"):
            values[name] = _parse_time(payload.get(name)) or getattr(visit, name)
        if payload.get("satisfaction") is not None:
            values["satisfaction"] = int(payload["satisfaction"])
        for name, value in values.items():
            setattr(visit, name, value)

    def _use_invitation(self, kiosk: Kiosk, token_id: str, visit_ref: str, at: datetime) -> None:
        """Record an invitation as used and tell every kiosk of the site. Used at two kiosks
        while they were both offline, it is flagged as a security alert."""
        first = UsedInvitation.get_or_none(
            (UsedInvitation.site == kiosk.site_id) & (UsedInvitation.token_id == token_id)
        )
        if first is None:
            UsedInvitation.create(
                token_id=token_id, site=kiosk.site, kiosk=kiosk, visit_ref=visit_ref, used_at=at
            )
            self.feed.log(
                kiosk.site,
                "used_invitation",
                token_id,
                {"kiosk": kiosk.kiosk_id, "visit": visit_ref},
            )
        elif first.kiosk_id != kiosk.id or first.visit_ref != visit_ref:
            raise_alert(
                kiosk, OfficeAlert.INVITATION_USED_TWICE, visit_ref,
                {"token": token_id, "first_visit": first.visit_ref,
                 "first_kiosk": first.kiosk.kiosk_id, "visit": visit_ref},
                at, self.clock.now(),
            )  # fmt: skip

    def _record_forward(self, kiosk: Kiosk, event: dict[str, Any], now: datetime) -> None:
        """A delivery a kiosk handed over: recorded once per delivery key and channel (a
        kiosk that pushes again after a lost answer adds nothing), and the message kept
        only in that row, which is cleared once sent (kiosk.office.forwarding)."""
        payload = event["payload"]
        ForwardedNotification.insert(
            forward_row(kiosk, event["event_id"], payload, now)
        ).on_conflict_ignore().execute()
        Event.update(payload=json.dumps(stored_forward_payload(payload), ensure_ascii=False)).where(
            Event.event_id == event["event_id"]
        ).execute()

    def visits(self, since: datetime, site_name: str | None = None) -> list[dict[str, Any]]:
        with self.db.connection_context():
            query = (
                OfficeVisit.select(OfficeVisit, Kiosk)
                .join(Kiosk)
                .where((OfficeVisit.arrived_at >= since) | (OfficeVisit.updated_at >= since))
            )
            if site_name:
                query = query.switch(OfficeVisit).join(Site).where(Site.name == site_name)
            return [
                {"ref": visit.ref, **visit_data(visit)}
                for visit in query.order_by(OfficeVisit.arrived_at)
            ]
