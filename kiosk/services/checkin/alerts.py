"""The guard's alerts: device problems recorded for the office and the guards, the recent
security alerts and device problems listed, and `alerted_lately`, which keeps a badge or an
invitation shown again within BADGE_ALERT_QUIET from raising a second alert.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from peewee import SqliteDatabase

from kiosk.domain.clock import Clock
from kiosk.storage.db import storage_errors
from kiosk.storage.journal import append_audit, enqueue_event
from kiosk.storage.models import OutboxEvent

#: A badge refused at the door again within this time raises no second security alert.
BADGE_ALERT_QUIET = timedelta(minutes=10)


class Alerts:
    """Device problems recorded, and the security alerts and device problems listed."""

    def __init__(self, *, db: SqliteDatabase, clock: Clock, kiosk_id: str) -> None:
        self._db = db
        self._clock = clock
        self.kiosk_id = kiosk_id

    def record_device_problem(self, device: str, message: str, subject_ref: str = "") -> None:
        """A printer or camera failed: an event for the office and the guards, and an audit
        entry. The visit it concerns (if any) is untouched: a failed print loses nothing."""
        now = self._clock.now()
        with storage_errors(), self._db.atomic():
            enqueue_event(
                now,
                "device.problem",
                subject_ref,
                {
                    "device": device,
                    "message": message,
                    "visit": subject_ref,
                    "kiosk": self.kiosk_id,
                },
            )
            append_audit(now, "kiosk", "device.problem", subject_ref, {"device": device})

    def recent_alerts(self, since: datetime) -> list[dict[str, Any]]:
        """Security alerts and device problems since `since`, newest first: the guard's list."""
        rows = (
            OutboxEvent.select()
            .where(
                OutboxEvent.kind.in_(["security.alert", "device.problem"])
                & (OutboxEvent.occurred_at >= since)
            )
            .order_by(OutboxEvent.id.desc())
        )
        return [
            {"kind": row.kind, "at": row.occurred_at, **json.loads(row.payload)} for row in rows
        ]


def alerted_lately(now: datetime, key: str, value: str) -> bool:
    """A security alert whose payload has `key` = `value` was raised within
    BADGE_ALERT_QUIET: the same badge or invitation shown again raises no second one."""
    recent = (
        OutboxEvent.select(OutboxEvent.payload)
        .where(
            (OutboxEvent.kind == "security.alert")
            & (OutboxEvent.occurred_at >= now - BADGE_ALERT_QUIET)
        )
        .order_by(OutboxEvent.id.desc())
        .limit(200)
    )
    return any(json.loads(row.payload).get(key) == value for row in recent)
