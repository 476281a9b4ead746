"""The notifier's rows in the nightly purge (kiosk.services.retention calls it; issue 21).

Each visit leaves a planned trigger (NotificationEvent) and a delivery per recipient, and a
redeemed link leaves a UsedLink: a year of visits left 220,000 rows that nothing reads
again. Once a delivery is over (sent, or given up) and older than `keep_days`, it goes,
with its trigger, the record of its hand-over to the office, and used links as old.

Why that is safe: the notifier plans only outbox events younger than its `max_event_age`
(a week), escalations only of visits still waiting and reminders only of today, so a
trigger older than that is never planned again; and a link expires within hours
(kiosk.notify.links), so its used record outlives any use. `keep_days` below the planning
window is raised to it. Deliveries still pending are never touched, whatever their age.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from peewee import fn

from kiosk.notify.models import (
    NotificationDelivery,
    NotificationEvent,
    NotificationForward,
    UsedLink,
)

#: The notifier's default `max_event_age` in days, and a day more.
PLANNING_WINDOW_DAYS = 8


def purge_notifications(now: datetime, keep_days: int) -> int:
    """Delete the finished notification rows older than `keep_days`; return how many rows
    went. Call inside the purge's transaction."""
    cutoff = now - timedelta(days=max(keep_days, PLANNING_WINDOW_DAYS))
    finished = (
        NotificationDelivery.sent_at.is_null(False) | NotificationDelivery.gave_up_at.is_null(False)
    ) & (NotificationDelivery.created_at < cutoff)
    gone = NotificationDelivery.select(NotificationDelivery.id).where(finished)
    deleted = (
        NotificationForward.delete().where(NotificationForward.delivery_id.in_(gone)).execute()
    )
    deleted += NotificationDelivery.delete().where(finished).execute()
    still_delivering = NotificationDelivery.select(NotificationDelivery.key).where(
        NotificationDelivery.key == NotificationEvent.key
    )
    deleted += (
        NotificationEvent.delete()
        .where((NotificationEvent.planned_at < cutoff) & ~fn.EXISTS(still_delivering))
        .execute()
    )
    deleted += UsedLink.delete().where(UsedLink.used_at < cutoff).execute()
    return int(deleted)
