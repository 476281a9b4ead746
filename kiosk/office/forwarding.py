"""Sending the messages kiosks could not deliver themselves (store and forward).

A kiosk whose channel keeps failing hands the message to the office as an event
`notification.forward` (kiosk.notify.notifier: the rendered title, body and photo, the
audience and the channel's hash, never the URL; kiosk.office.forwarded_events checks it).
Ingest (kiosk.office.intake) records it once per delivery and channel
(`ForwardedNotification`, unique on delivery key + channel hash) in the transaction that
stores the event, and strips the message from the stored event, so the only copy is the
row that is cleared once the message is out.

`OfficeForwarder.tick()` sends what is due. It runs as a thread of `kiosk office serve`
(in its main process, whatever the number of workers; `--no-notify` turns it off) and as
`kiosk office notify [--once]`. Several may run against one database: a row is claimed
with a conditional UPDATE that one of them wins.

**None lost, none sent twice.** The kiosk ends its own delivery in the transaction that
queues the event, and pushes the event until the office confirms it; a push retried after
a lost answer is a duplicate event id (stored once) and a duplicate delivery key + channel
hash (recorded once). Here each row is claimed (committed), sent, then recorded. A failed
send is retried with exponential backoff and jitter (10 s doubling to 15 min) for a day,
then given up. A crash between the channel accepting and the row being recorded leaves a
claim older than `claim_timeout`: the message is *in doubt*, and as on the kiosk

- messages to hosts, delegates, reception and the VIP list are not resent (at most once:
  escalation catches a lost one, a duplicate with fresh links confuses);
- security alerts and device problems are resent (at least once: a duplicate costs a
  glance, a lost watchlist hit costs much more).

The recipient URL is read from the office's own directory when sending: the host's
channels (`OfficeHost.channels`) or the site's reception / security / VIP lists
(kiosk.office.settings), whichever URL has the hash the kiosk named. A URL the office does
not know (the kiosk's own configuration differs from the office's) cannot be guessed: the
row is given up with that reason.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from peewee import Database

from kiosk.domain.clock import Clock
from kiosk.notify.channels import AppriseSender, Attachment, Message, Sender, channel_hash
from kiosk.notify.kinds import AT_LEAST_ONCE_KINDS, backoff_seconds
from kiosk.office.forwarded_events import SITE_AUDIENCES
from kiosk.office.models import ForwardedNotification, OfficeHost, Site
from kiosk.office.settings import load_site_settings

log = logging.getLogger(__name__)


def resolve_channel(site: Site, audience: str, wanted: str) -> str | None:
    """The office's URL whose hash is `wanted`, among the audience's channels."""
    if audience.startswith("host:"):
        host = OfficeHost.get_or_none(
            (OfficeHost.ref == audience[5:]) & (OfficeHost.site == site) & OfficeHost.active
        )
        urls = [str(url) for url in json.loads(host.channels or "[]")] if host else []
    elif audience in SITE_AUDIENCES:
        settings = load_site_settings(site)
        urls = [secret.get_secret_value() for secret in getattr(settings, audience)]
    else:
        urls = []
    return next((url for url in urls if channel_hash(url) == wanted), None)


@dataclass
class ForwardReport:
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    in_doubt: int = 0
    errors: list[str] = field(default_factory=list)


class OfficeForwarder:
    """Sends the forwarded notifications that are due. `tick()` once, `run(stop)` loops.
    Built once by the office's composition root (kiosk.office.api.build_office)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        sender: Sender | None = None,
        claim_timeout: timedelta = timedelta(minutes=5),
        max_age: timedelta = timedelta(days=1),
        batch: int = 50,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._db = db
        self._clock = clock
        self._sender = sender or AppriseSender()
        self._claim_timeout = claim_timeout
        self._max_age = max_age
        self._batch = batch
        self._rand = rand

    def run(self, stop: threading.Event, interval: float = 2.0) -> None:
        """Tick until `stop` is set; a failing round is logged, never fatal."""
        while not stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("forwarded notifications: round failed; retrying")
            stop.wait(interval)

    def tick(self) -> ForwardReport:
        report = ForwardReport()
        with self._db.connection_context():
            report.in_doubt = self._resolve_in_doubt()
            now = self._clock.now()
            due = list(
                ForwardedNotification.select()
                .where(
                    ForwardedNotification.sent_at.is_null()
                    & ForwardedNotification.gave_up_at.is_null()
                    & ForwardedNotification.claimed_at.is_null()
                    & (ForwardedNotification.next_attempt_at <= now)
                )
                .order_by(ForwardedNotification.id)
                .limit(self._batch)
            )
            down: set[str] = set()
            for row in due:
                if row.channel_hash not in down:
                    self._deliver(row, report, down)
        return report

    def _update(self, row_id: int, **fields: Any) -> int:
        with self._db.atomic():
            return int(
                ForwardedNotification.update(**fields)
                .where(ForwardedNotification.id == row_id)
                .execute()
            )

    def _give_up(self, row: ForwardedNotification, reason: str) -> None:
        self._update(
            row.id, claimed_at=None, gave_up_at=self._clock.now(), last_error=reason[:500],
            title="", body="", attachments="[]",
        )  # fmt: skip

    def _resolve_in_doubt(self) -> int:
        now = self._clock.now()
        stale = list(
            ForwardedNotification.select().where(
                ForwardedNotification.claimed_at.is_null(False)
                & ForwardedNotification.sent_at.is_null()
                & ForwardedNotification.gave_up_at.is_null()
                & (ForwardedNotification.claimed_at <= now - self._claim_timeout)
            )
        )
        for row in stale:
            if row.kind in AT_LEAST_ONCE_KINDS:
                self._update(
                    row.id, claimed_at=None, next_attempt_at=now,
                    last_error="interrupted while sending; resent (at least once)",
                )  # fmt: skip
            else:
                self._give_up(row, "interrupted while sending; not resent (at most once)")
                log.warning("forwarded %s to %s is in doubt", row.delivery_key, row.audience)
        return len(stale)

    def _deliver(self, row: ForwardedNotification, report: ForwardReport, down: set[str]) -> None:
        now = self._clock.now()
        if now - row.created_at > self._max_age:
            self._give_up(row, f"still failing after {self._max_age}; given up")
            report.dropped += 1
            return
        url = resolve_channel(row.site, row.audience, row.channel_hash)
        if url is None:
            self._give_up(row, "the office knows no channel with this hash for the audience")
            report.dropped += 1
            return
        claimed = self._update_claim(row)
        if not claimed:
            return  # another notifier took it
        attachments = [
            Attachment(item["name"], item["mimetype"], base64.b64decode(item["content"]))
            for item in json.loads(row.attachments or "[]")
        ]
        result = self._sender.send(url, Message(row.title, row.body, attachments))
        if result.ok:
            self._record_sent(row)
            report.sent += 1
            return
        wait = backoff_seconds(row.attempts + 1, self._rand())
        self._update(
            row.id, claimed_at=None, next_attempt_at=self._clock.now() + timedelta(seconds=wait),
            last_error=(result.error or "failed")[:500],
        )  # fmt: skip
        down.add(row.channel_hash)
        report.failed += 1
        report.errors.append(f"{row.kind} {row.delivery_key}: {result.error}")

    def _update_claim(self, row: ForwardedNotification) -> bool:
        with self._db.atomic():
            return bool(
                ForwardedNotification.update(
                    claimed_at=self._clock.now(), attempts=ForwardedNotification.attempts + 1
                )
                .where(
                    (ForwardedNotification.id == row.id)
                    & ForwardedNotification.claimed_at.is_null()
                    & ForwardedNotification.sent_at.is_null()
                    & ForwardedNotification.gave_up_at.is_null()
                )
                .execute()
            )

    def _record_sent(self, row: ForwardedNotification) -> None:
        self._update(
            row.id, claimed_at=None, sent_at=self._clock.now(), last_error="",
            title="", body="", attachments="[]",
        )  # fmt: skip


class DatabaseAndClock(Protocol):
    """What OfficeNotifier reads of the store it is given."""

    @property
    def db(self) -> Database: ...

    @property
    def clock(self) -> Clock: ...


class OfficeNotifier(OfficeForwarder):
    """The forwarder over a store's database and clock: the constructor that kiosk.cli_office
    and older tests call (`OfficeNotifier(store)`); new code builds an OfficeForwarder."""

    def __init__(self, store: DatabaseAndClock, **options: Any) -> None:
        super().__init__(store.db, store.clock, **options)
