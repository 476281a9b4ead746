"""The first screens of every visit: the greeting with the visitor's choices, and the camera
that reads invitations, identity documents and badges (for check-out and the guard).
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty

from kiosk.domain.errors import (
    AlreadyCheckedOut,
    KioskError,
    NotFound,
    RejectReason,
    TokenRejected,
)
from kiosk.ui import card_reader, flow
from kiosk.ui.flow import N_
from kiosk.ui.opening_status import CLOSED, opening_status
from kiosk.ui.screens.base import PREVIEW_FPS, KioskScreen, clock_time
from kiosk.ui.services import ScannedCode, VisitorForm
from kiosk.ui.widgets import later

log = logging.getLogger(__name__)

#: How long the welcome screen says why a card laid on the reader was not read.
CARD_PROBLEM_SECONDS = 8.0


class WelcomeScreen(KioskScreen):
    """The greeting, opening status and the visitor's choices."""

    site_name = StringProperty("")
    greeting = StringProperty("")
    status_known = BooleanProperty(False)
    is_open = BooleanProperty(False)
    #: What the status line says a visitor can do now (kiosk.ui.opening_status): plain
    #: properties, as a .kv rule does not follow a dataclass's fields.
    admits_everyone = BooleanProperty(False)
    status_id, status_note_id = StringProperty(CLOSED.label_id), StringProperty("")
    closed_message = StringProperty("")
    figures_available = BooleanProperty(True)
    #: Walk-ins are refused now (after hours, unless the site admits everyone).
    walk_in_closed = BooleanProperty(False)
    #: Why the card just laid on the ID card reader was not read (message ids), for a while.
    card_title = StringProperty("")
    card_body = StringProperty("")

    def on_kv_post(self, _base: object) -> None:
        self.idle_timeout = 0
        self.site_name = self.services.site_name

    # The reader stops as a screen starts to leave and starts once the next one is in
    # (Kivy: in.on_pre_enter, out.on_pre_leave, in.on_enter, out.on_leave), so the document
    # screen opened from here keeps polling.
    def on_enter(self, *_args: object) -> None:
        card_reader.start_polling(self)

    def on_pre_leave(self, *_args: object) -> None:
        self.services.stop_card_reader()
        self.card_title = self.card_body = ""

    def show_card_problem(self, title: str, body: str) -> None:
        self.card_title, self.card_body = title, body
        Clock.unschedule(self._forget_card_problem)
        Clock.schedule_once(self._forget_card_problem, CARD_PROBLEM_SECONDS)

    def _forget_card_problem(self, *_args: object) -> None:
        self.card_title = self.card_body = ""

    def on_language(self, language: str) -> None:
        self.greeting = self.services.greeting(language)
        self.closed_message = self.services.closed_message(language)

    def refresh_summary(self, *_args: object) -> None:
        try:
            summary = self.services.today_summary()
        except KioskError as err:
            # Said in one line: the engine gone (its link says why: at a stop, before the
            # touchscreen's own signal is handled on a busy kiosk) or the database's error.
            log.warning("today's summary could not be read: %s", err)
            self.figures_available = False
            return
        except Exception:
            log.exception("today's summary could not be read")
            self.figures_available = False
            return
        self.figures_available = True
        self.is_open = summary.is_open
        opening = opening_status(summary.is_open, self.services.after_hours)
        self.admits_everyone, self.status_id = opening.admits_everyone, opening.label_id
        self.status_note_id = opening.note_id
        self.status_known = True
        self.walk_in_closed = not summary.is_open and self.services.after_hours != "open"

    def start(self, way: str) -> None:
        app = self.app
        app.begin()
        if way == "invitation":
            app.go("scan", mode="invitation")
        elif way == "id":
            app.go("scan", mode="id")
        elif way == "checkout":
            app.go("scan", mode="checkout")
        elif way == "issue":  # a case (issue 19), at any hour: reports need no host
            app.screen("cases").start_report()
            app.go("cases")
        elif way == "walk_in":
            if self.walk_in_closed and self.services.after_hours == "closed":
                app.notice("warn", N_("Reception is closed"), self.closed_message_id(), home=True)
                return
            if self.walk_in_closed:
                app.notice(
                    "warn",
                    N_("Reception is closed"),
                    N_(
                        "Visitors without an appointment can check in during opening hours. "
                        "If you have an invitation, you can check in now."
                    ),
                    primary=(N_("I have an invitation"), lambda: app.go("scan", mode="invitation")),
                    home=True,
                )
                return
            app.go("visitor")
        elif way == "staff":
            app.go("pin")
        elif way in ("delivery", "collect"):  # kiosk.ui.screens.deliveries
            app.go("delivery_recipient" if way == "delivery" else "parcel_code")

    def closed_message_id(self) -> str:
        return N_("Please see security at the entrance.")


class ScanScreen(KioskScreen):
    """The camera with a guide frame, for invitations, identity documents and badges."""

    mode = StringProperty("invitation")  # invitation | id | checkout | guard
    hint = StringProperty("")
    problem_title = StringProperty("")
    problem_body = StringProperty("")
    busy = BooleanProperty(False)
    _preview: Any = None

    def on_pre_enter(self, *_args: object) -> None:
        self.problem_title = self.problem_body = ""
        self.busy = False
        self.services.start_camera(lambda code: later(lambda: self.code_seen(code)))
        self._preview = Clock.schedule_interval(self.update_preview, 1 / PREVIEW_FPS)

    def on_enter(self, *_args: object) -> None:
        if self.mode == "id":  # see WelcomeScreen.on_enter
            card_reader.start_polling(self)

    def on_pre_leave(self, *_args: object) -> None:
        self.services.stop_card_reader()

    def show_card_problem(self, title: str, body: str) -> None:
        self._problem(title, body)

    def on_leave(self, *_args: object) -> None:
        if self._preview is not None:
            self._preview.cancel()
            self._preview = None
        self.services.stop_camera()
        # The last picture is someone's face or document, and a texture's memory.
        self.ids.camera.texture = None

    def update_preview(self, *_args: object) -> None:
        self.ids.camera.show(self.services.preview_frame())

    def code_seen(self, code: ScannedCode) -> None:
        if self.manager is None or self.manager.current != self.name or self.busy:
            return
        self.app.touched()  # a code shown is the visitor doing something
        if code.kind == "case_receipt" and self.mode != "guard":  # routed by its kind
            self._case_receipt(code)
            return
        handler = {
            "invitation": self._invitation,
            "id": self._identity,
            "checkout": self._checkout,
            "guard": self._guard,
            "parcel": self._parcel,
        }[self.mode]
        handler(code)

    def _problem(self, title: str, body: str) -> None:
        self.problem_title, self.problem_body = title, body

    def _parcel(self, code: ScannedCode) -> None:
        from kiosk.ui.screens.deliveries import parcel_scanned

        if code.kind != "parcel":
            self._problem(
                N_("This is not a pickup code"),
                N_("Please show the QR code from your parcel message."),
            )
            return
        parcel_scanned(self, code)

    def _invitation(self, code: ScannedCode) -> None:
        if code.kind == "parcel":  # a pickup QR shown where invitations are
            self._parcel(code)
            return
        if code.kind == "badge":
            self._problem(*flow.INVITATION_REJECTED[RejectReason.WRONG_KIND])
            return
        if code.kind != "invitation":
            self._problem(
                N_("This is not an invitation"),
                N_("Please show the QR code from your invitation."),
            )
            return
        try:
            preview = self.services.preview_invitation(code.text)
        except TokenRejected as err:
            self._problem(*flow.INVITATION_REJECTED[err.reason])
            return
        journey = self.journey
        journey.way, journey.token = "invitation", code.text
        journey.form = VisitorForm(
            name=preview.visitor_name, host_name=preview.host_name, host_ref=preview.host_ref
        )
        journey.steps = preview.steps
        journey.host_name = preview.host_name
        journey.plan()
        if not preview.host_available:
            self.app.offer_absent_host(self.app.advance)
            return
        self.app.notice(
            "ok",
            N_("Welcome, {name}"),
            N_("{host} expects you at {time}.") if preview.starts_at else N_("{host} expects you."),
            args={
                "name": preview.visitor_name,
                "host": preview.host_name,
                "time": clock_time(preview.starts_at),
            },
            primary=(N_("Continue"), self.app.advance),
            home=True,
        )

    def _case_receipt(self, code: ScannedCode) -> None:
        cases = self.app.screen("cases")
        if cases.start_status(code.text):
            self.app.go("cases")
        elif self.manager.current == self.name:
            self._problem(
                N_("We could not read this receipt"),
                N_("Please see reception with your case number."),
            )

    def _identity(self, code: ScannedCode) -> None:
        if code.kind == "unreadable_document":
            self._problem(
                N_("We could not read your document"),
                N_("Please try again, or type your identity number instead."),
            )
            return
        if code.kind != "document" or code.document is None:
            self._problem(
                N_("This is not an identity document"),
                N_("Show the barcode of your driving licence, or the code lines of your passport."),
            )
            return
        form = self.journey.form
        document = code.document
        form.name = document.name
        form.document_hash = document.document_hash
        form.document_last4 = document.document_last4
        form.document_expired = document.expired
        self.app.find_appointment()

    def _checkout(self, code: ScannedCode) -> None:
        if code.kind != "badge":
            self._problem(
                N_("This is not a visitor badge"),
                N_("Please show the QR code on your badge, or search by your name."),
            )
            return
        try:
            visit_ref = self.services.check_out_with_badge(code.text)
        except AlreadyCheckedOut as err:  # nothing recorded, and no second rating
            self.app.already_checked_out(err)
            return
        except TokenRejected as err:
            if err.reason is RejectReason.WRONG_KIND:
                self._problem(N_("This is an invitation"), N_("Please show your visitor badge."))
            else:
                self._problem(N_("We could not read this badge"), N_("Please search by your name."))
            return
        except NotFound:
            self._problem(N_("We could not find your visit"), N_("Please search by your name."))
            return
        self.journey.visit_ref = visit_ref
        self.app.go("rating")

    def _guard(self, code: ScannedCode) -> None:
        verdict = self.app.screen("verdict")
        try:
            badge = self.services.verify_badge(code.text)
        except TokenRejected as err:
            verdict.show_invalid(flow.BADGE_INVALID.get(err.reason, N_("Not a badge")))
        else:
            verdict.show_valid(badge)
        self.app.go("verdict")
