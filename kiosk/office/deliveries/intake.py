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

from kiosk.dbkit.rows import rows_of
from kiosk.domain.records import parse_time
from kiosk.office.alerts import OfficeAlert, raise_alert
from kiosk.office.deliveries.models import Parcel, ParcelHistory
from kiosk.office.deliveries.rules import DELIVERY_KINDS, ParcelState, load_rules
from kiosk.office.feed import ChangeFeed
from kiosk.office.models import Kiosk, OfficeHost, Site
from kiosk.sync.wire import EventKind

FEED_ENTITY = "parcel"


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
        return refused

    def fold(self, kiosk: Kiosk, event: dict[str, Any], now: datetime) -> bool:
        """One delivery event into its parcel; True when it changed nothing (a duplicate)."""
        payload = event["payload"]
        parcel = Parcel.get_or_none(Parcel.ref == payload["parcel_ref"])
        if event["kind"] == EventKind.DELIVERY_LOGGED:
            changed = self._logged(kiosk, parcel, event, now)
        else:
            changed = self._collected(kiosk, parcel, event, now)
        if changed is None:
            return True
        if changed.logged:
            self.feed.log(kiosk.site, FEED_ENTITY, changed.ref, parcel_data(changed))
        return False

    @staticmethod
    def _logged(
        kiosk: Kiosk, parcel: Parcel | None, event: dict[str, Any], now: datetime
    ) -> Parcel | None:
        payload = event["payload"]
        if parcel is not None and parcel.logged:
            return None  # the same parcel logged again: it is as it was
        if parcel is None:
            parcel = Parcel(
                ref=payload["parcel_ref"], site=kiosk.site_id, state=ParcelState.WAITING
            )
        parcel.kiosk = kiosk
        for name in ("pickup_code", "kind", "carrier", "items", "token_id"):
            setattr(parcel, name, payload[name])
        for name in ("host_ref", "company", "waybill", "shelf"):
            setattr(parcel, name, (payload.get(name) or "").strip())
        parcel.recipient_left = payload["recipient_left"]
        parcel.logged_at = parse_time(payload["logged_at"], "payload.logged_at")
        parcel.logged = True
        parcel.updated_at = now
        parcel.save(force_insert=parcel.id is None)
        record(parcel, "logged", kiosk.kiosk_id, parcel.logged_at, event=event["event_id"],
               recipient_left=parcel.recipient_left)  # fmt: skip
        return parcel

    @staticmethod
    def _collected(
        kiosk: Kiosk, parcel: Parcel | None, event: dict[str, Any], now: datetime
    ) -> Parcel | None:
        payload = event["payload"]
        at = parse_time(payload["collected_at"], "payload.collected_at")
        assert at is not None  # the schema requires it
        who = payload["collected_by"].strip()
        if parcel is not None and parcel.state == ParcelState.COLLECTED:
            record(
                parcel,
                "second_collection",
                kiosk.kiosk_id,
                at,
                collected_by=who,
                method=payload["method"],
                first_by=parcel.collected_by,
                event=event["event_id"],
            )
            return None
        if parcel is None:
            parcel = Parcel(
                ref=payload["parcel_ref"],
                site=kiosk.site_id,
                kiosk=kiosk,
                logged=False,
                logged_at=at,
            )
        was = parcel.state
        parcel.state = ParcelState.COLLECTED
        parcel.collected_at = at
        parcel.collected_by = who
        parcel.collected_method = payload["method"]
        parcel.signed = payload["signed"]
        parcel.collected_kiosk = kiosk.kiosk_id
        parcel.updated_at = now
        parcel.save(force_insert=parcel.id is None)
        record(
            parcel,
            "collected",
            kiosk.kiosk_id,
            at,
            collected_by=who,
            method=parcel.collected_method,
            signed=parcel.signed,
            event=event["event_id"],
            **({"was": was} if was == ParcelState.RETURNED else {}),
        )
        return parcel
