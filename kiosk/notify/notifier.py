"""The notifier: outbox events and the clock in, messages to hosts, reception and security out.

One round (`tick`) does four things, each safe to repeat and to interrupt:

1. **plan** the notification events of the outbox it has not planned yet: each becomes one
   delivery row per recipient URL, in one transaction with a row that marks the event as
   planned, so an event is planned exactly once however often the notifier restarts;
2. **escalate** visits still waiting for their host: after `escalation_seconds` to the
   host's delegate, after twice that to reception (each stage planned once, and dropped
   at send time if the host answered meanwhile);
3. **remind** hosts whose visitors are still on site when reception closes (once a day);
4. **deliver** what is due, each delivery claimed (committed) before it is sent and
   marked sent after; a failure is retried with exponential backoff and jitter, forever
   (store and forward): nothing is dropped because a channel was down.

Who gets what:

    notification.visitor_arrived   the recipient the engine chose (host or delegate), else reception
    notification.approval_request  the same, with "approve" and "deny" links
    notification.vip_arrived       [notifications].vip
    notification.message_left      the absent host
    security.alert, device.problem [notifications].security (reception if none is set)

A host with no channels falls back to reception. Messages are rendered at send time from
the visit rows, so nothing personal is copied into the notifier's tables.

**Once per (trigger, URL).** A crash can fall between a channel accepting a message and
the notifier recording it; no channel offers an idempotency key, so exactly-once is not
possible and a choice is made per kind. A delivery claimed more than `claim_timeout` ago
and never recorded is *in doubt*:

- messages to hosts, delegates, reception and the VIP list are **not resent** (at most
  once in that window): a duplicate "visitor arrived" carries fresh approve/deny links
  and confuses, while a lost one is caught by escalation within `escalation_seconds`;
- security alerts and device problems **are resent** (at least once): a duplicate alert
  costs a guard a glance, a lost watchlist hit costs much more. Each message names its
  trigger ("ref: ..."), so a person or a webhook can spot the duplicate.

Outside that window (a crash is milliseconds wide; a failed send is recorded as failed)
every delivery is sent exactly once.

**Store and forward through the office.** A delivery whose channel failed
`forward_after_failures` times, or has been failing for `forward_after_seconds`, on a kiosk
enrolled with an office, is handed to the office instead: in ONE kiosk transaction the
rendered message (title, body, photo; never the recipient URL, which may hold passwords:
only its hash and the audience) is queued as an outbox event `notification.forward`, a
NotificationForward row is written and the delivery is ended. So either the office will
hear of it, or the kiosk still owns it; never both, never neither. From there:

- the outbox event is pushed until the office confirms it (kiosk.sync.client); a lost
  answer means it is pushed again, and the office stores it once (unique event id) and
  records its delivery once (unique delivery key + channel hash): **none lost**;
- the kiosk never sends an ended delivery again, and the office sends each recorded one
  through the same claim, send, record steps as here (kiosk.office.forwarding), with the
  same choice for a crash between send and record: **none sent twice**, except security
  alerts and device problems, which are resent in that case (at least once).

The one duplicate left is a channel that failed at the kiosk after it had in fact
delivered (an SMTP server that accepted the message and then dropped the connection):
no channel tells us, so the office would send it again.

Messages are in `[notifications] language` (the site's default language unless set), from
the gettext catalogues in kiosk/notify/locale; names and companies go in as typed.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from time import monotonic
from typing import Any

from peewee import IntegrityError, SqliteDatabase, fn

from kiosk.config import KioskConfig
from kiosk.domain.clock import Clock
from kiosk.domain.errors import IllegalTransition, NotFound
from kiosk.domain.host_answers import HostAnswers
from kiosk.domain.values import ON_SITE_STATES, VisitState
from kiosk.notify.case_notice import AUDIENCES, CASE_KIND, notice_refs, render_case_notice
from kiosk.notify.channels import AppriseSender, Attachment, Message, Sender, is_text_message
from kiosk.notify.i18n import (
    ALERT_REASONS,
    BADGE_REFUSALS,
    DEVICES,
    PURPOSES,
    catalogue,
    place_name,
)
from kiosk.notify.kinds import (
    AT_LEAST_ONCE_KINDS,
    EVENT_KINDS,
    FORWARD_KIND,
    WAITING_KINDS,
    backoff_seconds,
)
from kiosk.notify.links import LinkAction, LinkClaim, LinkRefusal, LinkRefused, LinkSigner
from kiosk.notify.models import (
    NotificationDelivery,
    NotificationEvent,
    NotificationForward,
    UsedLink,
    channel_hash,
)
from kiosk.notify.parcels import parcel_audiences, render_parcel
from kiosk.notify.short_links import SHORT_KIND, shorten
from kiosk.services.recipients import audience_urls, host_urls
from kiosk.services.schedule import SiteCalendar
from kiosk.storage.db import storage_errors
from kiosk.storage.journal import enqueue_event
from kiosk.storage.models import Host, HostMessage, KioskState, OutboxEvent, Visit, VisitPhoto

log = logging.getLogger(__name__)

#: A photo larger than this is left out of a forwarded message (the text still goes).
MAX_FORWARDED_ATTACHMENT = 512 * 1024


@dataclass(frozen=True)
class RedeemedLink:
    """What a used link did, for the page the host sees ("Bob Stone knows you are coming")."""

    action: LinkAction
    visit_ref: str
    party: str
    response_seconds: float | None = None


@dataclass
class TickReport:
    planned: int = 0
    escalated: int = 0
    reminded: int = 0
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    forwarded: int = 0
    errors: list[str] = field(default_factory=list)


class Notifier:
    """Delivers the kiosk's notifications. Run `tick()` every few seconds (`run` loops).

    One notifier process per kiosk database: deliveries are claimed with a conditional
    UPDATE, so a second one would not double-send, but it would report in-doubt rows of
    the first after `claim_timeout`.
    """

    def __init__(
        self,
        *,
        db: SqliteDatabase,
        config: KioskConfig,
        clock: Clock,
        calendar: SiteCalendar,
        answers: HostAnswers,
        links: LinkSigner,
        link_base_url: str,
        sender: Sender | None = None,
        link_ttl: timedelta = timedelta(hours=2),
        reminder_at: time | None = None,
        claim_timeout: timedelta = timedelta(minutes=5),
        max_event_age: timedelta = timedelta(days=7),
        batch: int = 50,
        rand: Callable[[], float] = random.random,
        language: str | None = None,
    ) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        self._calendar = calendar
        self._answers = answers
        self.links = links
        self._link_base = link_base_url
        self._sender = sender or AppriseSender()
        self._link_ttl = link_ttl
        ranges = config.site.opening_ranges()
        self._reminder_at = reminder_at or (
            max(end for _, end in ranges) if ranges else config.site.end_of_day_time
        )
        self._claim_timeout = claim_timeout
        self._max_event_age = max_event_age
        self._batch = batch
        self._rand = rand
        notifications = config.notifications
        self.language = language or notifications.language or str(config.site.default_language)
        self._forward_after_failures = notifications.forward_after_failures
        self._forward_after = timedelta(seconds=notifications.forward_after_seconds)

    # ----------------------------------------------------------------- one round

    def tick(self) -> TickReport:
        """One round: plan new events, escalate, remind, deliver what is due."""
        report = TickReport()
        report.planned = self.plan_events()
        report.escalated = self.escalate()
        report.reminded = self.remind()
        self.deliver_due(report)
        return report

    def run(self, stop: threading.Event, interval: float = 2.0, watch: float = 0.1) -> None:
        """Tick until `stop` is set; a failing round is logged, never fatal.

        Between rounds (every `interval`, for retries and escalations) it watches the
        database: the check-in that asks for a host commits in the kiosk's engine process,
        and SQLite's `data_version` changes when another connection commits. Checking it
        every `watch` seconds costs next to nothing and starts a round at once, so the host
        hears within a fraction of a second instead of up to `interval` later."""
        seen = self._data_version()
        while not stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("notification round failed; retrying")
            deadline = monotonic() + interval
            while not stop.wait(watch) and monotonic() < deadline:
                version = self._data_version()
                if version != seen:
                    seen = version
                    break

    def _data_version(self) -> int | None:
        try:
            return int(self._db.execute_sql("PRAGMA data_version").fetchone()[0])
        except Exception:  # a busy or vanished file: fall back to the plain interval
            return None

    # ----------------------------------------------------------------- planning

    def _urls(self, audience: str) -> list[str]:
        """The recipient URLs of an audience now (host:<ref>, reception, security, vip)."""
        if audience.startswith("host:"):
            return host_urls(Host.get_or_none(Host.ref == audience[5:]))
        return audience_urls(self._config, audience)

    def _plan(
        self, key: str, kind: str, subject_ref: str, payload: dict[str, Any], audiences: list[str]
    ) -> int:
        """Turn one trigger into deliveries, once. Returns the deliveries planned (0 when
        the trigger was planned before). The first audience with any URL is used."""
        now = self._clock.now()
        chosen, urls = "", []
        for audience in audiences:
            urls = self._urls(audience)
            if urls:
                chosen = audience
                break
        if chosen == "reception" and "party" in payload:
            payload = {**payload, "party": "reception"}  # its links then say who answered
        with storage_errors(), self._db.atomic():
            if NotificationEvent.get_or_none(NotificationEvent.key == key) is not None:
                return 0
            NotificationEvent.create(key=key, kind=kind, planned_at=now)
            seen = set()
            for url in urls:
                digest = channel_hash(url)
                if digest in seen:
                    continue
                seen.add(digest)
                NotificationDelivery.create(
                    key=key,
                    kind=kind,
                    subject_ref=subject_ref,
                    payload=json.dumps(payload, sort_keys=True),
                    audience=chosen,
                    channel_hash=digest,
                    next_attempt_at=now,
                    created_at=now,
                )
        if not urls:
            log.warning("%s %s: nobody to notify (%s have no channels)", kind, key, audiences)
        return len(seen)

    def plan_events(self) -> int:
        """Plan the outbox's notification events not planned yet, back to `max_event_age`
        (a week: a notifier installed on a kiosk with a long history does not replay it,
        and one that was stopped for a few days still sends what it missed)."""
        since = self._clock.now() - self._max_event_age
        planned = NotificationEvent.select(NotificationEvent.key).where(
            NotificationEvent.key == OutboxEvent.event_id
        )
        events = (
            OutboxEvent.select()
            .where(
                OutboxEvent.kind.in_(list(EVENT_KINDS))
                & (OutboxEvent.occurred_at >= since)
                & ~fn.EXISTS(planned)
            )
            .order_by(OutboxEvent._meta.primary_key)
        )
        count = 0
        for event in events:
            payload = json.loads(event.payload)
            kind = EVENT_KINDS[event.kind]
            if kind in ("arrived", "approval"):
                recipient = payload.get("recipient")
                audiences = [f"host:{recipient}"] if recipient else []
                subject, refs = (
                    payload["visit"],
                    {
                        "visit": payload["visit"],
                        "party": payload.get("party") or ("host" if recipient else "reception"),
                    },
                )
                if audiences:
                    audiences.append("reception")
                else:
                    audiences = ["reception"]
                    refs["party"] = "reception"
            elif kind == "vip":
                audiences, subject, refs = ["vip"], payload["visit"], {"visit": payload["visit"]}
            elif kind == CASE_KIND:
                audiences, subject, refs = AUDIENCES, event.subject_ref, notice_refs(payload)
            elif kind == "parcel":
                audiences, subject, refs = parcel_audiences(payload), payload["parcel"], payload
            elif kind == "message":
                audiences = [f"host:{payload['host']}", "reception"]
                subject, refs = payload["message"], {"message": payload["message"]}
            else:
                audiences = ["security", "reception"]
                subject = event.subject_ref
                refs = {
                    key: payload.get(key)
                    for key in ("visit", "reason", "detail", "device", "message", "watchlist_entry")
                }
                refs["at"] = event.occurred_at.isoformat()
            count += self._plan(event.event_id, kind, subject, refs, audiences)
        return count

    # ----------------------------------------------------------------- the clock

    def escalate(self) -> int:
        """Plan escalations due now: delegate after one period, reception after two."""
        now = self._clock.now()
        period = timedelta(seconds=self._config.notifications.escalation_seconds)
        waiting = Visit.select().where(
            (Visit.state == VisitState.AWAITING_HOST)
            & Visit.host_acknowledged_at.is_null()
            & Visit.host_notified_at.is_null(False)
            & (Visit.host_notified_at >= now - timedelta(days=1))
            & (Visit.host_notified_at <= now - period)
        )
        count = 0
        for visit in waiting:
            chain: list[tuple[str, str]] = []
            host = visit.host
            if visit.notified_party == "host" and host is not None:
                delegate = host.delegate
                if delegate is not None and delegate.active:
                    chain.append(("delegate", f"host:{delegate.ref}"))
            if visit.notified_party in ("host", "delegate"):
                chain.append(("reception", "reception"))
            for stage, (party, audience) in enumerate(chain, start=1):
                if now < visit.host_notified_at + stage * period:
                    break
                payload = {"visit": visit.ref, "stage": stage, "party": party}
                count += self._plan(
                    f"escalation:{stage}:{visit.ref}", "escalation", visit.ref, payload, [audience]
                )
        return count

    def remind(self) -> int:
        """From the reminder time to the end of the day: one message per host whose
        visitors are still on site, listing them."""
        now = self._clock.now()
        local = self._calendar.local(now)
        site = self._config.site
        if not (self._reminder_at <= local.time() < site.end_of_day_time):
            return 0
        start, _ = self._calendar.day_bounds(now)
        on_site = Visit.select().where(
            Visit.state.in_([state.value for state in ON_SITE_STATES])
            & (Visit.arrived_at >= start)
            & Visit.host.is_null(False)
        )
        by_host: dict[str, list[str]] = {}
        for visit in on_site.order_by(Visit.arrived_at):
            host = visit.host
            if host is not None:
                by_host.setdefault(host.ref, []).append(visit.ref)
        count = 0
        day = local.date().isoformat()
        for host_ref, visits in by_host.items():
            payload = {"host": host_ref, "visits": visits, "day": day}
            count += self._plan(
                f"reminder:{host_ref}:{day}", "reminder", host_ref, payload, [f"host:{host_ref}"]
            )
        return count

    # ----------------------------------------------------------------- delivering

    def _resolve_in_doubt(self) -> int:
        now = self._clock.now()
        stale = NotificationDelivery.select().where(
            NotificationDelivery.claimed_at.is_null(False)
            & NotificationDelivery.sent_at.is_null()
            & NotificationDelivery.gave_up_at.is_null()
            & (NotificationDelivery.claimed_at <= now - self._claim_timeout)
        )
        count = 0
        for row in list(stale):
            with self._db.atomic():
                if row.kind in AT_LEAST_ONCE_KINDS:
                    NotificationDelivery.update(
                        claimed_at=None,
                        next_attempt_at=now,
                        last_error="interrupted while sending; resent (at least once)",
                    ).where(NotificationDelivery.id == row.id).execute()
                else:
                    NotificationDelivery.update(
                        gave_up_at=now,
                        last_error="interrupted while sending; not resent (at most once)",
                    ).where(NotificationDelivery.id == row.id).execute()
                    log.warning("delivery %s to %s is in doubt", row.key, row.audience)
            count += 1
        return count

    def deliver_due(self, report: TickReport | None = None) -> TickReport:
        """Send every delivery that is due. A URL that fails is not tried again this round."""
        report = report or TickReport()
        self._resolve_in_doubt()
        now = self._clock.now()
        due = (
            NotificationDelivery.select()
            .where(
                NotificationDelivery.sent_at.is_null()
                & NotificationDelivery.gave_up_at.is_null()
                & NotificationDelivery.claimed_at.is_null()
                & (NotificationDelivery.next_attempt_at <= now)
            )
            .order_by(NotificationDelivery.id)
            .limit(self._batch)
        )
        down: set[str] = set()
        for row in list(due):
            if row.channel_hash in down:
                continue
            self._deliver(row, report, down)
        return report

    def _claim(self, row: NotificationDelivery) -> bool:
        with self._db.atomic():
            claimed = (
                NotificationDelivery.update(
                    claimed_at=self._clock.now(), attempts=NotificationDelivery.attempts + 1
                )
                .where(
                    (NotificationDelivery.id == row.id)
                    & NotificationDelivery.claimed_at.is_null()
                    & NotificationDelivery.sent_at.is_null()
                )
                .execute()
            )
        return bool(claimed)

    def _finish(self, row: NotificationDelivery, **fields: Any) -> None:
        with self._db.atomic():
            NotificationDelivery.update(claimed_at=None, **fields).where(
                NotificationDelivery.id == row.id
            ).execute()

    def _record_sent(self, row: NotificationDelivery) -> None:
        self._finish(row, sent_at=self._clock.now(), last_error="")

    def _deliver(self, row: NotificationDelivery, report: TickReport, down: set[str]) -> None:
        now = self._clock.now()
        payload = json.loads(row.payload)
        if row.kind in WAITING_KINDS and not self._still_waiting(payload.get("visit", "")):
            self._finish(row, gave_up_at=now, last_error="obsolete: the host has answered")
            report.dropped += 1
            return
        url = next((u for u in self._urls(row.audience) if channel_hash(u) == row.channel_hash), "")
        if not url:
            self._finish(row, gave_up_at=now, last_error="the channel is no longer configured")
            report.dropped += 1
            return
        try:
            message = self.render(row, payload)
        except NotFound as err:  # purged or deleted since: nothing left to say
            self._finish(row, gave_up_at=now, last_error=f"nothing to send: {err}")
            report.dropped += 1
            return
        if not self._claim(row):
            return
        if is_text_message(url):  # an SMS: links of at most 40 characters
            message = shorten(message, self._link_base, self._register_short_link)
        result = self._sender.send(url, message)
        if result.ok:
            self._record_sent(row)
            report.sent += 1
            return
        attempts = row.attempts + 1
        if self._should_forward(row, attempts):
            self._forward(row, message, result.error or "failed")
            report.forwarded += 1
            down.add(row.channel_hash)
            return
        wait = backoff_seconds(attempts, self._rand())
        self._finish(
            row,
            next_attempt_at=self._clock.now() + timedelta(seconds=wait),
            last_error=result.error or "failed",
        )
        down.add(row.channel_hash)
        report.failed += 1
        report.errors.append(f"{row.kind} {row.key}: {result.error}")
        log.info(
            "%s to %s failed (%s); retry in %.0f s", row.kind, row.audience, result.error, wait
        )

    # ----------------------------------------------------------------- forwarding

    @staticmethod
    def has_office() -> bool:
        """Enrolled with an office (kiosk.sync.client keeps its URL in KioskState)."""
        return KioskState.get_or_none(KioskState.key == "sync_office_url") is not None

    def _should_forward(self, row: NotificationDelivery, attempts: int) -> bool:
        failing_for = self._clock.now() - row.created_at
        due = attempts >= self._forward_after_failures or failing_for >= self._forward_after
        return due and self.has_office()

    def _register_short_link(self, code: str, token: str) -> None:
        """Tell the office which link a short code names (kiosk.notify.short_links)."""
        with storage_errors(), self._db.atomic():
            enqueue_event(self._clock.now(), SHORT_KIND, code, {"code": code, "token": token})

    def _forward(self, row: NotificationDelivery, message: Message, error: str) -> None:
        """Hand the delivery to the office, in one transaction (see the module docstring)."""
        now = self._clock.now()
        attachments = [
            {
                "name": item.name,
                "mimetype": item.mimetype,
                "content": base64.b64encode(item.content).decode("ascii"),
            }
            for item in message.attachments
            if len(item.content) <= MAX_FORWARDED_ATTACHMENT
        ]
        payload = {
            "delivery": row.key,
            "kind": row.kind,
            "audience": row.audience,
            "channel_hash": row.channel_hash,
            "title": message.title,
            "body": message.body,
            "attachments": attachments,
        }
        with storage_errors(), self._db.atomic():
            event = enqueue_event(now, FORWARD_KIND, row.subject_ref[:64], payload)
            NotificationForward.create(
                delivery_id=row.id, event_id=event.event_id, forwarded_at=now
            )
            NotificationDelivery.update(
                claimed_at=None,
                gave_up_at=now,
                last_error=f"forwarded to the office after: {error}"[:500],
            ).where(NotificationDelivery.id == row.id).execute()
        log.info("%s to %s forwarded to the office (%s)", row.kind, row.audience, error)

    @staticmethod
    def _still_waiting(visit_ref: str) -> bool:
        visit = Visit.get_or_none(Visit.ref == visit_ref)
        return visit is not None and visit.state == VisitState.AWAITING_HOST

    # ----------------------------------------------------------------- content

    def _link(self, action: LinkAction, visit_ref: str, party: str) -> str:
        return self._link_base + self.links.issue(action, visit_ref, party, self._link_ttl)

    def _where(self) -> str:
        site = self._config.site
        return place_name(site.name, site.kiosk_name, self.language)

    def _local_time(self, moment: datetime | None) -> str:
        return self._calendar.local(moment).strftime("%H:%M") if moment else "-"

    def render(self, row: NotificationDelivery, payload: dict[str, Any]) -> Message:
        """The message of one delivery, from the database as it is now, in the language
        of the notifications."""
        _ = catalogue(self.language).gettext
        footer = f"\n\nref: {row.key}"
        place = self._where()
        if row.kind == "message":
            note = HostMessage.get_or_none(HostMessage.ref == payload["message"])
            if note is None:
                raise NotFound(f"message {payload['message']}")
            company = note.visit.company if note.visit else ""
            who = _named(_, note.visitor_name, company)
            lines = [
                _("{visitor} came to see you at {place} at {time} and left a message.").format(
                    visitor=who, place=place, time=self._local_time(note.left_at)
                ),
                _("Purpose: {purpose}").format(purpose=_purpose(_, note.purpose)),
                _("Contact: {contact}").format(contact=note.contact),
            ]
            if note.message:
                lines.append(_("Message: {message}").format(message=note.message))
            title = _("Message from {visitor}").format(visitor=note.visitor_name)
            return Message(title, "\n".join(lines) + footer)
        if row.kind in ("security", "device"):
            return self._render_alert(row, payload, footer)
        if row.kind == CASE_KIND:
            return render_case_notice(payload, self.language, self._local_time, place, footer)
        if row.kind == "parcel":
            return render_parcel(payload, _, place, footer)
        if row.kind == "reminder":
            visits = [Visit.get_or_none(Visit.ref == ref) for ref in payload["visits"]]
            lines = [
                _("- {visitor}, since {time}").format(
                    visitor=_visitor(_, v), time=self._local_time(v.arrived_at)
                )
                for v in visits
                if v is not None and v.state in {s.value for s in ON_SITE_STATES}
            ]
            if not lines:
                raise NotFound("no visitor of this host is still on site")
            body = "\n".join(
                [
                    _("Your visitors are still on site at {place}:").format(place=place),
                    *lines,
                    _("Please see them out, or check them out at the kiosk."),
                ]
            )
            return Message(_("Your visitors are still on site"), body + footer)
        return self._render_visit(row, payload, footer)

    def _render_visit(
        self, row: NotificationDelivery, payload: dict[str, Any], footer: str
    ) -> Message:
        _ = catalogue(self.language).gettext
        visit = Visit.get_or_none(Visit.ref == payload["visit"])
        if visit is None:
            raise NotFound(f"visit {payload['visit']}")
        party = payload.get("party", "host")
        host_name = visit.host.name if visit.host else _("reception")
        who = _visitor(_, visit)
        lines = [
            _("{visitor} is at {place} to see {host}.").format(
                visitor=who, place=self._where(), host=host_name
            ),
            _("Purpose: {purpose}").format(purpose=_purpose(_, visit.purpose)),
            _("Arrived: {time}").format(time=self._local_time(visit.arrived_at)),
        ]
        if visit.escort_required:
            lines.append(_("An escort is required."))
        if row.kind == "vip":
            title = _("VIP visitor: {visitor}").format(visitor=who)
        elif row.kind == "escalation":
            waited = int((self._clock.now() - visit.host_notified_at).total_seconds())
            title = _("Nobody has answered for {visitor} ({seconds} s)").format(
                visitor=who, seconds=waited
            )
            lines.insert(
                0,
                _("{host} has not answered after {seconds} seconds.").format(
                    host=host_name, seconds=waited
                ),
            )
        elif row.kind == "approval":
            title = _("Approve a visitor? {visitor}").format(visitor=who)
        else:
            title = _("Visitor: {visitor}").format(visitor=who)
        needs_decision = visit.needs_approval and row.kind in ("approval", "escalation")
        if row.kind != "vip" and visit.state == VisitState.AWAITING_HOST:
            if needs_decision:
                approve = self._link(LinkAction.APPROVE, visit.ref, party)
                deny = self._link(LinkAction.DENY, visit.ref, party)
                lines.append(_("Approve: {link}").format(link=approve))
                lines.append(_("Deny: {link}").format(link=deny))
            else:
                coming = self._link(LinkAction.ACKNOWLEDGE, visit.ref, party)
                lines.append(_("I'm on my way: {link}").format(link=coming))
        photo = VisitPhoto.get_or_none(VisitPhoto.visit == visit)
        attachments = [Attachment("visitor.jpg", "image/jpeg", bytes(photo.jpeg))] if photo else []
        return Message(title, "\n".join(lines) + footer, attachments)

    def _render_alert(
        self, row: NotificationDelivery, payload: dict[str, Any], footer: str
    ) -> Message:
        _ = catalogue(self.language).gettext
        at = datetime.fromisoformat(payload["at"]) if payload.get("at") else None
        if row.kind == "device":
            device = str(payload.get("device") or "device")
            device_words = _(DEVICES[device]) if device in DEVICES else device
            title = _("Kiosk problem: {device}").format(device=device_words)
            body = _("{device} at {place} failed at {time}: {message}").format(
                device=device_words,
                place=self._where(),
                time=self._local_time(at),
                message=payload.get("message") or "",
            )
            return Message(title, body + footer)
        visit = Visit.get_or_none(Visit.ref == payload.get("visit") or "")
        who = _visitor(_, visit)
        reason_code = str(payload.get("reason") or "alert")
        reason = _(ALERT_REASONS[reason_code]) if reason_code in ALERT_REASONS else reason_code
        if reason_code == "badge_rejected":
            detail = str(payload.get("detail") or "")
            why = (
                _(BADGE_REFUSALS.get(detail, ""))
                if detail in BADGE_REFUSALS
                else _("the badge is not a kiosk badge")
            )
            outcome = _("A guard's scan refused a badge: {why}.").format(why=why)
        else:
            outcome = _("The kiosk refused the check-in with a neutral message.")
        body = "\n".join(
            [
                _("Security alert at {place}, {time}: {reason}.").format(
                    place=self._where(), time=self._local_time(at), reason=reason
                ),
                _("Visitor: {visitor}").format(visitor=who),
                outcome,
            ]
        )
        attachments = []
        photo = VisitPhoto.get_or_none(VisitPhoto.visit == visit) if visit else None
        if photo is not None:
            attachments.append(Attachment("visitor.jpg", "image/jpeg", bytes(photo.jpeg)))
        title = _("Security alert: {reason}").format(reason=reason)
        return Message(title, body + footer, attachments)

    # ----------------------------------------------------------------- links

    def redeem_link(self, token: str) -> RedeemedLink:
        """Carry out a link's action once. Raises LinkRefused for a forged, expired or
        already used link, or when the visit has moved on (already answered, gone)."""
        claim: LinkClaim = self.links.verify(token)
        now = self._clock.now()
        by = f"link:{claim.party}"
        try:
            with self._db.atomic():
                if UsedLink.get_or_none(UsedLink.link_id == claim.link_id) is not None:
                    raise LinkRefused(LinkRefusal.USED, "this link has been used")
                UsedLink.create(
                    link_id=claim.link_id,
                    action=claim.action.value,
                    visit_ref=claim.visit_ref,
                    used_at=now,
                )
                seconds = None
                if claim.action is LinkAction.ACKNOWLEDGE:
                    seconds = self._answers.acknowledge(claim.visit_ref, by=by)
                else:
                    self._answers.decide_approval(
                        claim.visit_ref, claim.action is LinkAction.APPROVE, by=by
                    )
        except IntegrityError as err:  # another request used it at the same moment
            raise LinkRefused(LinkRefusal.USED, "this link has been used") from err
        except (IllegalTransition, NotFound) as err:
            raise LinkRefused(LinkRefusal.TOO_LATE, str(err)) from err
        return RedeemedLink(claim.action, claim.visit_ref, claim.party, seconds)


def _purpose(_: Callable[[str], str], value: str) -> str:
    code = str(value)
    return _(PURPOSES[code]) if code in PURPOSES else code.replace("_", " ")


def _named(_: Callable[[str], str], name: str, company: str) -> str:
    return _("{name} ({company})").format(name=name, company=company) if company else name


def _visitor(_: Callable[[str], str], visit: Visit | None) -> str:
    if visit is None or visit.visitor is None:
        return _("a visitor")
    return _named(_, visit.visitor.name, visit.company)
