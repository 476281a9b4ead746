"""Case events built to the contract (/work/briefs/cases-contract.md) and pushed the way a
kiosk pushes them: a real enrolled kiosk's signed request to the office's /v1/events."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from conftest import Office

from kiosk.domain.tokens import new_ref
from kiosk.sync.wire import EventKind, sign_request

_seq = itertools.count(1)


def opened_payload(
    case_ref: str | None = None, *, number: str = "R-20261123-K0001", kind: str = "repair",
    opened_at: datetime | None = None, **changes: Any,
) -> dict[str, Any]:  # fmt: skip
    opened = (opened_at or datetime(2026, 11, 23, 2, 0, tzinfo=UTC)).astimezone(UTC)
    payload: dict[str, Any] = {
        "case_ref": case_ref or new_ref(), "number": number, "kind": kind, "urgency": "normal",
        "category": "water" if kind == "repair" else "",
        "place": {"building": "A", "floor": "12", "unit": "1203", "text": ""},
        "unit_known": True, "description": "The tap in the kitchen leaks.\nSince Monday.",
        "reporter": {"name": "王芳", "unit": "1203", "phone": "13800000000"},
        "language": "zh_CN", "channel": "kiosk", "opened_at": opened.isoformat(),
        "response_due_at": (opened + timedelta(hours=4)).isoformat(), "photo_jpeg_b64": "",
    }  # fmt: skip
    payload.update(changes)
    return payload


def case_event(kind: str, payload: dict[str, Any], *, seq: int | None = None) -> dict[str, Any]:
    number = seq or next(_seq)
    return {
        "event_id": new_ref() + new_ref(),
        "seq": number,
        "kind": kind,
        "subject_ref": payload["case_ref"],
        "occurred_at": payload.get("opened_at") or payload.get("at"),
        "payload": payload,
    }


def opened(payload: dict[str, Any]) -> dict[str, Any]:
    return case_event(EventKind.CASE_OPENED, payload)


def followed_up(case_ref: str, outcome: str = "satisfied", at: datetime | None = None) -> dict:
    moment = (at or datetime(2026, 11, 23, 8, 0, tzinfo=UTC)).isoformat()
    payload = {"case_ref": case_ref, "outcome": outcome, "note": "很好", "at": moment,
               "channel": "kiosk"}  # fmt: skip
    return case_event(EventKind.CASE_FOLLOWED_UP, payload)


def push(office: Office, kiosk: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Push `events` as `kiosk` (its own signing key); the office's per-event results."""
    from kiosk.services.keys import load_private_key

    path = "/v1/events"
    raw = json.dumps({"events": events}).encode()
    key = load_private_key(kiosk.keys.directory / "office-auth.key")
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    headers = sign_request(key, kiosk.kiosk_id, "POST", path, raw, now_ms)
    answer = httpx.post(office.url + path, content=raw, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]  # type: ignore[no-any-return]
