"""What a case is allowed to be: the contract's payload rules for `case.opened` and
`case.followed_up`, the state machine (which action moves which states, for which role),
and the deadlines by kind and urgency. No database here."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from kiosk.domain.errors import InvalidInput
from kiosk.domain.records import check_text_field, parse_time
from kiosk.sync.wire import EventKind

CASE_KINDS = (EventKind.CASE_OPENED, EventKind.CASE_FOLLOWED_UP)
KINDS = ("complaint", "repair", "suggestion", "inquiry")
KIND_LETTER = {"complaint": "C", "repair": "R", "suggestion": "S", "inquiry": "Q"}
URGENCIES = ("normal", "urgent")
CHANNELS = ("kiosk", "phone", "desk", "web")
LANGUAGES = ("en", "zh_CN", "zh_TW")
OUTCOMES = ("satisfied", "not_satisfied", "unreachable")
STATES = ("received", "assigned", "in_progress", "resolved", "followed_up", "closed", "reopened")
OPEN_STATES = ("received", "assigned", "in_progress", "reopened")
REPAIR_CATEGORIES = (
    "water", "electricity", "lift", "air_conditioning", "doors_locks", "cleaning", "other",
)  # fmt: skip
DESCRIPTION_MAX = 4000
PHOTO_MAX_BYTES = 150 * 1024
_REF = re.compile(r"^[0-9a-f]{16}$")
_NUMBER = re.compile(r"^[CRSQ]-\d{8}-[A-NP-Z0-9]\d{4}$")

#: action -> (the states it may start from, the state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "assign": (("received", "assigned", "reopened", "in_progress"), "assigned"),
    "start": (("assigned", "reopened"), "in_progress"),
    "resolve": (("assigned", "in_progress", "reopened"), "resolved"),
    "follow_up": (("resolved",), "followed_up"),
    "reopen": (("followed_up",), "reopened"),
    "close": (("followed_up", "resolved"), "closed"),
}
#: what a department's staff may do, on cases assigned to their department only
DEPARTMENT_ACTIONS = ("start", "resolve")
ALL_ACTIONS_ROLES = ("admin", "reception")


@dataclass(frozen=True)
class CaseSettings:
    """A site's case deadlines (hours). Defaults as the kiosk's `[cases]` defaults."""

    response_hours: dict[tuple[str, str], float] = field(
        default_factory=lambda: {
            ("complaint", "normal"): 2,
            ("complaint", "urgent"): 0.5,
            ("repair", "normal"): 4,
            ("repair", "urgent"): 1,
            ("suggestion", "normal"): 24,
            ("suggestion", "urgent"): 24,
            ("inquiry", "normal"): 24,
            ("inquiry", "urgent"): 4,
        }
    )
    followup_hours: dict[str, float] = field(default_factory=lambda: dict.fromkeys(KINDS, 24))
    #: after the assignee is told, how long before the supervisor is
    supervisor_after_hours: float = 1.0
    supervisor_email: str = ""

    def response_due(self, kind: str, urgency: str, opened_at: datetime) -> datetime:
        return opened_at + timedelta(hours=self.response_hours.get((kind, urgency), 24))

    def followup_due(self, kind: str, resolved_at: datetime) -> datetime:
        return resolved_at + timedelta(hours=self.followup_hours.get(kind, 24))


def may_act(role: str, action: str, *, own_department: bool) -> bool:
    """Whether a user of `role` may take `action` (security: never; a department's staff:
    start and resolve on cases assigned to their department)."""
    if role in ALL_ACTIONS_ROLES:
        return True
    if role == "security":
        return False
    return own_department and action in DEPARTMENT_ACTIONS


def next_state(action: str, state: str) -> str:
    """The state `action` leads to from `state`; InvalidInput naming why not."""
    if action not in TRANSITIONS:
        raise InvalidInput("action", f"unknown action {action[:40]!r}")
    starts, target = TRANSITIONS[action]
    if state not in starts:
        if action == "follow_up":
            raise InvalidInput("state", "not resolved yet")
        shown = state.replace("_", " ")
        raise InvalidInput("state", f"cannot {action.replace('_', ' ')} a case that is {shown}")
    return target


def check_description(value: Any, field_name: str = "description") -> str:
    text = check_text_field(
        {"d": value}, "d", DESCRIPTION_MAX, field=field_name, required=True, multiline=True
    )
    if not text.strip():
        raise InvalidInput(field_name, "is required")
    return text


def _choice(payload: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = payload.get(name)
    if value not in allowed:
        raise InvalidInput(f"payload.{name}", f"must be one of {', '.join(allowed)}")
    return str(value)


def _ref(payload: dict[str, Any]) -> None:
    if not isinstance(payload.get("case_ref"), str) or not _REF.match(payload["case_ref"]):
        raise InvalidInput("payload.case_ref", "must be 16 lower-case hex digits")


def validate_case_payload(kind: str, payload: dict[str, Any]) -> None:
    """The contract's rules for a case event's payload; InvalidInput naming the field."""
    _ref(payload)
    if kind == EventKind.CASE_FOLLOWED_UP:
        _choice(payload, "outcome", OUTCOMES)
        check_text_field(payload, "note", 1000, field="payload.note", multiline=True)
        if parse_time(payload.get("at"), "payload.at") is None:
            raise InvalidInput("payload.at", "is required")
        return
    number = payload.get("number")
    if not isinstance(number, str) or not _NUMBER.match(number):
        raise InvalidInput("payload.number", "must look like R-20261207-K0042")
    case_kind = _choice(payload, "kind", KINDS)
    if number[0] != KIND_LETTER[case_kind]:
        raise InvalidInput("payload.number", "its letter does not match the kind")
    _choice(payload, "urgency", URGENCIES)
    category = payload.get("category", "")
    if case_kind == "repair":
        check_text_field(payload, "category", 40, field="payload.category", required=True)
    elif category:
        raise InvalidInput("payload.category", "only a repair has a category")
    for group, names in (("place", ("building", "floor", "unit", "text")),
                         ("reporter", ("name", "unit", "phone"))):  # fmt: skip
        part = payload.get(group) or {}
        if not isinstance(part, dict):
            raise InvalidInput(f"payload.{group}", "must be an object")
        for name in names:
            check_text_field(part, name, 200, field=f"payload.{group}.{name}")
    if not isinstance(payload.get("unit_known", True), bool):
        raise InvalidInput("payload.unit_known", "must be true or false")
    check_description(payload.get("description"), "payload.description")
    _choice(payload, "language", LANGUAGES)
    if payload.get("channel", "kiosk") != "kiosk":
        raise InvalidInput("payload.channel", "a kiosk's case comes by the kiosk channel")
    for name in ("opened_at", "response_due_at"):
        if parse_time(payload.get(name), f"payload.{name}") is None:
            raise InvalidInput(f"payload.{name}", "is required")
    check_photo(payload.get("photo_jpeg_b64", ""))


def check_photo(value: Any) -> None:
    """ "" or a base64 JPEG of at most 150 KB."""
    if value in ("", None):
        return
    if not isinstance(value, str):
        raise InvalidInput("payload.photo_jpeg_b64", "must be base64 text")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("payload.photo_jpeg_b64", "is not base64") from None
    if len(raw) > PHOTO_MAX_BYTES:
        raise InvalidInput("payload.photo_jpeg_b64", "is larger than 150 KB")
    if not raw.startswith(b"\xff\xd8"):
        raise InvalidInput("payload.photo_jpeg_b64", "is not a JPEG")
