"""What a kiosk's event must look like before the office stores it: one rule set per kind.

`validate_event` returns the event as the office keeps it, or raises InvalidInput naming the
field and the problem. Each event is judged alone, so one bad event is refused with its
reason and the rest of its batch goes on (kiosk.office.store.OfficeStore.ingest).

The rules, for every kind (those a kiosk also applies to what it pulls are in
kiosk.domain.records):
- every text anywhere in the payload is free of lone surrogates and NUL (neither can be
  stored: SQLite's UTF-8 and PostgreSQL's text refuse them, and one such event would fail
  its batch forever), and the payload nests at most MAX_DEPTH levels;
- names, companies and refs follow the kiosk's own text rules (kiosk.domain.text: no
  control characters), so nothing synced can drive a terminal or a printer elsewhere;
- times are ISO 8601 with a zone, between MIN_TIME and MAX_TIME (a year 1 time with a
  +14:00 offset overflows when converted to UTC).

And for visit events: the state matches the kind, and a visitor on site (checked in,
awaiting the host, acknowledged) or gone after being on site (checked out) has the time
they arrived, because the roll call and the reports are built from it.
"""

from __future__ import annotations

from typing import Any

from kiosk.domain.errors import InvalidInput
from kiosk.domain.records import (
    ARRIVED_STATES,
    FINAL_STATES,
    MAX_DEPTH,
    MAX_TIME,
    MIN_TIME,
    REF_MAX,
    STATE_RANK,
    VISIT_TIMES,
    check_flag,
    check_satisfaction,
    check_storable,
    check_text_field,
    parse_time,
)
from kiosk.domain.text import check_text
from kiosk.office.cases.rules import CASE_KINDS, validate_case_payload
from kiosk.office.deliveries.rules import DELIVERY_KINDS, validate_delivery_payload
from kiosk.office.forwarded_events import FORWARD_KIND, validate_forward_payload
from kiosk.sync.wire import EVENT_KINDS, EventKind

# The rules shared with the kiosk's side of sync live in kiosk.domain.records; they are
# named here too because the office's code imports them from this module.
__all__ = [
    "ARRIVED_STATES",
    "FINAL_STATES",
    "MAX_DEPTH",
    "MAX_TIME",
    "MIN_TIME",
    "REF_MAX",
    "STATE_RANK",
    "VISIT_TIMES",
    "check_storable",
    "parse_time",
    "validate_event",
    "validate_visit_payload",
]

VISIT_REFS = ("host", "appointment", "invitation")
VISIT_CODES = ("method", "purpose", "level", "visitor_type")
VISIT_FLAGS = ("escort_required", "auto_checked_out", "after_hours", "host_absent")


def _text(
    payload: dict[str, Any], name: str, limit: int, *, required: bool = False, within: str = ""
) -> None:
    check_text_field(payload, name, limit, field=f"payload.{within}{name}", required=required)


def validate_event(kiosk_id: str, raw: Any) -> dict[str, Any]:
    """The event as the office stores it; InvalidInput (field and reason) if it is not one."""
    if not isinstance(raw, dict):
        raise InvalidInput("event", "is not an object")
    event_id = raw.get("event_id")
    if (
        not isinstance(event_id, str)
        or len(event_id) != 32
        or not all(c in "0123456789abcdef" for c in event_id)
    ):
        raise InvalidInput("event_id", "must be 32 lower-case hex digits")
    seq = raw.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 < seq < 2**62:
        raise InvalidInput("seq", "must be a positive integer")
    kind = raw.get("kind")
    if kind not in EVENT_KINDS:
        shown = kind[:40] if isinstance(kind, str) else kind
        raise InvalidInput("kind", f"unknown event kind {shown!r}")
    payload = raw.get("payload")
    if not isinstance(payload, dict):
        raise InvalidInput("payload", "must be an object")
    check_storable(payload, "payload")
    if payload.get("kiosk") not in (None, kiosk_id):
        raise InvalidInput("payload.kiosk", "a kiosk may only send its own events")
    subject = raw.get("subject_ref", "")
    if not isinstance(subject, str):
        raise InvalidInput("subject_ref", "must be text")
    check_text(subject, "subject_ref", max_length=REF_MAX)
    occurred = parse_time(raw.get("occurred_at"), "occurred_at")
    if occurred is None:
        raise InvalidInput("occurred_at", "is required")
    if kind.startswith("visit."):
        validate_visit_payload(kind, payload)
    elif kind == EventKind.TOKEN_REVOKED:
        _text(payload, "token", REF_MAX, required=True)
        _text(payload, "kind", 32)
    elif kind == FORWARD_KIND:
        validate_forward_payload(payload)
    elif kind == EventKind.LINK_SHORT:  # kiosk.notify.short_links
        _text(payload, "code", 16, required=True)
        _text(payload, "token", 600, required=True)
        if payload["code"] != subject:
            raise InvalidInput("subject_ref", "must be the short link's code")
    elif kind in DELIVERY_KINDS:  # kiosk.office.deliveries
        validate_delivery_payload(kind, payload)
    elif kind in CASE_KINDS:  # kiosk.office.cases
        validate_case_payload(kind, payload)
    elif "visit" in payload:
        _text(payload, "visit", REF_MAX)
    # The kiosk's hash chain, stored as sent and verified later (kiosk.office.reporting):
    # a link that does not verify is evidence to show, not a reason to refuse the event.
    chain = {name: raw.get(name) or "" for name in ("prev_hash", "event_hash")}
    for name, value in chain.items():
        if not isinstance(value, str) or (value and not _is_sha256_hex(value)):
            raise InvalidInput(name, "must be a SHA-256 in lower-case hex")
    return {
        "event_id": event_id,
        "seq": seq,
        "kind": kind,
        "subject_ref": subject,
        "payload": payload,
        "occurred_at": occurred,
        **chain,
    }


def validate_visit_payload(kind: str, payload: dict[str, Any]) -> None:
    """A visit event's payload is folded into the office's view of the visit, so every
    field it uses must have the right type before anything is stored."""
    _text(payload, "visit", REF_MAX, required=True)
    if kind == EventKind.VISIT_RATED:
        check_satisfaction(payload.get("satisfaction"), "payload.satisfaction", required=True)
        return
    state = payload.get("state")
    if state not in STATE_RANK or kind != f"visit.{state}":
        raise InvalidInput("payload.state", f"does not match the event kind {kind}")
    for name in VISIT_REFS:
        _text(payload, name, REF_MAX)
    for name in VISIT_CODES:
        _text(payload, name, 40)
    visitor = payload.get("visitor")
    if visitor is not None:
        if not isinstance(visitor, dict):
            raise InvalidInput("payload.visitor", "must be an object")
        _text(visitor, "name", 200, within="visitor.")
        _text(visitor, "company", 200, within="visitor.")
    times = {name: parse_time(payload.get(name), f"payload.{name}") for name in VISIT_TIMES}
    if state in ARRIVED_STATES and times["arrived_at"] is None:
        raise InvalidInput("payload.arrived_at", f"is required for a visit {state}")
    for name in VISIT_FLAGS:
        check_flag(payload, name, field=f"payload.{name}")
    check_satisfaction(payload.get("satisfaction"), "payload.satisfaction")


def _is_sha256_hex(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)
