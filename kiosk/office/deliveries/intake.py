"""The delivery events kiosks push, folded into the office's parcels (kiosk.office.intake
hands them over here; the payloads were checked by kiosk.office.deliveries.rules).

- `delivery.logged` makes the parcel, waiting; logged again (another event id for the same
  parcel) it changes nothing.
- `delivery.collected` marks it collected, by whom, how and when; a second collection of
  one parcel is kept as a duplicate (in the parcel's history) and changes nothing. A
  collection may arrive before the logging (two kiosks, the second pushed first): the
  parcel is then kept as collected, and the logging fills in the rest when it comes.
- every change writes the parcel's whole state to the change feed (entity "parcel"), so a
  parcel logged at one kiosk can be collected at another of the site.

A kiosk speaks only for its own site: an event naming another site's parcel or host is
rejected and raises a security alert (kiosk.office.alerts), as visits' events are; a
carrier the site does not list is rejected with that reason.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from peewee import Database

from kiosk.dbkit.rows import insert_rows, rows_of
from kiosk.domain.records import parse_time
from kiosk.office.alerts import OfficeAlert, raise_alert
from kiosk.office.deliveries.models import Parcel, ParcelHistory
from kiosk.office.deliveries.pickup_tokens import pickup_token_problem
from kiosk.office.deliveries.rules import DELIVERY_KINDS, ParcelState, load_rules
from kiosk.office.feed import ChangeFeed
from kiosk.office.models import Kiosk, OfficeHost, Site
from kiosk.sync.wire import EventKind

FEED_ENTITY = "parcel"
#: A parcel's columns as the intake's upsert writes them (all but its id and ref).
PARCEL_COLUMNS = (
    "site", "kiosk", "logged", "pickup_code", "host_ref", "company", "kind", "carrier",
    "items", "waybill", "shelf", "recipient_left", "token_id", "state", "logged_at",
    "collected_at", "collected_by", "collected_method", "signed", "collected_kiosk",
    "returned_at", "returned_by", "updated_at", "pickup_token",
)  # fmt: skip


def parcel_data(parcel: Parcel) -> dict[str, Any]:
    """A parcel as the change feed carries it (the contract's "parcel" entity)."""
    return {
        "parcel_ref": parcel.ref,
        "pickup_code": parcel.pickup_code,
        "host_ref": parcel.host_ref,
        "company": parcel.company,
        "kind": parcel.kind,
        "carrier": parcel.carrier,
        "items": parcel.items,
        "shelf": parcel.shelf,
        "state": parcel.state,
        "logged_at": parcel.logged_at.isoformat(),
        "collected_at": parcel.collected_at.isoformat() if parcel.collected_at else None,
        "token_id": parcel.token_id,
    }


def _column(parcel: Parcel, name: str) -> Any:
    """A column's value; a foreign key's id as it is (its object would cost a query)."""
    return getattr(parcel, f"{name}_id") if name in ("site", "kiosk") else getattr(parcel, name)


def record(parcel: Parcel, action: str, actor: str, at: datetime, **detail: Any) -> None:
    """A line of the parcel's history; `event` in the detail names the kiosk's event it
    came from (the purge finds the events to blank by it)."""
    ParcelHistory.create(
        parcel=parcel,
        at=at,
        action=action,
        actor=actor,
        detail=json.dumps(detail, ensure_ascii=False, default=str),
    )


class ParcelIntake:
    """Judges and folds one kiosk's delivery events, inside kiosk.office.intake's
    transaction (so a refusal's alert and the batch commit together)."""

    def __init__(self, db: Database, feed: ChangeFeed) -> None:
        self.db = db
        self.feed = feed

    def refusals(self, kiosk: Kiosk, events: list[dict[str, Any]], now: datetime) -> dict[str, str]:
        """The delivery events among `events` to reject, by event id, with the reason."""
        mine = [e for e in events if e["kind"] in DELIVERY_KINDS]
        if not mine:
            return {}
        refs = {e["payload"]["parcel_ref"] for e in mine}
        parcel_sites = dict(
            rows_of(Parcel.select(Parcel.ref, Parcel.site).where(Parcel.ref.in_(sorted(refs))))
        )
        hosts = {e["payload"].get("host_ref") for e in mine} - {None, ""}
        host_sites = (
            dict(
                rows_of(
                    OfficeHost.select(OfficeHost.ref, OfficeHost.site).where(
                        OfficeHost.ref.in_(sorted(hosts))
                    )
                )
            )
            if hosts
            else {}
        )
        carriers = set(load_rules(kiosk.site_id).carriers)
        refused: dict[str, str] = {}
        for event in mine:
            payload = event["payload"]
            foreign = [
                (what, ref, owner)
                for what, ref, owner in (
                    ("parcel", payload["parcel_ref"], parcel_sites.get(payload["parcel_ref"])),
                    ("host", payload.get("host_ref"), host_sites.get(payload.get("host_ref"))),
                )
                if owner is not None and owner != kiosk.site_id
            ]
            if foreign:
                what, ref, owner = foreign[0]
                refused[event["event_id"]] = f"the {what} {ref} is not of this kiosk's site"
                raise_alert(
                    kiosk,
                    OfficeAlert.FOREIGN_SITE,
                    ref,
                    {"event_id": event["event_id"], "kind": event["kind"], "refs": [ref]},
                    event["occurred_at"],
                    now,
                    also=Site.get_by_id(owner),
                )
            elif event["kind"] == EventKind.DELIVERY_LOGGED and payload["carrier"] not in carriers:
                refused[event["event_id"]] = (
                    f"payload.carrier: unknown carrier {payload['carrier']!r}; "
                    f"this site's are {', '.join(sorted(carriers))}"
                )
            elif event["kind"] == EventKind.DELIVERY_LOGGED and (
                problem := pickup_token_problem(
                    payload,
                    kiosk.badge_public_key,
                    parse_time(payload["logged_at"], "payload.logged_at") or now,
                )
            ):
                refused[event["event_id"]] = problem
        return refused

    def fold_many(self, kiosk: Kiosk, events: list[dict[str, Any]], now: datetime) -> set[str]:
        """The batch's delivery events (in seq order) into their parcels, with a few
        statements for the whole batch (per-event statements would cost a round trip to
        PostgreSQL each); the ids of the events that changed nothing (duplicates)."""
        mine = [e for e in events if e["kind"] in DELIVERY_KINDS]
        if not mine:
            return set()
        refs = sorted({e["payload"]["parcel_ref"] for e in mine})
        parcels = {p.ref: p for p in Parcel.select().where(Parcel.ref.in_(refs))}
        changed: dict[str, Parcel] = {}
        lines: list[tuple[str, datetime, str, dict[str, Any]]] = []
        unchanged: set[str] = set()
        for event in mine:
            ref = event["payload"]["parcel_ref"]
            fold = self._logged if event["kind"] == EventKind.DELIVERY_LOGGED else self._collected
            outcome = fold(kiosk, parcels.get(ref), event, now, lines)
            if outcome is None:
                unchanged.add(event["event_id"])
            else:
                parcels[ref] = changed[ref] = outcome
        self._write(kiosk, list(changed.values()), lines)
        return unchanged

    def _write(
        self,
        kiosk: Kiosk,
        changed: list[Parcel],
        lines: list[tuple[str, datetime, str, dict[str, Any]]],
    ) -> None:
        """The changed parcels (one upsert), their history and their feed rows."""
        if changed:
            insert_rows(
                self.db,
                Parcel,
                [{"ref": p.ref, **{name: _column(p, name) for name in PARCEL_COLUMNS}}
                 for p in changed],
                conflict_on="ref",
                update=PARCEL_COLUMNS,
            )  # fmt: skip
        refs = sorted({ref for ref, *_ in lines})
        ids = dict(rows_of(Parcel.select(Parcel.ref, Parcel.id).where(Parcel.ref.in_(refs))))
        insert_rows(
            self.db,
            ParcelHistory,
            [{"parcel": ids[ref], "at": at, "action": action, "actor": kiosk.kiosk_id,
              "detail": json.dumps(detail, ensure_ascii=False, default=str)}
             for ref, at, action, detail in lines],
        )  # fmt: skip
        logged = [(p.ref, parcel_data(p)) for p in changed if p.logged]
        if logged:
            self.feed.log_many(kiosk.site, FEED_ENTITY, logged)

    @staticmethod
    def _logged(
        kiosk: Kiosk, parcel: Parcel | None, event: dict[str, Any], now: datetime,
        lines: list[tuple[str, datetime, str, dict[str, Any]]],
    ) -> Parcel | None:  # fmt: skip
        """The parcel as its logging leaves it (None: already logged, nothing changes)."""
        payload = event["payload"]
        if parcel is not None and parcel.logged:
            return None  # the same parcel logged again: it is as it was
        if parcel is None:
            parcel = Parcel(ref=payload["parcel_ref"], site=kiosk.site_id,
                            state=ParcelState.WAITING)  # fmt: skip
        parcel.kiosk = kiosk.id
        for name in ("pickup_code", "kind", "carrier", "items", "token_id"):
            setattr(parcel, name, payload[name])
        for name in ("host_ref", "company", "waybill", "shelf"):
            setattr(parcel, name, (payload.get(name) or "").strip())
        parcel.recipient_left = payload["recipient_left"]
        waiting = parcel.state == ParcelState.WAITING  # not collected before it was logged
        parcel.pickup_token = (payload.get("pickup_token") or "") if waiting else ""
        parcel.logged_at = parse_time(payload["logged_at"], "payload.logged_at")
        parcel.logged = True
        parcel.updated_at = now
        detail = {"event": event["event_id"], "recipient_left": parcel.recipient_left}
        lines.append((parcel.ref, parcel.logged_at, "logged", detail))
        return parcel

    @staticmethod
    def _collected(
        kiosk: Kiosk, parcel: Parcel | None, event: dict[str, Any], now: datetime,
        lines: list[tuple[str, datetime, str, dict[str, Any]]],
    ) -> Parcel | None:  # fmt: skip
        """The parcel as its collection leaves it (None: a second collection, kept in its
        history only)."""
        payload = event["payload"]
        at = parse_time(payload["collected_at"], "payload.collected_at")
        assert at is not None  # the schema requires it
        who = payload["collected_by"].strip()
        detail: dict[str, Any] = {"event": event["event_id"], "collected_by": who,
                                  "method": payload["method"]}  # fmt: skip
        if parcel is not None and parcel.state == ParcelState.COLLECTED:
            lines.append((parcel.ref, at, "second_collection",
                          {**detail, "first_by": parcel.collected_by}))  # fmt: skip
            return None
        if parcel is None:
            parcel = Parcel(ref=payload["parcel_ref"], site=kiosk.site_id, kiosk=kiosk.id,
                            logged=False, logged_at=at)  # fmt: skip
        was = parcel.state
        parcel.state = ParcelState.COLLECTED
        parcel.collected_at = at
        parcel.collected_by = who
        parcel.collected_method = payload["method"]
        parcel.signed = payload["signed"]
        parcel.collected_kiosk = kiosk.kiosk_id
        parcel.pickup_token = ""  # collected: the office keeps no credential for it
        parcel.updated_at = now
        if was == ParcelState.RETURNED:
            detail["was"] = was
        lines.append((parcel.ref, at, "collected", {**detail, "signed": parcel.signed}))
        return parcel
