"""What the visitor is told, and the check-in itself: the notice screen (welcomes, refusals,
outcomes, waiting for the host's answer), the printing screen that submits the check-in
and prints the badge, and the message left for a host who is away.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, DictProperty, StringProperty

from kiosk.domain.errors import (
    CheckInRefused,
    InvalidInput,
    KioskError,
    RefusalReason,
    TokenRejected,
)
from kiosk.ui import flow
from kiosk.ui.flow import N_
from kiosk.ui.i18n import translate
from kiosk.ui.screens.base import FormScreen, KioskScreen
from kiosk.ui.services import CheckInDone, HostNotice
from kiosk.ui.widgets import later

log = logging.getLogger(__name__)

#: How often a notice waiting for the host asks whether they answered, in seconds.
HOST_POLL_SECONDS = 2.0


#: How long a walk-in waits on the screen for the host's approval before it goes home.
APPROVAL_WAIT_SECONDS = 120.0


#: Notices about who was told that will not change any more.
FINAL_NOTICES = frozenset({"sent", "nobody"})


class NoticeScreen(KioskScreen):
    """One message with up to two choices: welcomes, refusals, outcomes, thanks."""

    tone = StringProperty("info")  # ok | info | warn
    title_id = StringProperty("")
    body_id = StringProperty("")
    args = DictProperty({})
    title = StringProperty("")
    body = StringProperty("")
    primary_id = StringProperty("")
    secondary_id = StringProperty("")
    home = BooleanProperty(True)
    primary_action: Callable[[], None] | None = None
    secondary_action: Callable[[], None] | None = None
    #: The visit whose host's answer this notice waits for ("" for none), and what for:
    #: "arrival" (checked in: "HOST is on the way") or "approval" (a walk-in's approval).
    waiting_ref = ""
    waiting_for = ""
    _poll: Any = None
    _told_ref = ""
    _told_words: Callable[[HostNotice], flow.Words] | None = None

    def show(
        self,
        tone: str,
        title: str,
        body: str,
        *,
        args: dict[str, str] | None = None,
        primary: tuple[str, Callable[[], None]] | None = None,
        secondary: tuple[str, Callable[[], None]] | None = None,
        home: bool = True,
        timeout: float = -1,
        wait_for_host: tuple[str, str] | None = None,
    ) -> None:
        self.tone, self.title_id, self.body_id, self.args = tone, title, body, dict(args or {})
        self.primary_id, self.primary_action = primary if primary else ("", None)
        self.secondary_id, self.secondary_action = secondary if secondary else ("", None)
        self.home = home
        self.idle_timeout = timeout
        self.on_language(self.app.language)
        self.stop_waiting()
        if wait_for_host is not None:
            self.waiting_for, self.waiting_ref = wait_for_host
            self._start_polling()

    def show_told(
        self,
        visit_ref: str,
        words: Callable[[HostNotice], flow.Words],
        *,
        home: bool = True,
        timeout: float = -1,
        wait_for_host: tuple[str, str] | None = None,
    ) -> None:
        """A notice about who was told of the visit, in `words`; re-read every poll until
        it is final (sent, or nobody to tell), so "told" appears only once it is true."""
        notice = self._read_notice(visit_ref)
        tone, title, body, args = words(notice)
        self.show(
            tone, title, body, args=args, home=home, timeout=timeout, wait_for_host=wait_for_host
        )
        if notice.state not in FINAL_NOTICES:
            self._told_ref, self._told_words = visit_ref, words
            self._start_polling()

    def _read_notice(self, visit_ref: str) -> HostNotice:
        try:
            notice: HostNotice = self.services.host_notice(visit_ref)
        except KioskError:
            log.exception("reading how the host was told failed")
            return HostNotice("sending")
        return notice

    def _start_polling(self) -> None:
        if self._poll is None:
            self._poll = Clock.schedule_interval(self.poll_host, HOST_POLL_SECONDS)

    def on_leave(self, *_args: object) -> None:
        self.stop_waiting()

    def reset(self) -> None:
        self.stop_waiting()

    def stop_waiting(self) -> None:
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None
        self.waiting_for = self.waiting_ref = ""
        self._told_ref, self._told_words = "", None

    def poll_host(self, *_args: object) -> None:
        """Has the host been told, and have they answered? Quick reads, every 2 s."""
        if self._told_ref and self._told_words is not None:
            notice = self._read_notice(self._told_ref)
            tone, title, body, args = self._told_words(notice)
            if (tone, title, body, args) != (self.tone, self.title_id, self.body_id, self.args):
                self.tone, self.title_id, self.body_id, self.args = tone, title, body, dict(args)
                self.on_language(self.app.language)
            if notice.state in FINAL_NOTICES:
                self._told_ref, self._told_words = "", None
        if not self.waiting_ref:
            if not self._told_ref and self._poll is not None:
                self._poll.cancel()
                self._poll = None
            return
        try:
            answer = self.services.host_response(self.waiting_ref)
        except KioskError:
            log.exception("reading the host's answer failed")
            return
        if answer is None:
            return
        waiting_for, visit_ref = self.waiting_for, self.waiting_ref
        self.stop_waiting()
        if answer.kind == "denied":
            self.app.notice("warn", flow.SEE_RECEPTION, N_("A member of staff will help you."))
        elif waiting_for == "approval":
            self.app.screen("printing").print_approved(visit_ref)
        else:
            name = answer.responder_name
            self.show(
                "ok",
                N_("{host} is on the way") if name else N_("Reception is on the way"),
                N_("Please take a seat. You will be met here."),
                args={"host": name},
                home=self.home,
                timeout=self.idle_timeout,
            )

    def on_language(self, language: str) -> None:
        args = {
            key: translate(value, language) if isinstance(value, flow.Phrase) else value
            for key, value in self.args.items()
        }
        self.title = translate(self.title_id, language).format(**args) if self.title_id else ""
        self.body = translate(self.body_id, language).format(**args) if self.body_id else ""

    def press(self, which: str) -> None:
        action = self.primary_action if which == "primary" else self.secondary_action
        if action is not None:
            action()


class PrintingScreen(KioskScreen):
    """Submits the check-in, then prints the badge and says what happens next."""

    stage = StringProperty("checking")  # checking | printing

    #: The visit to print a badge for without checking in (a walk-in just approved).
    _approved_ref = ""
    _approved = False

    def on_enter(self, *_args: object) -> None:
        self.idle_timeout = 0
        self._approved = bool(self._approved_ref)
        if self._approved_ref:
            self.journey.visit_ref, self._approved_ref = self._approved_ref, ""
            self.print_badge()
            return
        self.stage = "checking"
        Clock.schedule_once(lambda _dt: self.submit(), 0)

    def print_approved(self, visit_ref: str) -> None:
        """The host approved the walk-in waiting on the notice screen: print the badge."""
        self._approved_ref = visit_ref
        self.app.go("printing")

    def submit(self) -> None:
        app, journey = self.app, self.journey
        form, captured = journey.form, journey.captured
        try:
            if journey.way == "invitation":
                done = self.services.check_in_with_invitation(
                    journey.token, captured, proceed_if_absent=journey.proceed_if_absent
                )
            elif journey.way == "appointment":
                done = self.services.check_in_appointment(
                    journey.appointment_ref,
                    form,
                    captured,
                    proceed_if_absent=journey.proceed_if_absent,
                )
            else:
                done = self.services.check_in_walk_in(
                    form, captured, proceed_if_absent=journey.proceed_if_absent
                )
        except TokenRejected as err:
            app.notice("warn", *flow.INVITATION_REJECTED[err.reason], home=True)
            return
        except CheckInRefused as err:
            title, body = flow.CHECK_IN_REFUSED[err.reason]
            if err.reason is RefusalReason.HOST_UNKNOWN:
                app.notice(
                    "warn", title, body, primary=(N_("Choose again"), lambda: app.go("host"))
                )
            else:
                app.notice("warn", title, body, home=True)
            return
        except InvalidInput as err:
            log.info("check-in input refused: %s", err.field)
            screen = "visitor" if err.field in ("name", "company", "phone") else "details"
            app.go(screen)
            app.screen(screen).field_problem(err)
            return
        except KioskError:
            log.exception("check-in failed")
            app.notice("warn", flow.SEE_RECEPTION, N_("A member of staff will help you."))
            return
        self.outcome(done)

    def outcome(self, done: CheckInDone) -> None:
        app, journey = self.app, self.journey
        journey.host_name = done.host_name or journey.host_name
        if done.outcome == "host_absent":  # gone out since they were chosen
            app.offer_absent_host(lambda: app.go("printing"))
            return
        if done.outcome == "awaiting_approval":
            journey.visit_ref = done.visit_ref or ""
            host_name = journey.host_name
            app.screen("notice").show_told(
                journey.visit_ref,
                lambda notice: flow.approval_words(notice, host_name),
                home=True,
                timeout=APPROVAL_WAIT_SECONDS,
                wait_for_host=("approval", journey.visit_ref) if journey.visit_ref else None,
            )
            app.go("notice")
            return
        journey.visit_ref = done.visit_ref or ""
        self.print_badge()

    def print_badge(self) -> None:
        self.stage = "printing"
        self.services.print_badge(
            self.journey.visit_ref,
            lambda printed: later(lambda: self.printed(printed)),
            self.app.language,
        )

    def printed(self, printed: bool) -> None:
        app, journey = self.app, self.journey
        if self.manager is None or self.manager.current != self.name:
            return
        approved, self._approved = self._approved, False
        if printed and approved:  # the host has answered already
            app.notice(
                "ok",
                N_("{host} has approved your visit"),
                N_("Please take your badge and take a seat."),
                args={"host": journey.host_name or self.t(N_("Reception"))},
                home=True,
                timeout=15,
            )
        elif printed:
            host_name = journey.host_name
            app.screen("notice").show_told(
                journey.visit_ref,
                lambda notice: flow.arrival_words(notice, host_name),
                home=True,
                timeout=15,
                wait_for_host=("arrival", journey.visit_ref),
            )
            app.go("notice")
        else:
            app.notice(
                "warn",
                N_("You are checked in"),
                N_("Your badge could not be printed. Please see reception for your badge."),
                home=True,
                timeout=20,
            )


class MessageScreen(FormScreen):
    """The host is away: the visitor's contact details and a message for the host."""

    host_name = StringProperty("")

    def on_pre_enter(self, *_args: object) -> None:
        self.host_name = self.journey.host_name
        self.ids.contact.text = self.journey.form.phone
        self.ids.message.text = ""
        self.say("")
        self.focus_first("contact")

    def send(self) -> None:
        contact = self.ids.contact.text.strip()
        if not contact:
            self.say(N_("Please type a phone number or e-mail address."))
            return
        form = self.journey.form
        if not form.host_ref:
            self.app.notice("warn", flow.SEE_RECEPTION, N_("A member of staff will help you."))
            return
        try:
            self.services.leave_message(form, contact, self.ids.message.text)
        except InvalidInput as err:
            self.field_problem(err)
            return
        self.app.notice(
            "ok",
            N_("Your message is on its way"),
            N_("{host} will contact you. Thank you for your visit."),
            args={"host": self.host_name},
            home=True,
            timeout=15,
        )
