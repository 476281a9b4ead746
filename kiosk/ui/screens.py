"""The screens. Each has its own `.kv` file of the same name; this module is their logic.

Screens call the services (`self.services`, a `kiosk.ui.services.KioskServices`) and ask
the App to move on (`self.app.go(name)`). Results from device threads (codes seen by the
camera, a badge printed) come back through `later()`, on the UI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.lang import global_idmap
from kivy.properties import (
    BooleanProperty,
    DictProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.screenmanager import Screen

from kiosk.domain.errors import (
    AlreadyCheckedOut,
    AlreadyRated,
    CheckInRefused,
    InvalidInput,
    KioskError,
    NotFound,
    RefusalReason,
    RejectReason,
    TokenRejected,
)
from kiosk.domain.values import Purpose
from kiosk.ui import card_reader, flow
from kiosk.ui.flow import N_, Journey
from kiosk.ui.i18n import translate
from kiosk.ui.opening_status import CLOSED, opening_status
from kiosk.ui.services import (
    AppointmentView,
    CheckInDone,
    HostNotice,
    KioskServices,
    ScannedCode,
    VisitorForm,
)
from kiosk.ui.theme import text_size
from kiosk.ui.widgets import later, texture_from_jpeg

log = logging.getLogger(__name__)

#: How often a camera preview is refreshed, in frames a second.
PREVIEW_FPS = 12.0
#: How often a notice waiting for the host asks whether they answered, in seconds.
HOST_POLL_SECONDS = 2.0
#: How long a walk-in waits on the screen for the host's approval before it goes home.
APPROVAL_WAIT_SECONDS = 120.0
#: How often the guard's on-site list is read again while it is shown, in seconds.
GUARD_REFRESH_SECONDS = 3.0
NO_FIGURE = "–"
#: How long the welcome screen says why a card laid on the reader was not read.
CARD_PROBLEM_SECONDS = 8.0
#: Notices about who was told that will not change any more.
FINAL_NOTICES = frozenset({"sent", "nobody"})


def make(kind: str, **properties: Any) -> Any:
    """A widget of a .kv dynamic class; their own properties cannot go to __init__."""
    widget = Factory.get(kind)()
    for key, value in properties.items():
        setattr(widget, key, value)
    return widget


def clock_time(moment: datetime | None) -> str:
    return moment.strftime("%H:%M") if moment else NO_FIGURE


class KioskScreen(Screen):
    """Base of every screen: the services, the App, and wiping what was typed."""

    services: Any = ObjectProperty(None)
    #: Seconds without a touch before the kiosk returns to the welcome screen; 0: never.
    idle_timeout = NumericProperty(-1)

    @property
    def app(self) -> Any:
        return App.get_running_app()

    @property
    def journey(self) -> Journey:
        journey: Journey = self.app.journey
        return journey

    def t(self, message: str) -> str:
        return translate(message, self.app.language)

    def reset(self) -> None:
        """Forget everything typed or shown (idle timeout, cancel, end of a visit)."""

    def on_language(self, language: str) -> None:
        """The language changed while this screen is shown or kept."""


# ---------------------------------------------------------------------------- welcome


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
        elif way == "issue" or way == "walk_in":
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
            self.journey.issue = way == "issue"
            if self.journey.issue:
                self.journey.form.purpose = Purpose.COMPLAINT
            app.go("visitor")
        elif way == "staff":
            app.go("pin")

    def closed_message_id(self) -> str:
        return N_("Please see security at the entrance.")


# ---------------------------------------------------------------------------- scanning


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
        handler = {
            "invitation": self._invitation,
            "id": self._identity,
            "checkout": self._checkout,
            "guard": self._guard,
        }[self.mode]
        handler(code)

    def _problem(self, title: str, body: str) -> None:
        self.problem_title, self.problem_body = title, body

    def _invitation(self, code: ScannedCode) -> None:
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


# ---------------------------------------------------------------------------- notices


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


# ---------------------------------------------------------------------------- walk-in


class FormScreen(KioskScreen):
    """A screen with fields typed on its OnScreenKeyboard (`ids.keyboard`)."""

    error = StringProperty("")
    error_id = StringProperty("")

    def on_leave(self, *_args: object) -> None:
        keyboard = self.ids.get("keyboard")
        if keyboard is not None:
            keyboard.commit_composing()

    def say(self, message: str) -> None:
        self.error_id = message
        self.error = self.t(message) if message else ""

    def on_language(self, language: str) -> None:
        self.error = translate(self.error_id, language) if self.error_id else ""
        keyboard = self.ids.get("keyboard")
        if keyboard is not None:
            keyboard.script = "traditional" if language == "zh_Hant" else "simplified"

    def field_problem(self, err: InvalidInput) -> None:
        label = flow.FIELD_LABELS.get(err.field)
        self.error_id = ""
        if label:
            self.error = self.t(N_("Please check: {field}")).format(field=self.t(label))
        else:
            self.error = self.t(N_("Please check what you typed."))

    def reset(self) -> None:
        self.say("")
        for widget in self.walk(restrict=True):
            if widget.__class__.__name__ == "KField":
                widget.text = ""
                widget.focus = False
        keyboard = self.ids.get("keyboard")
        if keyboard is not None:
            keyboard.reset()

    def focus_first(self, field_id: str) -> None:
        # The field itself, not the ids' weak proxy: a theme switch may drop this screen
        # before the next frame, and focusing a dropped field is harmless.
        field = self.ids[field_id].__self__
        Clock.schedule_once(lambda _dt: setattr(field, "focus", True), 0)


class VisitorScreen(FormScreen):
    """Who the visitor is: name, company, phone (filled in from a document if read)."""

    def on_pre_enter(self, *_args: object) -> None:
        form = self.journey.form
        self.ids.name.text, self.ids.company.text = form.name, form.company
        self.ids.phone.text = form.phone
        self.ids.name.readonly = form.name_from_card  # read off an identity card
        self.say("")
        self.focus_first("company" if form.name_from_card else "name")

    def next(self) -> None:
        name = self.ids.name.text.strip()
        if not name:
            self.say(N_("Please type your name."))
            return
        form = self.journey.form
        form.name, form.company = name, self.ids.company.text.strip()
        form.phone = self.ids.phone.text.strip()
        self.app.go("host")


class SearchScreen(FormScreen):
    """A query box and a list of results to tap: subclasses say how to search, how a
    result reads (`describe`: title and subtitle) and what choosing one does."""

    results = ListProperty([])

    def on_pre_enter(self, *_args: object) -> None:
        self.ids.query.text = ""
        self.results = []
        self.say("")
        self.focus_first("query")

    def describe(self, result: Any) -> tuple[str, str]:
        raise NotImplementedError

    def choose(self, index: int) -> None:
        raise NotImplementedError

    def on_results(self, *_args: object) -> None:
        box = self.ids.results
        box.clear_widgets()
        for index, result in enumerate(self.results):
            title, subtitle = self.describe(result)
            row = make("HostResult", index=index, host_name=title, department=subtitle)
            row.bind(on_release=lambda button: self.choose(button.index))
            box.add_widget(row)

    def reset(self) -> None:
        super().reset()
        self.results = []


class HostScreen(SearchScreen):
    """Whom the visitor comes to see: search as you type, by name, pinyin or department."""

    def search(self, query: str) -> None:
        query = query.strip()
        try:
            self.results = self.services.search_hosts(query) if query else []
        except KioskError:
            log.exception("host search failed")
            self.results = []

    def describe(self, result: Any) -> tuple[str, str]:
        return result.name, result.department

    def choose(self, index: int) -> None:
        host = self.results[index]
        journey = self.journey
        journey.form.host_ref, journey.form.host_name = host.ref, host.name
        journey.host_name = host.name
        journey.proceed_if_absent = False
        if host.available:
            self.app.go("details")
        else:  # said now, before the visitor fills in anything else
            self.app.offer_absent_host(lambda: self.app.go("details"))


class DetailsScreen(FormScreen):
    """Purpose (the site's common ones, the rest under "More"), companions and items
    declared. No visitor level: that is the appointment's, the host's or staff's."""

    purposes = ListProperty([])
    purpose = StringProperty(Purpose.VISIT_PERSON.value)
    companions = NumericProperty(0)
    #: The visitor asked for every purpose, not only the common ones.
    showing_all = BooleanProperty(False)

    def on_pre_enter(self, *_args: object) -> None:
        journey = self.journey
        form = journey.form
        if journey.issue:
            offered = list(flow.ISSUE_PURPOSES)
        else:
            common = [Purpose(p) for p in self.services.common_purposes]
            rest = [p for p in flow.VISIT_PURPOSES if p not in common]
            chosen_elsewhere = form.purpose in rest
            offered = [*common, *rest] if self.showing_all or chosen_elsewhere else common
            self.showing_all = self.showing_all or chosen_elsewhere
        self.purposes = [p.value for p in offered]
        wanted = form.purpose.value
        self.purpose = wanted if wanted in self.purposes else self.purposes[0]
        self.companions = form.companions
        self.ids.declared.text = form.items_declared
        self.say("")

    def show_all(self) -> None:
        self.showing_all = True
        self.on_pre_enter()

    def on_purposes(self, *_args: object) -> None:
        grid = self.ids.purposes
        grid.clear_widgets()
        for purpose in self.purposes:
            choice = Factory.Choice(text=self.t(flow.PURPOSE_LABELS[Purpose(purpose)]))
            choice.purpose = purpose
            choice.chosen = purpose == self.purpose
            choice.bind(on_release=lambda button: setattr(self, "purpose", button.purpose))
            grid.add_widget(choice)
        if not self.journey.issue and not self.showing_all:
            more = Factory.Choice(text=self.t(N_("More…")))
            more.purpose = ""
            more.bind(on_release=lambda _button: self.show_all())
            grid.add_widget(more)

    def on_purpose(self, *_args: object) -> None:
        for choice in self.ids.purposes.children:
            choice.chosen = bool(choice.purpose) and choice.purpose == self.purpose

    def on_language(self, language: str) -> None:
        super().on_language(language)
        for choice in self.ids.purposes.children:
            label = flow.PURPOSE_LABELS[Purpose(choice.purpose)] if choice.purpose else N_("More…")
            choice.text = translate(label, language)

    def next(self) -> None:
        journey = self.journey
        form = journey.form
        form.purpose = Purpose(self.purpose)
        form.companions = int(self.companions)
        form.items_declared = self.ids.declared.text.strip()
        journey.way = "appointment" if journey.appointment_ref else "walk_in"
        journey.steps = self.services.steps_for(form.purpose)
        journey.plan()
        self.app.advance()

    def reset(self) -> None:
        super().reset()
        self.companions = 0
        self.showing_all = False


class IdNumberScreen(FormScreen):
    """A typed identity number (GB 11643) and the name on the card."""

    def on_pre_enter(self, *_args: object) -> None:
        self.ids.number.text = ""
        self.ids.name.text = ""
        self.say("")
        self.focus_first("number")

    def next(self) -> None:
        try:
            document = self.services.read_id_number(self.ids.number.text.strip())
        except InvalidInput:
            self.say(N_("This identity number is not valid. Please check each digit."))
            return
        name = self.ids.name.text.strip()
        if not name:
            self.say(N_("Please type your name."))
            return
        form = self.journey.form
        form.name = name
        form.document_hash, form.document_last4 = document.document_hash, document.document_last4
        form.document_expired = document.expired
        self.app.find_appointment()


class MatchesScreen(KioskScreen):
    """Several of today's appointments match the visitor: they choose theirs by host."""

    matches = ListProperty([])

    def show(self, matches: list[AppointmentView]) -> None:
        self.matches = matches

    def on_matches(self, *_args: object) -> None:
        box = self.ids.list
        box.clear_widgets()
        for index, match in enumerate(self.matches):
            button = Factory.KButton(text=f"{match.host_name} · {clock_time(match.starts_at)}")
            button.index = index
            button.bind(on_release=lambda b: self.choose(b.index))
            box.add_widget(button)
        box.add_widget(Factory.Widget())

    def choose(self, index: int) -> None:
        self.app.appointment_found(self.matches[index])

    def none_of_these(self) -> None:
        self.app.go("visitor")

    def reset(self) -> None:
        self.matches = []


# ---------------------------------------------------------------------------- per visitor type


class AgreementScreen(KioskScreen):
    """The agreement, in the visitor's language, and a signature pad."""

    agreement_title = StringProperty("")
    agreement_text = StringProperty("")
    signed = BooleanProperty(False)

    def on_pre_enter(self, *_args: object) -> None:
        self.ids.pad.clear()
        self.signed = False
        self.on_language(self.app.language)

    def on_language(self, language: str) -> None:
        agreement_id = self.journey.steps.agreement_id
        if agreement_id:
            agreement = self.services.agreement(agreement_id, language)
            self.agreement_title, self.agreement_text = agreement.title, agreement.text

    def stroke(self) -> None:
        self.signed = self.ids.pad.signed

    def clear(self) -> None:
        self.ids.pad.clear()
        self.signed = False

    def accept(self) -> None:
        if not self.ids.pad.signed:
            return
        captured = self.journey.captured
        captured.signature_png = self.ids.pad.png()
        captured.agreement_language = self.app.language
        self.app.advance()

    def reset(self) -> None:
        self.ids.pad.clear()
        self.signed = False


class PhotoScreen(KioskScreen):
    """A photo for the badge: a countdown, the picture, and a retake."""

    countdown = NumericProperty(0)
    #: Seconds counted down before the picture is taken.
    countdown_from = NumericProperty(3)
    taken = BooleanProperty(False)
    failed = BooleanProperty(False)
    _preview: Any = None
    _tick: Any = None
    _jpeg: bytes | None = None

    def on_pre_enter(self, *_args: object) -> None:
        self.retake()
        self.services.start_camera(lambda _code: None)
        self._preview = Clock.schedule_interval(self.update_preview, 1 / PREVIEW_FPS)

    def on_leave(self, *_args: object) -> None:
        for event in (self._preview, self._tick):
            if event is not None:
                event.cancel()
        self._preview = self._tick = None
        self.services.stop_camera()
        self.ids.camera.texture = None  # the visitor's face, and a texture's memory

    def update_preview(self, *_args: object) -> None:
        if not self.taken:
            self.ids.camera.show(self.services.preview_frame())

    def start_countdown(self) -> None:
        if self.countdown or self.taken:
            return
        self.countdown = self.countdown_from
        self._tick = Clock.schedule_interval(self._count, 1.0)

    def _count(self, *_args: object) -> None:
        self.countdown -= 1
        if self.countdown > 0:
            return
        self._tick.cancel()
        self._tick = None
        self._jpeg = self.services.take_photo()
        self.failed = self._jpeg is None
        texture = texture_from_jpeg(self._jpeg)
        if texture is not None:
            self.ids.photo.texture = texture
        self.taken = self._jpeg is not None

    def retake(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        self.countdown, self.taken, self.failed, self._jpeg = 0, False, False, None
        self.ids.photo.texture = None

    def use(self) -> None:
        if self._jpeg is None:
            return
        self.journey.captured.photo_jpeg = self._jpeg
        self.app.advance()

    def reset(self) -> None:
        self.retake()


# ---------------------------------------------------------------------------- check-in and badge


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


# ---------------------------------------------------------------------------- check-out


class CheckoutScreen(SearchScreen):
    """Check-out without a badge: find yourself by name among the people on site."""

    def search(self, query: str) -> None:
        query = query.strip()
        if len(query) < 2:
            self.results = []
            return
        try:
            self.results = self.services.find_on_site(query)[:6]
        except InvalidInput:
            self.results = []

    def describe(self, result: Any) -> tuple[str, str]:
        return result.visitor_name, f"{result.host_name} · {clock_time(result.arrived_at)}"

    def choose(self, index: int) -> None:
        entry = self.results[index]
        try:
            self.services.check_out(entry.visit_ref)
        except AlreadyCheckedOut as err:  # checked out meanwhile (a badge, another kiosk)
            self.app.already_checked_out(err)
            return
        self.journey.visit_ref = entry.visit_ref
        self.app.go("rating")


class RatingScreen(FormScreen):
    """How was the visit, 1 to 5, with an optional comment."""

    score = NumericProperty(0)

    def on_pre_enter(self, *_args: object) -> None:
        self.score = 0
        self.ids.comment.text = ""
        self.say("")

    def send(self) -> None:
        if self.score:
            try:
                self.services.rate_visit(
                    self.journey.visit_ref, int(self.score), self.ids.comment.text
                )
            except InvalidInput as err:
                self.field_problem(err)
                return
            except AlreadyRated:  # the first rating stands; thank them all the same
                log.info("visit already rated; the second rating was not stored")
            except KioskError:
                log.exception("the rating could not be recorded")
        self.thank()

    def thank(self) -> None:
        self.app.notice(
            "ok",
            N_("Thank you for your visit"),
            N_("You are checked out. Please leave your badge in the box. Goodbye!"),
            home=True,
            timeout=10,
        )

    def reset(self) -> None:
        super().reset()
        self.score = 0


# ---------------------------------------------------------------------------- staff


class PinScreen(KioskScreen):
    """The guard's or the admin's PIN, on a keypad; locked after repeated failures."""

    role = StringProperty("guard")
    digits = StringProperty("")
    message_id = StringProperty("")
    message = StringProperty("")
    args = DictProperty({})

    def on_pre_enter(self, *_args: object) -> None:
        self.digits = ""
        self.set_message("")

    def set_message(self, message: str, **args: str) -> None:
        self.message_id, self.args = message, args
        self.on_language(self.app.language)

    def on_language(self, language: str) -> None:
        self.message = (
            translate(self.message_id, language).format(**self.args) if self.message_id else ""
        )

    def press(self, key: str) -> None:
        if key == "back":
            self.digits = self.digits[:-1]
        elif key == "ok":
            self.submit()
        elif len(self.digits) < 12:
            self.digits += key

    def submit(self) -> None:
        result = self.services.check_pin(self.role, self.digits)
        self.digits = ""
        if result.ok:
            self.app.go("guard" if self.role == "guard" else "admin")
        elif result.not_set:
            self.set_message(N_("No PIN has been set for this role on this kiosk."))
        elif result.locked_for_s:
            self.set_message(
                N_("Too many wrong PINs. Try again in {minutes} min."),
                minutes=str(max(1, round(result.locked_for_s / 60))),
            )
        else:
            self.set_message(N_("Wrong PIN. {left} tries left."), left=str(result.attempts_left))

    def reset(self) -> None:
        self.digits = ""
        self.set_message("")


class GuardScreen(KioskScreen):
    """Guard mode: scan badges, everyone on site (synced or not), roll call, alerts.

    The list is the one `kiosk onsite` prints and the roll call prints (the engine's
    `on_site`), read again every GUARD_REFRESH_SECONDS while the screen is shown: a
    check-in or check-out here or at another kiosk shows without a touch.
    """

    # Not `on_site`: Kivy takes a name starting with "on_" for an event, and a property
    # of that name never dispatches (the list was drawn only when something else redrew).
    visitors = ListProperty([])
    alerts = ListProperty([])
    status_id = StringProperty("")
    status = StringProperty("")
    _refreshing: Any = None

    def on_pre_enter(self, *_args: object) -> None:
        self.refresh()
        self._refreshing = Clock.schedule_interval(self.refresh, GUARD_REFRESH_SECONDS)

    def on_leave(self, *_args: object) -> None:
        if self._refreshing is not None:
            self._refreshing.cancel()
            self._refreshing = None

    def refresh(self, *_args: object) -> None:
        try:
            visitors, alerts = self.services.on_site(), self.services.recent_alerts()[:20]
        except KioskError:  # keep what is shown; the next round tries again
            log.exception("reading who is on site failed")
            return
        if visitors != self.visitors:
            self.visitors = visitors
        if alerts != self.alerts:
            self.alerts = alerts

    def on_visitors(self, *_args: object) -> None:
        box = self.ids.visitors
        box.clear_widgets()
        standalone = not self.services.syncs_with_office()
        for entry in self.visitors:
            row = Factory.Row()
            row.add_widget(Factory.Cell(text=entry.visitor_name or NO_FIGURE))
            row.add_widget(Factory.Cell(text=entry.host_name or NO_FIGURE))
            row.add_widget(Factory.Cell(text=clock_time(entry.arrived_at), size_hint_x=0.4))
            if not standalone:  # a kiosk without an office has nothing to sync
                flag = Factory.Cell(text="" if entry.synced else self.t(N_("not synced")))
                flag.size_hint_x, flag.color = 0.6, global_idmap["MUTED"]
                flag.synced_flag = True
                row.add_widget(flag)
            box.add_widget(row)

    def on_alerts(self, *_args: object) -> None:
        box = self.ids.alerts
        box.clear_widgets()
        for alert in self.alerts:
            row = Factory.Row()
            row.add_widget(Factory.Cell(text=clock_time(alert.at), size_hint_x=0.3))
            label = self.t(ALERT_LABELS.get(alert.kind, ALERT_LABELS["other"]))
            row.add_widget(Factory.Cell(text=label.format(subject=alert.subject or NO_FIGURE)))
            box.add_widget(row)

    def roll_call(self) -> None:
        printed = self.services.print_roll_call()
        self.status_id = N_("Roll call printed.") if printed else N_("The printer is not working.")
        self.on_language(self.app.language)
        self.refresh()

    def on_language(self, language: str) -> None:
        self.status = translate(self.status_id, language) if self.status_id else ""
        self.on_visitors()
        self.on_alerts()

    def reset(self) -> None:
        self.status_id = self.status = ""
        self.visitors, self.alerts = [], []


class VerdictScreen(KioskScreen):
    """A badge's verdict, full screen: VALID with who it is, or INVALID with why."""

    valid = BooleanProperty(False)
    reason_id = StringProperty("")
    visitor_name = StringProperty("")
    company = StringProperty("")
    host_name = StringProperty("")
    arrived = StringProperty("")
    expires = StringProperty("")
    escort = BooleanProperty(False)
    photo = ObjectProperty(None, allownone=True)

    def show_valid(self, badge: Any) -> None:
        self.valid, self.reason_id = True, ""
        self.visitor_name, self.company = badge.visitor_name, badge.company
        self.host_name = badge.host_name
        self.arrived, self.expires = clock_time(badge.arrived_at), clock_time(badge.expires_at)
        self.escort = badge.escort
        self.photo = texture_from_jpeg(badge.photo_jpeg)

    def show_invalid(self, reason: str) -> None:
        self.valid, self.reason_id = False, reason
        self.visitor_name = self.company = self.host_name = self.arrived = self.expires = ""
        self.photo = None

    def reset(self) -> None:
        self.show_invalid("")


class AdminScreen(KioskScreen):
    """Devices, a test print, reprints, today's visits, settings in force, leaving."""

    device = ObjectProperty(None, allownone=True)
    visits = ListProperty([])
    settings = ListProperty([])
    status_id = StringProperty("")
    status = StringProperty("")

    def on_pre_enter(self, *_args: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.device = self.services.device_status()
        self.visits = self.services.todays_visits()[:30]
        self.settings = self.services.settings_summary()

    def on_settings(self, *_args: object) -> None:
        self.ids.settings.data = [{"text": flow.setting_words(s, self.t)} for s in self.settings]

    def on_device(self, *_args: object) -> None:
        """The devices' and the office link's state, one line each; a kiosk without an
        office has no link to report (the settings say it works on its own)."""
        grid, device = self.ids.device, self.device
        grid.clear_widgets()
        if device is None:
            return
        camera = {"ok": N_("working"), "lost": N_("not connected")}.get(device.camera, N_("idle"))
        printer = self.t(N_("ready") if device.printer == "ok" else N_("problem"))
        if device.paper_low:
            printer += " · " + self.t(N_("paper low"))
        lines = [
            (self.t(N_("Camera: {state}")).format(state=self.t(camera)), False),
            (self.t(N_("Printer: {state}")).format(state=printer), device.printer != "ok"),
            (self.t(N_("Failed prints: {count}")).format(count=device.failed_jobs), False),
        ]
        if device.office:
            link = (
                self.t(N_("error")) + " · " + device.sync_last_error
                if device.sync_last_error
                else self.t(N_("no errors"))
            )
            lines += [
                (
                    self.t(N_("Not yet sent to the office: {count}")).format(
                        count=device.unsent_events
                    ),
                    False,
                ),
                (
                    self.t(N_("Last sync with the office: {when}")).format(
                        when=device.sync_last_success or self.t(N_("not yet"))
                    ),
                    False,
                ),
                (
                    self.t(N_("Office link: {state}")).format(state=link),
                    bool(device.sync_last_error),
                ),
            ]
        for text, warn in lines:
            grid.add_widget(
                Factory.FieldLabel(text=text, color=global_idmap["WARN" if warn else "INK"])
            )

    def on_visits(self, *_args: object) -> None:
        box = self.ids.visits
        box.clear_widgets()
        for index, visit in enumerate(self.visits):
            row = Factory.Row()
            row.add_widget(Factory.Cell(text=visit.visitor_name))
            row.add_widget(Factory.Cell(text=visit.host_name))
            row.add_widget(Factory.Cell(text=clock_time(visit.arrived_at), size_hint_x=0.4))
            row.add_widget(Factory.Cell(text=self.t(STATE_LABELS.get(visit.state, visit.state))))
            if visit.has_badge:
                button = Factory.KButton(
                    text=self.t(N_("Reprint")), font_size=text_size("TEXT_SMALL")
                )
                button.size_hint, button.width, button.height = (None, None), 128, 48
                button.index = index
                button.bind(on_release=lambda b: self.reprint(b.index))
                row.add_widget(button)
            else:  # the same slot left empty, so every row's columns line up
                row.add_widget(Factory.Widget(size_hint=(None, None), width=128, height=48))
            box.add_widget(row)

    def test_print(self) -> None:
        ok = self.services.print_test_page()
        self.say(N_("Test page printed.") if ok else N_("The printer is not working."))

    def reprint(self, index: int) -> None:
        visit = self.visits[index]
        self.say(N_("Reprinting…"))
        self.services.print_badge(
            visit.visit_ref,
            lambda ok: later(
                lambda: self.say(
                    N_("Badge reprinted.") if ok else N_("The printer is not working.")
                )
            ),
        )

    def say(self, message: str) -> None:
        self.status_id = message
        self.on_language(self.app.language)
        self.device = self.services.device_status()

    def on_language(self, language: str) -> None:
        self.status = translate(self.status_id, language) if self.status_id else ""
        self.on_visits()
        self.on_device()
        self.on_settings()

    def reset(self) -> None:
        self.status_id = self.status = ""
        self.settings = []
        self.visits = []


ALERT_LABELS = {
    "watchlist": N_("Watchlist match: {subject}, sent to reception"),
    "badge_forged": N_("Forged badge refused at the door"),
    "badge_refused": N_("Badge refused at the door: {subject}"),
    "invitation_used_twice": N_("Invitation used twice: {subject}"),
    "nobody_to_notify": N_("Nobody could be told of {subject}'s arrival"),
    "office_forged": N_("Forged answer on the office's network"),
    "badge_not_printed": N_("Badge not printed: {subject}"),
    "printer": N_("Printer problem"),
    "camera": N_("Camera problem"),
    "other": N_("Security alert"),
}

STATE_LABELS = {
    "expected": N_("Expected"),
    "checked_in": N_("Checked in"),
    "awaiting_host": N_("Waiting for host"),
    "host_acknowledged": N_("Host answered"),
    "checked_out": N_("Left"),
    "denied": N_("Refused"),
    "no_show": N_("Did not come"),
}

#: When each screen is built. A screen is some 20-70 widgets with their bindings and label
#: textures, and a lobby kiosk spends most of its day at rest between visitors, so only
#: what a touch on the welcome screen opens is kept; the rest is built when needed and let
#: go when the kiosk returns to the welcome screen (KioskApp.prebuild and home).
#:   KEPT_SCREENS   built once the welcome screen is drawn, one a frame, and kept
#:   VISIT_SCREENS  the steps after the first: built one a frame once a visitor has left
#:                  the welcome screen (while they read or type on the first one), so
#:                  that their touches still find the next screen ready
#:   the others     the staff's and the rarer paths: built when shown
KEPT_SCREENS = frozenset({"welcome", "scan", "visitor", "notice"})
VISIT_SCREENS = frozenset({"host", "details", "agreement", "photo", "printing"})

SCREENS: dict[str, type[KioskScreen]] = {
    "welcome": WelcomeScreen,
    "scan": ScanScreen,
    "notice": NoticeScreen,
    "visitor": VisitorScreen,
    "host": HostScreen,
    "details": DetailsScreen,
    "idnumber": IdNumberScreen,
    "matches": MatchesScreen,
    "agreement": AgreementScreen,
    "photo": PhotoScreen,
    "printing": PrintingScreen,
    "message": MessageScreen,
    "checkout": CheckoutScreen,
    "rating": RatingScreen,
    "pin": PinScreen,
    "guard": GuardScreen,
    "verdict": VerdictScreen,
    "admin": AdminScreen,
}

__all__ = ["KEPT_SCREENS", "SCREENS", "VISIT_SCREENS", "KioskServices"]
