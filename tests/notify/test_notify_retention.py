"""The notifier's rows in the nightly purge (kiosk.notify.retention): finished deliveries
and their triggers go once older than `sent_events_days`, pending ones and recent ones stay,
and the notifier plans nothing again for what went. Mail goes to a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

from local_servers import Mailbox

from kiosk.app import Kiosk
from kiosk.domain.clock import ManualClock
from kiosk.domain.values import Purpose
from kiosk.notify import Notifier
from kiosk.notify.models import NotificationDelivery, NotificationEvent
from kiosk.services.checkin import Collected, VisitorDetails, WalkIn
from kiosk.services.retention import purge

PHOTO = Collected(photo_jpeg=b"\xff\xd8\xff\xe0 a face")


def _walk_in(kiosk: Kiosk, hosts: dict[str, str], name: str) -> str:
    walk_in = WalkIn(VisitorDetails(name), hosts["李娜"], Purpose.INQUIRY)
    return kiosk.engine.check_in_walk_in(walk_in, PHOTO).visit_ref


def test_finished_deliveries_go_after_the_period_and_are_not_planned_again(
    kiosk: Kiosk,
    hosts: dict[str, str],
    notifier: Notifier,
    clock: ManualClock,
    smtp: Mailbox,
) -> None:
    old_visit = _walk_in(kiosk, hosts, "Carol White")
    assert notifier.tick().sent == 1
    clock.advance(timedelta(days=kiosk.config.retention.sent_events_days + 1))
    recent_visit = _walk_in(kiosk, hosts, "Dana Novak")
    assert notifier.tick().sent == 1
    # One delivery still owed: its channel is down (a host's mailbox nobody can reach).
    NotificationDelivery.update(sent_at=None, attempts=3).where(
        NotificationDelivery.subject_ref == recent_visit
    ).execute()
    NotificationDelivery.update(created_at=NotificationDelivery.created_at - 40 * 86_400_000).where(
        NotificationDelivery.subject_ref == recent_visit
    ).execute()
    before = NotificationEvent.select().count()

    report = purge(kiosk.db, kiosk.config.retention, clock)

    assert report.notifications_deleted == 2  # the old visit's delivery and its trigger
    left = {row.subject_ref: row for row in NotificationDelivery.select()}
    assert set(left) == {recent_visit} and left[recent_visit].sent_at is None
    assert NotificationEvent.select().count() == before - 1
    assert old_visit not in {row.subject_ref for row in NotificationDelivery.select()}
    assert purge(kiosk.db, kiosk.config.retention, clock).notifications_deleted == 0
    report = notifier.tick()
    assert report.planned == 0  # nothing planned again for the purged trigger
    assert report.sent == 1  # and the owed one is still sent
