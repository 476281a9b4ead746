"""The touchscreen's services over the engine, the directory and the devices.

`ScreenServices` implements the one protocol the screens talk to
(`kiosk.ui.services.KioskServices`): plain frozen values and domain errors cross it, never
a peewee row or a device. It is handed everything it uses, built by the composition root
(`kiosk.app.KioskServices` opens the configured printer, camera and ID card reader).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple, cast

from peewee import JOIN

from kiosk.badge_queue import BadgeQueue
from kiosk.card_reading import CardReading
from kiosk.delivery_screen_services import DeliveryScreenServices
from kiosk.devices.print_queue import JobState
from kiosk.devices.protocols import DecodedCode, DeviceEvent, DeviceEventKind
from kiosk.domain.errors import AlreadyCheckedOut
from kiosk.domain.text import stored_text
from kiosk.domain.values import OnSiteEntry, Purpose, TodaySummary
from kiosk.heap import give_back_free_memory
from kiosk.parts import Kiosk
from kiosk.services.checkin import CheckInResult, Collected, VisitorDetails, WalkIn
from kiosk.storage.models import Appointment, Badge, Host, KioskState, OutboxEvent, Visit, Visitor
from kiosk.sync.wire import EventKind
from kiosk.ui import services as ui

log = logging.getLogger(__name__)


class ScreenServices(DeliveryScreenServices):
    """The touchscreen's services (`kiosk.ui.services.KioskServices`) over the engine,
    the directory and the devices: the UI sees plain values and domain errors only.

    The camera runs only while a scanning screen asks for it (decoding costs CPU); its
    codes are classified here (invitation, badge, identity document) and handed to the
    screen's callback on the camera's thread. Badges print through a `BadgeQueue`,
    whose outcome is reported per job. PINs are Argon2 hashes from the
    configuration, with a lockout that doubles after every MAX_PIN_FAILURES failures.
    """

    MAX_PIN_FAILURES = 5
    LOCKOUT_S = 60.0
    IDLE_TIMEOUT_S = 60.0

    def __init__(
        self,
        kiosk: Kiosk,
        *,
        printing: BadgeQueue,
        scanner: Any,
        card_reading: CardReading,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._kiosk = kiosk
        site = kiosk.config.site
        self.site_name = site.name
        self.languages: list[str] = [str(site.default_language)] + [
            str(code) for code in site.languages if code != site.default_language
        ]
        self.common_purposes = [p.value for p in site.common_purposes]
        self.after_hours = site.after_hours
        self.idle_timeout_s = self.IDLE_TIMEOUT_S
        self.printing = printing
        self.printing.queue.add_listener(self._on_print_event)
        self.printing.queue.start()
        self.scanner = scanner
        self.card_reading = card_reading
        self._camera_state = "off"
        self._scanning = False
        self._lock = threading.Lock()
        self._print_callbacks: dict[int, Callable[[bool], None]] = {}
        self._monotonic = monotonic
        self._pin_failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}
        self._lockouts: dict[str, int] = {}

    def close(self) -> None:
        self.stop_camera()
        self.card_reading.close()
        self.printing.queue.stop()

    def release_memory(self) -> None:
        """Between visitors: close the badge's cached font faces (a CJK face holds ~2 MB,
        and its font file's pages stay mapped while it is open) and drop the pinyin index
        (~13 MB); the next visitor's badge or first pinyin key loads them again in a few
        tens of ms."""
        import sys

        fonts = sys.modules.get("kiosk.devices.fonts")
        if fonts is not None:
            fonts.FontBook._load.cache_clear()
        pinyin_input = sys.modules.get("kiosk.services.pinyin_input")
        if pinyin_input is not None:
            pinyin_input.PinyinIme.release()
        give_back_free_memory()

    # ----------------------------------------------------------------- the site

    def greeting(self, language: str) -> str:
        return _in_language(self._kiosk.config.site.greeting, language)

    def closed_message(self, language: str) -> str:
        return _in_language(self._kiosk.config.site.closed_message, language)

    def today_summary(self) -> TodaySummary:
        return self._kiosk.engine.today_summary()

    def _local(self, moment: datetime) -> datetime:
        return moment.astimezone(self._kiosk.engine.calendar.zone)

    # ----------------------------------------------------------------- the camera

    def start_camera(self, on_code: Callable[[ui.ScannedCode], None]) -> None:
        self.stop_camera()

        def code_seen(code: DecodedCode) -> None:
            on_code(self._classify(code.raw))

        self.scanner.start(code_seen, self._on_camera_event)
        self._scanning = True
        self._camera_state = "ok"

    def stop_camera(self) -> None:
        if self._scanning:
            self._scanning = False
            self.scanner.stop()

    def start_card_reader(self, on_card: Callable[[ui.CardRead], None]) -> None:
        self.card_reading.start(on_card)

    def stop_card_reader(self) -> None:
        self.card_reading.stop()

    def _on_camera_event(self, event: DeviceEvent) -> None:
        if event.kind is DeviceEventKind.CAMERA_LOST:
            self._camera_state = "lost"
            self._kiosk.engine.record_device_problem("camera", event.message)
        elif event.kind is DeviceEventKind.CAMERA_RESTORED:
            self._camera_state = "ok"

    def preview_frame(self) -> ui.Frame | None:
        frame = self.scanner.latest_frame()
        if frame is None:
            return None
        height, width = frame.shape[:2]
        colorfmt: Literal["bgr", "luminance"] = "luminance" if frame.ndim == 2 else "bgr"
        return ui.Frame(width, height, frame.tobytes(), colorfmt)

    def take_photo(self) -> bytes | None:
        import cv2

        frame = self.scanner.latest_frame()
        if frame is None:
            return None
        ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
        return bytes(encoded) if ok else None

    def _classify(self, raw: bytes) -> ui.ScannedCode:
        from kiosk.devices.identity import is_expired, looks_like_aamva, parse_aamva, parse_mrz
        from kiosk.domain.errors import InvalidInput, TokenRejected
        from kiosk.domain.tokens import TokenKind, decode, parse

        text = raw.decode("latin-1").strip()
        # A case receipt's QR may be the office's status page, ending in /c/<token>.
        token = text.rpartition("/c/")[2] if "/c/" in text else text
        try:
            kind = parse(decode(token))[0].kind
        except TokenRejected:
            pass
        else:
            names: dict[TokenKind, ui.CodeKind] = {
                TokenKind.INVITATION: "invitation",
                TokenKind.CASE_RECEIPT: "case_receipt",
                TokenKind.PARCEL_PICKUP: "parcel",
            }
            return ui.ScannedCode(names.get(kind, "badge"), token)
        salt = self._kiosk.keys.document_salt()
        try:
            if looks_like_aamva(raw):
                doc = parse_aamva(raw, salt)
            elif "<" in text and len(text.splitlines()) in (2, 3):
                doc = parse_mrz(text, salt)
            elif len(text) == 18 and text[:17].isdigit():
                return ui.ScannedCode("document", "", self.read_id_number(text))
            else:
                return ui.ScannedCode("other", "")
        except InvalidInput:
            return ui.ScannedCode("unreadable_document", "")
        today = self._local(self._kiosk.clock.now()).date()
        return ui.ScannedCode(
            "document",
            "",
            ui.Document(
                doc.full_name,
                doc.document_number_hash,
                doc.document_number_last4,
                is_expired(doc, today),
            ),
        )

    # ----------------------------------------------------------------- checking in

    def _steps(self, visitor_type: str) -> ui.Steps:
        rules = self._kiosk.engine.requirements(visitor_type)
        return ui.Steps(visitor_type, rules.photo, rules.agreement_id, rules.escort)

    def preview_invitation(self, text: str) -> ui.InvitationView:
        preview = self._kiosk.engine.preview_invitation(text)
        early = timedelta(minutes=self._kiosk.config.invitations.early_minutes)
        return ui.InvitationView(
            visitor_name=preview.visitor_name,
            host_name=preview.host_name,
            host_ref=preview.token.host_ref or "",
            starts_at=self._local(preview.token.not_before + early),
            host_available=preview.host_available,
            steps=self._steps(preview.requirements.visitor_type),
        )

    @staticmethod
    def _collected(captured: ui.Captured, form: ui.VisitorForm | None = None) -> Collected:
        return Collected(
            photo_jpeg=captured.photo_jpeg,
            agreement_accepted=captured.signature_png is not None,
            signature_png=captured.signature_png,
            agreement_language=captured.agreement_language,
            companions=form.companions if form else 0,
            items_declared=form.items_declared if form else "",
        )

    @staticmethod
    def _details(form: ui.VisitorForm) -> VisitorDetails:
        return VisitorDetails(
            name=form.name.strip(),
            company=form.company.strip(),
            phone=form.phone.strip(),
            document_hash=form.document_hash,
            document_last4=form.document_last4,
            document_expired=form.document_expired,
        )

    @staticmethod
    def _done(result: CheckInResult) -> ui.CheckInDone:
        escort = bool(result.requirements and result.requirements.escort)
        outcome = cast("ui.CheckInOutcome", result.outcome.value)
        return ui.CheckInDone(outcome, result.visit_ref, result.host_name, escort)

    def check_in_with_invitation(
        self, text: str, captured: ui.Captured, *, proceed_if_absent: bool
    ) -> ui.CheckInDone:
        result = self._kiosk.engine.check_in_with_invitation(
            text,
            self._collected(captured),
            if_host_absent="proceed" if proceed_if_absent else "ask",
        )
        return self._done(result)

    def read_id_number(self, number: str) -> ui.Document:
        from kiosk.devices.identity import parse_cn_resident_id

        today = self._local(self._kiosk.clock.now()).date()
        doc = parse_cn_resident_id(number, self._kiosk.keys.document_salt(), today)
        return ui.Document("", doc.document_number_hash, doc.document_number_last4, False)

    def match_identity(self, name: str, document_hash: str | None) -> list[ui.AppointmentView]:
        matches = self._kiosk.engine.match_identity(name, document_hash)
        types = {
            a.ref: a.visitor_type
            for a in Appointment.select(Appointment.ref, Appointment.visitor_type).where(
                Appointment.ref.in_([m.appointment_ref for m in matches])
            )
        }
        return [
            ui.AppointmentView(
                m.appointment_ref,
                m.visitor_name,
                m.host_name,
                self._local(m.starts_at),
                self._steps(types.get(m.appointment_ref, "visitor")),
            )
            for m in matches
        ]

    def check_in_appointment(
        self,
        appointment_ref: str,
        form: ui.VisitorForm,
        captured: ui.Captured,
        *,
        proceed_if_absent: bool,
    ) -> ui.CheckInDone:
        result = self._kiosk.engine.check_in_appointment(
            appointment_ref,
            self._details(form),
            self._collected(captured, form),
            if_host_absent="proceed" if proceed_if_absent else "ask",
        )
        return self._done(result)

    def search_hosts(self, query: str) -> list[ui.HostChoice]:
        return [
            ui.HostChoice(h.ref, h.name, h.department, available=not h.absent)
            for h in self._kiosk.engine.search_hosts(query, limit=6)
        ]

    def pinyin_candidates(
        self,
        typed: str,
        script: Literal["simplified", "traditional"],
        limit: int,
        names: bool = False,
    ) -> list[tuple[str, int]]:
        from kiosk.services.pinyin_input import PinyinIme

        found = PinyinIme(script, limit).candidates(typed, names=names)
        return [(c.text, c.consumed) for c in found]

    def visitor_type_for(self, purpose: Purpose) -> str:
        wanted = PURPOSE_VISITOR_TYPES.get(purpose, "visitor")
        return wanted if wanted in self._kiosk.config.visitor_types else "visitor"

    def steps_for(self, purpose: Purpose) -> ui.Steps:
        return self._steps(self.visitor_type_for(purpose))

    def check_in_walk_in(
        self, form: ui.VisitorForm, captured: ui.Captured, *, proceed_if_absent: bool
    ) -> ui.CheckInDone:
        walk_in = WalkIn(
            visitor=self._details(form),
            host_ref=form.host_ref,
            purpose=form.purpose,
            visitor_type=self.visitor_type_for(form.purpose),
            # A walk-in is an ordinary visitor: the level is staff's to raise, never the
            # visitor's to choose (an appointment's level comes with it).
        )
        result = self._kiosk.engine.check_in_walk_in(
            walk_in,
            self._collected(captured, form),
            if_host_absent="proceed" if proceed_if_absent else "ask",
        )
        return self._done(result)

    def leave_message(self, form: ui.VisitorForm, contact: str, message: str) -> None:
        self._kiosk.engine.leave_message(
            form.host_ref,
            self._details(form),
            contact=contact.strip(),
            purpose=form.purpose,
            message=message.strip(),
        )

    def host_response(self, visit_ref: str) -> ui.HostResponse | None:
        """What the host answered, for the waiting screen to poll: None while nobody has,
        however the answer arrived (a link here or at the office, or the command line).
        Reads only."""
        from kiosk.notify.responses import host_response

        answer = host_response(visit_ref)
        if answer is None:
            return None
        return ui.HostResponse(answer.kind, answer.responder_name)

    def agreement(self, agreement_id: str, language: str) -> ui.Agreement:
        found = self._kiosk.config.agreements[agreement_id]
        return ui.Agreement(_in_language(found.title, language), _in_language(found.text, language))

    def visitor_type_label(self, visitor_type: str, language: str) -> str:
        kind = self._kiosk.config.visitor_types.get(visitor_type)
        return _in_language(kind.label, language) if kind else visitor_type

    # ----------------------------------------------------------------- printing

    def print_badge(
        self, visit_ref: str, on_done: Callable[[bool], None], language: str = ""
    ) -> None:
        with self._lock:
            job = self.printing.print_badge(visit_ref, language)
            self._print_callbacks[job.job_id] = on_done
        state = self.printing.queue.get(job.job_id).state
        if state in (JobState.DONE, JobState.FAILED):
            self._finish_job(job.job_id, state is JobState.DONE)

    def _on_print_event(self, event: DeviceEvent) -> None:
        if event.kind in (DeviceEventKind.PRINT_DONE, DeviceEventKind.PRINT_FAILED):
            self._finish_job(int(event.detail["job_id"]), event.kind is DeviceEventKind.PRINT_DONE)

    def _finish_job(self, job_id: int, printed: bool) -> None:
        with self._lock:
            callback = self._print_callbacks.pop(job_id, None)
        if callback is not None:
            callback(printed)

    def _print_now(self, what: str, send: Callable[[], object]) -> bool:
        from kiosk.devices.errors import DeviceError

        try:
            send()
        except DeviceError as err:
            log.warning("%s failed: %s", what, err)
            self._kiosk.engine.record_device_problem("printer", f"{what}: {err}")
            return False
        return True

    def print_roll_call(self) -> bool:
        from kiosk.devices.commands import print_roll_call

        settings = self.printing.settings
        entries = self._kiosk.engine.on_site()
        now = self._local(self._kiosk.clock.now())
        return self._print_now(
            "roll call",
            lambda: print_roll_call(
                self.printing.printer,
                entries,
                self.site_name,
                now,
                settings.profile,
                settings.font_path,
            ),
        )

    def saved_theme(self) -> str:
        from kiosk.services.display_settings import saved_theme

        return saved_theme()

    def save_theme(self, theme: str) -> None:
        from kiosk.services.display_settings import save_theme

        save_theme(theme)

    def print_test_page(self) -> bool:
        from kiosk.devices.commands import print_test_page

        settings = self.printing.settings
        return self._print_now(
            "test page",
            lambda: print_test_page(self.printing.printer, settings.profile, settings.font_path),
        )

    # ----------------------------------------------------------------- checking out

    def check_out_with_badge(self, text: str) -> str:
        with self._checked_out_in_site_time():
            return self._kiosk.engine.check_out_with_badge(text)

    @contextlib.contextmanager
    def _checked_out_in_site_time(self) -> Iterator[None]:
        """AlreadyCheckedOut with its time in the site's zone, as every time the screens
        get (they show it as it is: "already checked out at 10:42")."""
        try:
            yield
        except AlreadyCheckedOut as err:
            when = self._local(err.checked_out_at) if err.checked_out_at else None
            raise AlreadyCheckedOut(err.visit_ref, when) from err

    def _local_entries(self, entries: list[OnSiteEntry]) -> list[OnSiteEntry]:
        return [
            replace(
                e,
                arrived_at=self._local(e.arrived_at) if e.arrived_at else None,
                badge_expires_at=self._local(e.badge_expires_at) if e.badge_expires_at else None,
            )
            for e in entries
        ]

    def find_on_site(self, name: str) -> list[OnSiteEntry]:
        return self._local_entries(self._kiosk.engine.find_on_site(name))

    def check_out(self, visit_ref: str) -> None:
        with self._checked_out_in_site_time():
            self._kiosk.engine.check_out(visit_ref)

    def rate_visit(self, visit_ref: str, score: int, comment: str) -> None:
        self._kiosk.engine.rate_visit(visit_ref, score, comment.strip())

    # ----------------------------------------------------------------- guards and admins

    def check_pin(self, role: Literal["guard", "admin"], pin: str) -> ui.PinResult:
        from argon2 import PasswordHasher
        from argon2.exceptions import Argon2Error, InvalidHashError

        from kiosk.services.pins import stored_pin_hash

        stored = stored_pin_hash(role, self._kiosk.config)
        if not stored:
            return ui.PinResult(False, not_set=True)
        now = self._monotonic()
        if self._locked_until.get(role, 0.0) > now:
            return ui.PinResult(False, locked_for_s=self._locked_until[role] - now)
        try:
            PasswordHasher().verify(stored, pin)
        except (Argon2Error, InvalidHashError):
            failures = self._pin_failures.get(role, 0) + 1
            self._pin_failures[role] = failures
            if failures >= self.MAX_PIN_FAILURES:
                lockouts = self._lockouts.get(role, 0)
                self._lockouts[role] = lockouts + 1
                self._pin_failures[role] = 0
                wait = self.LOCKOUT_S * 2**lockouts
                self._locked_until[role] = now + wait
                log.warning("%s PIN locked for %.0f s after repeated failures", role, wait)
                return ui.PinResult(False, locked_for_s=wait)
            return ui.PinResult(False, attempts_left=self.MAX_PIN_FAILURES - failures)
        self._pin_failures[role] = 0
        self._lockouts[role] = 0
        return ui.PinResult(True)

    def verify_badge(self, text: str) -> ui.BadgeView:
        check = self._kiosk.engine.check_badge_at_door(text)
        return ui.BadgeView(
            visitor_name=check.visitor_name,
            company=check.company,
            host_name=check.host_name,
            arrived_at=self._local(check.arrived_at) if check.arrived_at else None,
            expires_at=self._local(check.expires_at),
            escort=check.escort_required,
            photo_jpeg=check.photo_jpeg,
        )

    def on_site(self) -> list[OnSiteEntry]:
        return self._local_entries(self._kiosk.engine.on_site())

    def host_notice(self, visit_ref: str) -> ui.HostNotice:
        from kiosk.notify.models import NotificationDelivery, NotificationEvent, channel_hash
        from kiosk.services.recipients import audience_urls, channel_kind, host_urls

        visit = Visit.get_or_none(Visit.ref == visit_ref)
        if visit is None:
            return ui.HostNotice("nobody")
        config = self._kiosk.config

        def told(audience: str) -> tuple[ui.NoticeParty, str, list[str]]:
            """(party, name, channels) of a delivery's audience."""
            if audience == "reception":
                return "reception", "", audience_urls(config, "reception")
            host = Host.get_or_none(Host.ref == audience.removeprefix("host:"))
            is_host = host is not None and host == visit.host
            return ("host" if is_host else "delegate"), host.name if host else "", host_urls(host)

        def kind_of(urls: list[str], hashed: str = "") -> ui.ChannelKind:
            chosen = [u for u in urls if not hashed or channel_hash(u) == hashed] or urls
            return channel_kind(chosen[0]) if chosen else ""

        deliveries = list(
            NotificationDelivery.select()
            .where(
                (NotificationDelivery.subject_ref == visit_ref)
                & NotificationDelivery.kind.in_(["arrived", "approval", "escalation"])
            )
            .order_by(NotificationDelivery.id)
        )
        for delivery in deliveries:
            if delivery.sent_at is not None:
                party, name, urls = told(delivery.audience)
                return ui.HostNotice("sent", party, name, kind_of(urls, delivery.channel_hash))
        if deliveries:
            first = deliveries[0]
            party, name, urls = told(first.audience)
            failed = any(d.last_error for d in deliveries)
            state: ui.NoticeState = "retrying" if failed else "sending"
            return ui.HostNotice(state, party, name, kind_of(urls, first.channel_hash))
        event = (
            OutboxEvent.select(OutboxEvent.event_id)
            .where(
                (OutboxEvent.subject_ref == visit_ref)
                & OutboxEvent.kind.in_(
                    [
                        EventKind.NOTIFICATION_VISITOR_ARRIVED,
                        EventKind.NOTIFICATION_APPROVAL_REQUEST,
                    ]
                )
            )
            .first()
        )
        if event is not None and NotificationEvent.get_or_none(key=event.event_id) is not None:
            return ui.HostNotice("nobody")  # planned, and nobody had a channel
        # Not planned yet (the notifier has not come round): who it will be, as it will choose.
        recipient = visit.host
        if visit.notified_party == "delegate" and visit.host is not None:
            recipient = visit.host.delegate
        if recipient is not None and host_urls(recipient):
            party, name, urls = told(f"host:{recipient.ref}")
            return ui.HostNotice("sending", party, name, kind_of(urls))
        if audience_urls(config, "reception"):
            return ui.HostNotice(
                "sending", "reception", "", kind_of(audience_urls(config, "reception"))
            )
        return ui.HostNotice("nobody")

    def syncs_with_office(self) -> bool:
        return KioskState.get_or_none(KioskState.key == "sync_office_url") is not None

    def recent_alerts(self) -> list[ui.Alert]:
        start, _end = self._kiosk.engine.calendar.day_bounds(self._kiosk.clock.now())
        rows = self._kiosk.engine.recent_alerts(start)[:50]
        names = _visitor_names({str(row.get("visit") or "") for row in rows} - {""})
        alerts = []
        for row in rows:
            kind = _alert_kind(row)
            subject = names.get(str(row.get("visit") or ""), "")
            if kind == "printer" and subject:
                kind = "badge_not_printed"
            alerts.append(ui.Alert(kind, self._local(row["at"]), subject))
        return alerts

    def device_status(self) -> ui.DeviceStatus:
        status = self.printing.printer.status()
        sync = _sync_status()
        last_success = datetime.fromisoformat(sync.last_success) if sync.last_success else None
        return ui.DeviceStatus(
            camera=self._camera_state,
            printer=status.level.value,
            printer_detail=status.detail,
            paper_low=status.paper_low,
            unsent_events=sync.backlog,
            office=self.syncs_with_office(),
            failed_jobs=len(self.printing.queue.failed()),
            sync_last_success=(
                self._local(last_success).strftime("%Y-%m-%d %H:%M") if last_success else ""
            ),
            sync_last_error=sync.last_error or "",
        )

    def todays_visits(self) -> list[ui.VisitLine]:
        start, end = self._kiosk.engine.calendar.day_bounds(self._kiosk.clock.now())
        visits = (
            Visit.select()
            .where((Visit.arrived_at >= start) & (Visit.arrived_at < end))
            .order_by(Visit.arrived_at.desc())
            .limit(100)
        )
        with_badge = {
            row.visit_id for row in Badge.select(Badge.visit).where(Badge.issued_at >= start)
        }
        return [
            ui.VisitLine(
                v.ref,
                v.visitor.name if v.visitor else "",
                v.host.name if v.host else "",
                v.state,
                self._local(v.arrived_at) if v.arrived_at else None,
                v.id in with_badge,
            )
            for v in visits
        ]

    def settings_summary(self) -> list[ui.Setting]:
        """The settings a site's admin checks, as data the screen words: never a secret."""
        from urllib.parse import urlsplit

        from kiosk.services.pins import stored_pin_hash
        from kiosk.services.recipients import audience_urls, channel_kind

        config = self._kiosk.config
        site, devices = config.site, config.devices
        office_url = config.office.url or (
            str(row.value)
            if (row := KioskState.get_or_none(KioskState.key == "sync_office_url"))
            else ""
        )

        def channels(audience: str) -> str:
            kinds = {channel_kind(url) or "webhook" for url in audience_urls(config, audience)}
            return ", ".join(CHANNEL_NAMES[kind] for kind in sorted(kinds))

        return [
            ui.Setting("site", site.name),
            ui.Setting("timezone", site.timezone),
            ui.Setting("hours", f"{', '.join(site.open_days)} · {', '.join(site.opening_hours)}"),
            ui.Setting("after_hours", site.after_hours),
            ui.Setting("office", urlsplit(office_url).netloc or office_url),
            ui.Setting("printer", f"{devices.printer.kind} · {devices.printer.profile}"),
            ui.Setting("camera", str(devices.camera.kind)),
            ui.Setting("reception", channels("reception")),
            ui.Setting("security", channels("security")),
            ui.Setting("visitor_details_days", str(config.retention.visitor_details_days)),
            ui.Setting("photos_days", str(config.retention.photos_days)),
            ui.Setting("guard_pin", "set" if stored_pin_hash("guard", config) else ""),
            ui.Setting("admin_pin", "set" if stored_pin_hash("admin", config) else ""),
        ]


#: The visitor type a walk-in's purpose implies (when the site defines that type).
PURPOSE_VISITOR_TYPES = {
    Purpose.WORKS: "contractor",
    Purpose.INTERVIEW: "interview",
    Purpose.DELIVERY: "delivery",
}


class _SyncStatus(NamedTuple):
    backlog: int
    last_success: str | None
    last_error: str | None


def _sync_status() -> _SyncStatus:
    """What `SyncClient.status()` says of the backlog and the last round, read here from the
    same rows: the sync client imports httpx, which the touchscreen's process never needs."""
    from kiosk.storage.models import OutboxEvent

    def state(key: str) -> str | None:
        row = KioskState.get_or_none(KioskState.key == f"sync_{key}")
        return row.value if row else None

    backlog = (
        OutboxEvent.select()
        .where(OutboxEvent.sent_at.is_null() & OutboxEvent.rejected_at.is_null())
        .count()
    )
    return _SyncStatus(backlog, state("last_success"), state("last_error"))


#: Channels by the names their makers give them (the same in every language).
CHANNEL_NAMES = {
    "email": "E-mail",
    "wecom": "WeCom",
    "dingtalk": "DingTalk",
    "feishu": "Feishu",
    "sms": "SMS",
    "chat": "Chat",
    "webhook": "Webhook",
}


#: What a security alert's reason tells the guard (kiosk.ui.services.Alert's kind).
ALERT_KINDS: dict[str, ui.AlertKind] = {
    "watchlist": "watchlist",
    "invitation_used_twice": "invitation_used_twice",
    "nobody_to_notify": "nobody_to_notify",
    "office_answer_forged": "office_forged",
}


def _alert_kind(row: Mapping[str, Any]) -> ui.AlertKind:
    """The kind of one row of the engine's `recent_alerts`, as the guard's screen names it."""
    if row["kind"] == EventKind.DEVICE_PROBLEM:
        return "camera" if row.get("device") == "camera" else "printer"
    reason = str(row.get("reason") or "")
    if reason == "badge_rejected":
        forged = row.get("detail") in ("bad_signature", "unknown_key")
        return "badge_forged" if forged else "badge_refused"
    return ALERT_KINDS.get(reason, "other")


def _visitor_names(visit_refs: set[str]) -> dict[str, str]:
    """{visit ref: the visitor's name} for the visits the guard's alerts name."""
    if not visit_refs:
        return {}
    rows: Any = (
        Visit.select(Visit.ref, Visitor.name)
        .join(Visitor, join_type=JOIN.LEFT_OUTER)
        .where(Visit.ref.in_(sorted(visit_refs)))
        .tuples()
    )
    return {str(ref): stored_text(name) for ref, name in rows if name}


def _in_language(words: Mapping[Any, str], language: str) -> str:
    """`words` in `language`, else in the first language the site wrote them in."""
    return words.get(language) or next(iter(words.values()), "")
