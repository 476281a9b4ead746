"""Applying a batch of the office's changes to the kiosk database, in one transaction with
the new cursor, so a batch is either wholly applied or not at all (and pulled again).

Changes from the office are not this kiosk's own doings: they write no outbox events.
Visits seen at other kiosks are mirrored so that a guard here can verify any badge of the
site and the roll call counts everyone; their state, like the office's, only moves forward.

The one exception is `link_response`: a host answered one of this kiosk's links at the
office's link page. That is the host's doing, not the office's, so it goes through this
kiosk's engine (CheckInEngine.acknowledge / decide_approval, `by="link:<party>"`, at the
time the host answered): the visitor's screen, the badge and the outbox see it as if the
link had been used here. The link is marked used here too, so it cannot also act directly.
Applying it twice, or after the visit moved on, changes nothing.

Each change is checked before it is written (kiosk.sync.feed_schema: required fields, types,
times with a zone, text without control characters, known states). One that fails is
skipped with a warning naming its kind, ref and reason; the rest of the batch is applied
and the cursor still moves past it, because pulling it again would bring the same row: a
bad row must neither stop the site's feed nor be retried forever. The office replaces a
feed row when its entity changes again, so a corrected entity arrives as a new change.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kiosk.dbkit.rows import insert_rows, rows_of
from kiosk.domain import names
from kiosk.domain.errors import IllegalTransition, InvalidInput, NotFound
from kiosk.domain.host_answers import HostAnswers
from kiosk.domain.records import FINAL_STATES, STATE_RANK, parse_time
from kiosk.domain.text import shown
from kiosk.domain.tokens import key_id_for
from kiosk.domain.values import VisitState
from kiosk.services.cases.deadlines import apply_case_deadlines
from kiosk.services.cases.status import apply_case_states
from kiosk.services.deliveries.feed import apply_parcel
from kiosk.storage.models import (
    Appointment,
    Host,
    KioskState,
    RevokedToken,
    TrustedKey,
    UsedInvitation,
    Visit,
    Visitor,
    WatchlistEntry,
    database,
)
from kiosk.sync.feed_schema import validate_change

log = logging.getLogger(__name__)

CURSOR_KEY = "sync_cursor"


@dataclass
class ApplyReport:
    applied: int = 0
    by_entity: dict[str, int] = field(default_factory=dict)
    #: Changes refused by kiosk.sync.feed_schema: (entity, ref, reason), as logged.
    skipped: list[tuple[str, str, str]] = field(default_factory=list)


def _time(value: Any) -> datetime | None:
    """A time the change's check has already accepted, in UTC."""
    return parse_time(value, "time")


def _rank(state: str) -> int:
    return STATE_RANK.get(state, -1)


def current_cursor() -> int:
    row = KioskState.get_or_none(KioskState.key == CURSOR_KEY)
    return int(row.value) if row else 0


log = logging.getLogger(__name__)

#: Entities in the order they are applied: hosts before the appointments that name them.
ORDER = (
    "key", "host", "watchlist", "appointment", "revoked_token", "used_invitation", "visit",
    "link_response", "case", "parcel", "case_settings",
)  # fmt: skip
#: Rows per statement, well inside SQLite's limit on bound variables.
CHUNK = 400


def _chunks(items: list[Any], size: int = CHUNK) -> Any:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def apply_changes(
    changes: list[dict[str, Any]],
    cursor: int,
    own_kiosk_id: str,
    now: datetime,
    *,
    engine: HostAnswers | None = None,
) -> ApplyReport:
    """Apply one pulled batch and store `cursor`; call inside a transaction.

    Within a batch the last change of an entity wins; entities are applied in ORDER, and
    appointments in bulk, because a first pull brings a whole year of them."""
    report = ApplyReport()
    latest: dict[str, dict[str, dict[str, Any]]] = {entity: {} for entity in ORDER}
    for change in changes:
        entity = change.get("entity") if isinstance(change, dict) else None
        if not isinstance(entity, str) or entity not in latest:
            continue  # a newer office may send more kinds; this kiosk does not need them
        try:
            ref, data = validate_change(entity, change.get("ref"), change.get("data"))
        except InvalidInput as err:
            _skip(report, entity, change.get("ref"), str(err))
            continue
        latest[entity].pop(ref, None)
        latest[entity][ref] = data
        report.applied += 1
        report.by_entity[entity] = report.by_entity.get(entity, 0) + 1
    for ref, data in latest["key"].items():
        _key(ref, data, now)
    for ref, data in latest["host"].items():
        _host(ref, data, now)
    for ref, data in latest["host"].items():  # delegates may come later in the batch
        delegate = (
            Host.get_or_none(Host.ref == data["delegate_ref"]) if data.get("delegate_ref") else None
        )
        Host.update(delegate=delegate).where(Host.ref == ref).execute()
    for ref, data in latest["watchlist"].items():
        _watchlist(ref, data, now)
    _appointments(latest["appointment"], now)
    for ref, data in latest["revoked_token"].items():
        _revoked(ref, data, now)
    for ref, data in latest["used_invitation"].items():
        _used(ref, data, now)
    _visits(latest["visit"], own_kiosk_id, now)
    for ref, data in latest["link_response"].items():
        _link_response(ref, data, own_kiosk_id, now, engine)
    apply_case_states(latest["case"])
    for ref, data in latest["parcel"].items():
        apply_parcel(ref, data, now)
    apply_case_deadlines(latest["case_settings"])
    KioskState.insert(key=CURSOR_KEY, value=str(cursor)).on_conflict_replace().execute()
    return report


def _skip(report: ApplyReport, entity: str, ref: Any, reason: str) -> None:
    """Log and count a change that is not applied (see the module docstring)."""
    # The ref and the reason may quote what was sent: shown safely, never raw, in the log.
    safe_ref, safe_reason = shown(ref, 80), shown(reason, 300)
    log.warning("sync: skipped the office's %s %s: %s", entity, safe_ref, safe_reason)
    report.skipped.append((entity, safe_ref, safe_reason))


def _host(ref: str, data: dict[str, Any], now: datetime) -> None:
    values = {
        "name": data["name"],
        "search_key": names.search_key(data["name"], data.get("department") or ""),
        "department": data.get("department") or "",
        "email": data.get("email") or "",
        "phone": data.get("phone") or "",
        "channels": json.dumps(data.get("channels") or []),
        "availability": data.get("availability") or "in",
        "is_senior": bool(data.get("is_senior")),
        "walk_in_needs_approval": bool(data.get("walk_in_needs_approval")),
        "active": data.get("active") is not False,
        "updated_at": now,
    }
    if Host.update(**values).where(Host.ref == ref).execute() == 0:
        Host.create(ref=ref, **values)


def _appointments(items: dict[str, dict[str, Any]], now: datetime) -> None:
    if not items:
        return
    hosts = {ref: host_id for ref, host_id in rows_of(Host.select(Host.ref, Host.id))}
    for data in items.values():
        if data["host_ref"] not in hosts:  # a host is in the feed before its appointments
            hosts[data["host_ref"]] = Host.create(
                ref=data["host_ref"], name="?", search_key="", updated_at=now
            ).id
    refs = list(items)
    existing = _ids_by_ref("appointment", refs)

    def values(data: dict[str, Any]) -> dict[str, Any]:
        return {
            "host": hosts[data["host_ref"]],
            "visitor_name": data["visitor_name"],
            "exact_key": data.get("exact_key") or names.exact_key(data["visitor_name"]),
            "latin_key": data.get("latin_key") or names.latin_key(data["visitor_name"]),
            "company": data.get("company") or "",
            "email": data.get("email") or "",
            "phone": data.get("phone") or "",
            "starts_at": _time(data["starts_at"]),
            "ends_at": _time(data["ends_at"]),
            "purpose": data.get("purpose") or "visit_person",
            "level": data.get("level") or "ordinary",
            "visitor_type": data.get("visitor_type") or "visitor",
            "invitation_token_id": data.get("invitation_token_id"),
            "cancelled_at": _time(data.get("cancelled_at")),
            "source": "office",
            "updated_at": now,
        }

    for ref in refs:
        if ref in existing:
            Appointment.update(**values(items[ref])).where(
                Appointment.id == existing[ref]
            ).execute()
    new = [ref for ref in refs if ref not in existing]
    # Ids are handed out here (this transaction is the only writer of the kiosk's file), so
    # the expected visits can point at them without reading the new rows back.
    first_id = (database.execute_sql("SELECT MAX(id) FROM appointment").fetchone()[0] or 0) + 1
    ids = dict(existing)
    ids.update({ref: first_id + offset for offset, ref in enumerate(new)})
    insert_rows(
        database, Appointment, [{"id": ids[ref], "ref": ref, **values(items[ref])} for ref in new]
    )
    known = set(_ids_by_ref("visit", [items[ref]["visit_ref"] for ref in refs]))
    expected = [
        {
            "ref": items[ref]["visit_ref"],
            "appointment": ids[ref],
            "host": hosts[items[ref]["host_ref"]],
            "state": VisitState.EXPECTED.value,
            "purpose": items[ref].get("purpose") or "visit_person",
            "level": items[ref].get("level") or "ordinary",
            "visitor_type": items[ref].get("visitor_type") or "visitor",
            "company": items[ref].get("company") or "",
            "created_at": now,
            "updated_at": now,
        }
        for ref in refs
        if items[ref]["visit_ref"] not in known
    ]
    insert_rows(database, Visit, expected)


def _ids_by_ref(table: str, refs: list[str]) -> dict[str, int]:
    """{ref: id} of the rows of `table` among `refs` (plain SQL: thousands at a time)."""
    found: dict[str, int] = {}
    for part in _chunks(refs):
        marks = ", ".join("?" * len(part))
        rows = database.execute_sql(f'SELECT ref, id FROM "{table}" WHERE ref IN ({marks})', part)
        found.update(rows.fetchall())
    return found


def _watchlist(ref: str, data: dict[str, Any], now: datetime) -> None:
    values = {
        "name": data["name"],
        "exact_key": data.get("exact_key") or names.exact_key(data["name"]),
        "latin_key": data.get("latin_key") or names.latin_key(data["name"]),
        "document_hash": data.get("document_hash"),
        "reason": data.get("reason") or "",
        "active": data.get("active") is not False,
    }
    if WatchlistEntry.update(**values).where(WatchlistEntry.ref == ref).execute() == 0:
        WatchlistEntry.create(ref=ref, added_at=now, **values)


def _revoked(token_id: str, data: dict[str, Any], now: datetime) -> None:
    RevokedToken.insert(
        token_id=token_id,
        kind=data.get("kind") or "",
        reason="revoked at the office",
        revoked_at=now,
    ).on_conflict_ignore().execute()


def _used(token_id: str, data: dict[str, Any], now: datetime) -> None:
    UsedInvitation.insert(
        token_id=token_id, used_at=now, kiosk_id=data.get("kiosk") or ""
    ).on_conflict_ignore().execute()


def _key(ref: str, data: dict[str, Any], now: datetime) -> None:
    """Trust (or revoke) the key a feed row carries. The row's ref is its kind and whole key
    (older offices used the 4-byte key id); the key id is always worked out from the key.
    A key of the same kind and id as one already trusted, but another key, never replaces
    it: the office refuses such keys, so one in the feed is logged and left out."""
    # feed_schema checked that the key is one and that the row's ref names it.
    key_id = key_id_for(bytes.fromhex(data["public_key"]))
    existing = TrustedKey.get_or_none(
        (TrustedKey.kind == data["kind"]) & (TrustedKey.key_id == key_id)
    )
    revoked_at = now if data.get("revoked") else None
    if existing is None:
        TrustedKey.create(
            key_id=key_id,
            kind=data["kind"],
            public_key=data["public_key"],
            owner=data.get("owner") or "",
            added_at=now,
            revoked_at=revoked_at,
        )
    elif existing.public_key != data["public_key"]:
        log.warning("key %s of kind %s: another key has that id; left out", key_id, data["kind"])
    elif (existing.revoked_at is None) != (revoked_at is None):
        existing.revoked_at = revoked_at
        existing.save()


def _visits(items: dict[str, dict[str, Any]], own_kiosk_id: str, now: datetime) -> None:
    """Mirror visits seen at other kiosks: new ones in bulk, known ones updated one by one
    (there are few: only those this kiosk already had)."""
    if not items:
        return
    known = _ids_by_ref("visit", list(items))
    fresh = [
        (ref, data)
        for ref, data in items.items()
        if ref not in known and data["state"] not in FINAL_STATES  # ended before we heard of it
    ]
    for ref, data in items.items():
        if ref in known:
            _visit(ref, data, own_kiosk_id, now)
    if not fresh:
        return
    hosts = {ref: host_id for ref, host_id in rows_of(Host.select(Host.ref, Host.id))}
    first_visitor = (database.execute_sql("SELECT MAX(id) FROM visitor").fetchone()[0] or 0) + 1
    insert_rows(
        database,
        Visitor,
        [
            {
                "id": first_visitor + number,
                "name": data.get("visitor_name") or "",
                "company": data.get("company") or "",
                "created_at": now,
            }
            for number, (_ref, data) in enumerate(fresh)
        ],
    )
    insert_rows(
        database,
        Visit,
        [
            {
                "ref": ref,
                "visitor": first_visitor + number,
                "host": hosts.get(data.get("host_ref") or ""),
                "state": data["state"],
                "company": data.get("company") or "",
                "kiosk_id": data.get("kiosk") or "",
                "escort_required": bool(data.get("escort_required")),
                "arrived_at": _time(data.get("arrived_at")),
                "host_notified_at": _time(data.get("host_notified_at")),
                "host_acknowledged_at": _time(data.get("host_acknowledged_at")),
                "left_at": _time(data.get("left_at")),
                "created_at": now,
                "updated_at": now,
            }
            for number, (ref, data) in enumerate(fresh)
        ],
    )


def _visit(ref: str, data: dict[str, Any], own_kiosk_id: str, now: datetime) -> None:
    visit = Visit.get_or_none(Visit.ref == ref)
    if visit is None:
        return
    if _rank(data["state"]) <= _rank(visit.state):
        return  # nothing newer than what this kiosk already knows
    if visit.kiosk_id == own_kiosk_id and data.get("kiosk") == own_kiosk_id:
        return  # this kiosk's own doing, reflected back
    host = Host.get_or_none(Host.ref == data.get("host_ref")) if data.get("host_ref") else None
    if data.get("visitor_name") and visit.visitor is None:
        visit.visitor = Visitor.create(
            name=data["visitor_name"], company=data.get("company") or "", created_at=now
        )
    visit.state = data["state"]
    visit.host = host or visit.host
    visit.company = data.get("company") or ""
    visit.kiosk_id = data.get("kiosk") or ""
    visit.escort_required = bool(data.get("escort_required"))
    for name in ("arrived_at", "host_notified_at", "host_acknowledged_at", "left_at"):
        setattr(visit, name, _time(data.get(name)) or getattr(visit, name))
    visit.updated_at = now
    visit.save()


def _link_response(
    link_id: str,
    data: dict[str, Any],
    own_kiosk_id: str,
    now: datetime,
    engine: HostAnswers | None,
) -> None:
    """A host used one of this kiosk's links at the office (see the module docstring)."""
    from kiosk.notify.models import UsedLink

    if data.get("kiosk") != own_kiosk_id or engine is None:
        return  # another kiosk's visit: its own engine applies it
    visit_ref = str(data.get("visit") or "")
    if UsedLink.get_or_none(UsedLink.link_id == link_id) is not None:
        return  # redeemed here before (directly, or an earlier pull): done once
    UsedLink.create(
        link_id=link_id, action=str(data.get("action") or ""), visit_ref=visit_ref, used_at=now
    )
    by = f"link:{data.get('party') or 'host'}"
    answered = _time(data.get("answered_at")) or now
    try:
        with database.atomic():  # a savepoint: a refusal leaves the rest of the batch
            if data.get("action") == "ack":
                engine.acknowledge(visit_ref, by=by, at=answered)
            elif data.get("action") in ("approve", "deny"):
                engine.decide_approval(visit_ref, data["action"] == "approve", by=by, at=answered)
    except (IllegalTransition, NotFound):
        pass  # answered another way meanwhile, or purged: the office's page said so too
