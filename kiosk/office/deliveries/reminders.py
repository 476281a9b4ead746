"""Reminders for parcels left waiting, and the desk's daily list of what is on the shelf.

`ParcelReminders.tick()` runs as a thread of `kiosk office serve` (beside the forwarder of
kiosk.office.forwarding, through the same `Sender`, built once by
kiosk.office.api.build_office) and as `kiosk office deliveries remind`. Each round, for
every site with waiting parcels, once the site's local day has reached its sending hour
(DeliveryRules.send_from_hour):

- each host with a parcel waiting longer than `remind_after_hours` gets one reminder
  listing those parcels, through their channels, in their language (their office
  account's, else the site's delivery language); then not again for `remind_every_days`
  local days (one: once a day);
- the desk (the site's reception channels) gets the day's list of every parcel still
  waiting, oldest first, with those it must handle itself marked: the recipient has left,
  the parcel is for a company, or the host has no channel.

**Never twice for one day.** A message's row (`ParcelMail`, unique on audience and local
day) is committed before it is sent, so a second round, or a second office, finds it and
sends nothing. A send that fails marks its row failed, and a round RETRY_AFTER later (the
same local day) tries again; a crash between sending and recording leaves the row: that
message is not sent again (at most once, as the forwarder treats messages to people).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from peewee import JOIN, Database, IntegrityError

from kiosk.dbkit.rows import rows_of
from kiosk.domain.clock import Clock
from kiosk.notify.channels import AppriseSender, Attachment, Message, Sender
from kiosk.office.deliveries import messages
from kiosk.office.deliveries.intake import record
from kiosk.office.deliveries.models import Parcel, ParcelMail
from kiosk.office.deliveries.pickup_tokens import pickup_qr_png
from kiosk.office.deliveries.rules import DeliveryRules, ParcelState, load_rules
from kiosk.office.models import OfficeHost, Site, StaffUser
from kiosk.office.settings import load_site_settings

log = logging.getLogger(__name__)
#: How long after a failed send a later round tries the same message again.
RETRY_AFTER = timedelta(minutes=30)


@dataclass
class ReminderReport:
    reminders: int = 0
    desk_lists: int = 0
    failed: int = 0
    unreachable: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Waiting:
    parcel: Parcel
    host: OfficeHost | None

    @property
    def reachable(self) -> bool:
        return bool(self.host and self.host.active and json.loads(self.host.channels or "[]"))

    def line(self) -> messages.WaitingLine:
        p = self.parcel
        return messages.WaitingLine(
            recipient=(self.host.name if self.host else "") or p.company or p.host_ref,
            kind=p.kind,
            carrier=p.carrier,
            items=p.items,
            pickup_code=p.pickup_code,
            shelf=p.shelf,
            logged_at=p.logged_at,
            recipient_left=p.recipient_left or bool(self.host and not self.host.active),
            reachable=self.reachable,
            pickup_token=p.pickup_token,
        )


class ParcelReminders:
    """Sends the reminders and desk lists that are due. `tick()` once, `run(stop)` loops."""

    def __init__(self, db: Database, clock: Clock, *, sender: Sender | None = None) -> None:
        self._db = db
        self.clock = clock
        self._sender = sender or AppriseSender()

    def run(self, stop: threading.Event, interval: float = 300.0) -> None:
        """Tick until `stop` is set; a failing round is logged, never fatal."""
        while not stop.is_set():
            try:
                report = self.tick()
                for error in report.errors:
                    log.warning("parcel reminder not sent: %s", error)
            except Exception:
                log.exception("parcel reminders: round failed; retrying")
            stop.wait(interval)

    def tick(self) -> ReminderReport:
        report = ReminderReport()
        now = self.clock.now()
        with self._db.connection_context():
            site_ids = [
                site_id
                for (site_id,) in rows_of(
                    Parcel.select(Parcel.site)
                    .where((Parcel.state == ParcelState.WAITING) & Parcel.logged)
                    .distinct()
                )
            ]
            for site in Site.select().where(Site.id.in_(site_ids)):
                self._site_round(site, now, report)
        return report

    def _site_round(self, site: Site, now: datetime, report: ReminderReport) -> None:
        rules = load_rules(site)
        settings = load_site_settings(site)
        zone = ZoneInfo(settings.timezone)
        local = now.astimezone(zone)
        if local.hour < rules.send_from_hour:
            return
        today = local.date()
        waiting = [
            _Waiting(parcel, getattr(parcel, "host_row", None) if parcel.host_ref else None)
            for parcel in Parcel.select(Parcel, OfficeHost)
            .join(
                OfficeHost,
                JOIN.LEFT_OUTER,
                on=((OfficeHost.ref == Parcel.host_ref) & (OfficeHost.site == site.id)),
                attr="host_row",
            )
            .where((Parcel.site == site.id) & (Parcel.state == ParcelState.WAITING) & Parcel.logged)
            .order_by(Parcel.logged_at, Parcel.id)
        ]
        by_host: dict[str, list[_Waiting]] = defaultdict(list)
        for item in waiting:
            if (
                item.host is not None
                and not item.parcel.recipient_left
                and now - item.parcel.logged_at >= rules.remind_after
            ):
                by_host[item.parcel.host_ref].append(item)
        for host_ref, items in by_host.items():
            self._remind(site, host_ref, items, rules, today, zone, report)
        channels = [secret.get_secret_value() for secret in settings.reception]
        title, body = messages.desk_list(
            rules.language, site.name, today.isoformat(), [i.line() for i in waiting], now
        )
        if self._send_once(
            site, "desk", f"desk:{site.id}:{today}", today, channels, Message(title, body), report
        ):
            report.desk_lists += 1

    def _remind(
        self,
        site: Site,
        host_ref: str,
        items: list[_Waiting],
        rules: DeliveryRules,
        today: date,
        zone: ZoneInfo,
        report: ReminderReport,
    ) -> None:
        host = items[0].host
        assert host is not None
        keys = [
            f"remind:{site.id}:{host_ref}:{today - timedelta(days=n)}"
            for n in range(1, rules.remind_every_days)
        ]
        if (
            keys
            and ParcelMail.select()
            .where(ParcelMail.key.in_(keys) & (ParcelMail.status == "sent"))
            .exists()
        ):
            return  # reminded fewer than remind_every_days days ago
        channels = [str(url) for url in json.loads(host.channels or "[]")] if host.active else []
        language = self._language_of(site, host_ref, rules)
        lines = [i.line() for i in items]
        title, body = messages.reminder(language, site.name, lines, zone)
        # Each parcel's pickup QR, drawn from the token its kiosk signed (never made here).
        qrs = [
            Attachment(
                f"pickup-qr-{line.pickup_code}.png", "image/png", pickup_qr_png(line.pickup_token)
            )
            for line in lines
            if line.pickup_token
        ]
        key = f"remind:{site.id}:{host_ref}:{today}"
        if self._send_once(
            site, f"host:{host_ref}", key, today, channels, Message(title, body, qrs), report
        ):
            report.reminders += 1
            for item in items:
                record(item.parcel, "reminded", "office", self.clock.now(), day=today.isoformat())

    @staticmethod
    def _language_of(site: Site, host_ref: str, rules: DeliveryRules) -> str:
        account = (
            StaffUser.select(StaffUser.language)
            .where((StaffUser.site == site) & (StaffUser.host_ref == host_ref) & StaffUser.active)
            .order_by(StaffUser.id)
            .first()
        )
        if account is not None and account.language in messages.LANGUAGES:
            return str(account.language)
        return rules.language

    def _claim(self, site: Site, audience: str, key: str, day: date) -> bool:
        """The day's row for this message, made (or taken back from a failed attempt at
        least RETRY_AFTER ago) by this round alone; False if it is sent or being sent."""
        now = self.clock.now()
        try:
            with self._db.atomic():
                ParcelMail.create(key=key, site=site, audience=audience, day=day.isoformat(),
                                  status="sending", created_at=now)  # fmt: skip
            return True
        except IntegrityError:
            pass
        with self._db.atomic():
            retaken = (
                ParcelMail.update(status="sending", created_at=now)
                .where(
                    (ParcelMail.key == key)
                    & (ParcelMail.status == "failed")
                    & (ParcelMail.created_at <= now - RETRY_AFTER)
                )
                .execute()
            )
        return bool(retaken)

    def _send_once(
        self,
        site: Site,
        audience: str,
        key: str,
        day: date,
        channels: list[str],
        message: Message,
        report: ReminderReport,
    ) -> bool:
        """Claim the day's message (committed), then send it; True once it is out."""
        if not self._claim(site, audience, key, day):
            return False
        if not channels:
            ParcelMail.update(status="no_channel").where(ParcelMail.key == key).execute()
            report.unreachable += 1
            return False
        errors = [
            result.error or "failed"
            for result in (self._sender.send(url, message) for url in channels)
            if not result.ok
        ]
        if len(errors) == len(channels):
            ParcelMail.update(
                status="failed", created_at=self.clock.now(), last_error=errors[0][:500]
            ).where(ParcelMail.key == key).execute()  # a round RETRY_AFTER later tries again
            report.failed += 1
            report.errors.append(f"{audience}: {errors[0]}")
            return False
        ParcelMail.update(
            status="sent", sent_at=self.clock.now(), last_error="; ".join(errors)[:500]
        ).where(ParcelMail.key == key).execute()
        return True
