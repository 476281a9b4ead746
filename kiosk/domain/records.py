"""Checks on records that travel between machines: a kiosk's events going to the office
(kiosk.office.event_schema) and the office's change feed coming back to a kiosk
(kiosk.sync.feed_schema).

Both ends use these same rules, so what one end accepts the other can store and show:
- times are ISO 8601 with a zone, between MIN_TIME and MAX_TIME (a year 1 time with a
  +14:00 offset overflows when converted to UTC);
- every text can be stored (no NUL, no lone surrogate) and nests at most MAX_DEPTH levels;
- names, companies and refs follow the kiosk's text rules (kiosk.domain.text): no control
  characters, so nothing synced can drive a terminal or a printer elsewhere;
- a visit's state is one of STATE_RANK's, and a visitor who has arrived has the time.

Every check raises InvalidInput naming the field and the problem.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kiosk.domain.errors import InvalidInput
from kiosk.domain.text import check_text

MAX_DEPTH = 8
MIN_TIME = datetime(2000, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(2200, 1, 1, tzinfo=UTC)
REF_MAX = 64
#: Codes such as a purpose, a level or a check-in method.
CODE_MAX = 40

#: The states of a visit in the order they happen; a visit's state only moves forward
#: (a late "denied" never undoes a checkout).
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
#: States whose visitor has arrived: the record must say when.
ARRIVED_STATES = frozenset({"checked_in", "awaiting_host", "host_acknowledged", "checked_out"})
VISIT_TIMES = ("arrived_at", "host_notified_at", "host_acknowledged_at", "left_at")


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
    problem = _unstorable(value, depth)
    if problem is not None:
        path, reason = problem
        raise InvalidInput(field + path, reason)


def _unstorable(value: Any, depth: int) -> tuple[str, str] | None:
    """Where in `value` (a path such as ".visitor.name") and why it cannot be stored; None
    when it can. The path is only built for the one that fails: this runs for every event."""
    if depth > MAX_DEPTH:
        return "", f"nests more than {MAX_DEPTH} levels"
    if isinstance(value, str):
        if value.isprintable():  # neither NUL nor a lone surrogate is printable
            return None
        if "\x00" in value:
            return "", "contains a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "", "contains a broken character (lone surrogate)"
        return None
    if isinstance(value, dict):
        # A flat object of printable text and scalars, as nearly every change is, in one pass
        # without a call per value (a first pull checks 100,000 of them).
        if depth < MAX_DEPTH and all(
            isinstance(key, str)
            and key.isprintable()
            and (item.isprintable() if isinstance(item, str) else not isinstance(item, dict | list))
            for key, item in value.items()
        ):
            return None
        for key, item in value.items():
            found = _unstorable(key, depth + 1) or _unstorable(item, depth + 1)
            if found is not None:
                return f".{key}{found[0]}", found[1]
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _unstorable(item, depth + 1)
            if found is not None:
                return f"[{index}]{found[0]}", found[1]
    return None


def check_text_field(
    data: dict[str, Any],
    name: str,
    limit: int,
    *,
    field: str,
    required: bool = False,
    multiline: bool = False,
) -> str:
    """`data[name]` as text following the kiosk's text rules; "" when absent (None) and not
    required. `field` is how the message names it."""
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be text")
    return check_text(value, field, max_length=limit, required=required, multiline=multiline)


def check_flag(data: dict[str, Any], name: str, *, field: str) -> None:
    """`data[name]` is absent, None, true or false."""
    if data.get(name) is not None and not isinstance(data.get(name), bool):
        raise InvalidInput(field, "must be true or false")


def check_satisfaction(value: Any, field: str, *, required: bool = False) -> None:
    """A visitor's rating: a whole number from 1 to 5 (or None when not required)."""
    if value is None and not required:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
        raise InvalidInput(field, "must be a whole number from 1 to 5")


def check_state(value: Any, field: str) -> str:
    """One of the known visit states."""
    if not isinstance(value, str) or value not in STATE_RANK:
        shown = value[:40] if isinstance(value, str) else value
        raise InvalidInput(field, f"is not a visit state ({shown!r})")
    return value
