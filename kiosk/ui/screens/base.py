"""What every screen shares: the base classes (a screen, a form typed on the on-screen
keyboard, a search with results to tap) and small helpers for times and .kv widgets.

Screens call the services (`self.services`, a `kiosk.ui.services.KioskServices`) and ask
the App to move on (`self.app.go(name)`). Results from device threads (codes seen by the
camera, a badge printed) come back through `later()`, on the UI thread.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.domain.errors import InvalidInput
from kiosk.ui import flow
from kiosk.ui.flow import N_, Journey
from kiosk.ui.i18n import translate

#: How often a camera preview is refreshed, in frames a second.
PREVIEW_FPS = 12.0


NO_FIGURE = "–"


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
