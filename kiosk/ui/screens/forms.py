"""The visitor's forms: who they are, whom they come to see, why, a typed identity number,
the choice among several appointments, and what their visitor type asks for (the signed
agreement, the photo for the badge).
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from kiosk.domain.errors import InvalidInput, KioskError
from kiosk.domain.values import Purpose
from kiosk.ui import flow
from kiosk.ui.flow import N_
from kiosk.ui.i18n import translate
from kiosk.ui.screens.base import PREVIEW_FPS, FormScreen, KioskScreen, SearchScreen, clock_time
from kiosk.ui.services import AppointmentView
from kiosk.ui.widgets import texture_from_jpeg

log = logging.getLogger(__name__)


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
        common = [Purpose(p) for p in self.services.common_purposes]
        common = [p for p in common if p in flow.VISIT_PURPOSES] or [Purpose.VISIT_PERSON]
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
        if not self.showing_all:
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
