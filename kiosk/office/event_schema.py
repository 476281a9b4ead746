"""What a kiosk's event must look like before the office stores it: one rule set per kind.

`validate_event` returns the event as the office keeps it, or raises InvalidInput naming the
field and the problem. Each event is judged alone, so one bad event is refused with its
reason and the rest of its batch goes on (kiosk.office.store.OfficeStore.ingest).

The rules, for every kind:
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

from datetime import UTC, datetime
from typing import Any

from kiosk.domain.errors import InvalidInput
from kiosk.domain.text import check_text
from kiosk.office.forwarding import FORWARD_KIND, validate_forward_payload
from kiosk.sync.wire import EVENT_KINDS

MAX_DEPTH = 8
MIN_TIME = datetime(2000, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(2200, 1, 1, tzinfo=UTC)
REF_MAX = 64

#: The states of a visit in the order they happen; a visit's state at the office only moves
#: forward (kiosk.office.store: a late "denied" never undoes a checkout).
STATE_RANK = {
    "expected": 0,
    "checked_in": 1,
    "awaiting_host": 2,
    "host_acknowledged": 3,
    "checked_out": 4,
    "denied": 4,
    "no_show": 4,
}
FINAL_STATES = frozenset({"checked_out", "denied", "no_show"})
#: States whose visitor has arrived: the event must say when.
ARRIVED_STATES = frozenset({"checked_in", "awaiting_host", "host_acknowledged", "checked_out"})
VISIT_TIMES = ("arrived_at", "host_notified_at", "host_acknowledged_at", "left_at")
VISIT_REFS = ("host", "appointment", "invitation")
VISIT_CODES = ("method", "purpose", "level", "visitor_type")
VISIT_FLAGS = ("escort_required", "auto_checked_out", "after_hours", "host_absent")


def parse_time(value: Any, field: str) -> datetime | None:
    """An ISO 8601 time with a zone, in UTC; None for None or ""; InvalidInput otherwise."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidInput(field, "must be an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise InvalidInput(field, "must carry its time zone")
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError) as err:
        raise InvalidInput(field, f"is not a time that can be stored ({value!r})") from err
    if not MIN_TIME <= moment < MAX_TIME:
        raise InvalidInput(field, f"is out of range ({value!r})")
    return moment


def check_storable(value: Any, field: str, depth: int = 0) -> None:
    """Every text in `value` can be stored, and it nests at most MAX_DEPTH levels."""
    if depth > MAX_DEPTH:
        raise InvalidInput(field, f"nests more than {MAX_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidInput(field, "contains a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            raise InvalidInput(field, "contains a broken character (lone surrogate)") from err
    elif isinstance(value, dict):
        for key, item in value.items():
            check_storable(key, field, depth + 1)
            check_storable(item, f"{field}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_storable(item, f"{field}[{index}]", depth + 1)


def _text(
    payload: dict[str, Any], name: str, limit: int, *, required: bool = False, within: str = ""
) -> None:
    field = f"payload.{within}{name}"
    value = payload.get(name)
    if value is None and not required:
        return
    if not isinstance(value, str):
        raise InvalidInput(field, "must be text")
    check_text(value, field, max_length=limit, required=required)


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
    elif kind == "token.revoked":
        _text(payload, "token", REF_MAX, required=True)
        _text(payload, "kind", 32)
    elif kind == FORWARD_KIND:
        validate_forward_payload(payload)
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
    if kind == "visit.rated":
        score = payload.get("satisfaction")
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise InvalidInput("payload.satisfaction", "must be a whole number from 1 to 5")
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
        if payload.get(name) is not None and not isinstance(payload.get(name), bool):
            raise InvalidInput(f"payload.{name}", "must be true or false")
    score = payload.get("satisfaction")
    if score is not None and (
        not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5
    ):
        raise InvalidInput("payload.satisfaction", "must be a whole number from 1 to 5")


def _is_sha256_hex(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)
