"""The Kivy application: a ScreenManager of screens, each with its own `.kv` file.

`KioskApp` holds navigation state only (the screen shown and the language); screens get
the services they call when they are built. Until the check-in screens land, the welcome
screen is the only one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.config import Config
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

from kiosk.domain.values import TodaySummary
from kiosk.ui.fonts import UiFont, resolve_fonts
from kiosk.ui.i18n import endonym
from kiosk.ui.services import WelcomeServices

log = logging.getLogger(__name__)

KV_DIR = Path(__file__).parent

#: How often the welcome screen asks for today's figures, in seconds.
SUMMARY_REFRESH_SECONDS = 5.0

#: Shown in place of a figure that could not be read.
NO_FIGURE = "–"


def font_name(language: str) -> str:
    """The name under which `language`'s font is registered with Kivy."""
    return f"Kiosk-{language}"


class LanguageButton(Button):
    """One language of the switch, labelled in that language; selected when shown."""

    language = StringProperty("")
    selected = BooleanProperty(False)


class LanguageSwitch(BoxLayout):
    """A row of LanguageButtons, one per (language, label) of `choices`."""

    choices = ListProperty([])

    def on_choices(self, _switch: object, choices: list[tuple[str, str]]) -> None:
        self.clear_widgets()
        for language, label in choices:
            self.add_widget(LanguageButton(language=language, text=label))


Factory.register("LanguageSwitch", cls=LanguageSwitch)


class WelcomeScreen(Screen):
    """The building's greeting, whether it is open, and today's figures, in one language.

    It asks `services` for the greeting and closed message when the language changes and
    for today's summary every SUMMARY_REFRESH_SECONDS; a property is set only when its
    value changes, so an idle screen is not redrawn.
    """

    services: Any = ObjectProperty(None)
    site_name = StringProperty("")
    greeting = StringProperty("")
    #: Whether the site is open, once today's summary has been read at least once.
    status_known = BooleanProperty(False)
    is_open = BooleanProperty(False)
    closed_message = StringProperty("")
    # Kivy takes names beginning with "on_" for events, hence "figure_".
    figure_expected = StringProperty(NO_FIGURE)
    figure_on_site = StringProperty(NO_FIGURE)
    figure_awaiting_host = StringProperty(NO_FIGURE)
    figures_available = BooleanProperty(False)
    #: (language, label) pairs for the language switch, in the services' order.
    language_choices = ListProperty([])

    def __init__(self, services: WelcomeServices, **kwargs: Any) -> None:
        super().__init__(services=services, **kwargs)
        self.site_name = services.site_name
        self.language_choices = [(code, endonym(code)) for code in services.languages]

    def show_language(self, language: str) -> None:
        self.greeting = self.services.greeting(language)
        self.closed_message = self.services.closed_message(language)

    def refresh_summary(self, *_args: object) -> None:
        try:
            summary: TodaySummary = self.services.today_summary()
        except Exception:
            log.exception("today's summary could not be read")
            self.figures_available = False
            self.figure_expected = self.figure_on_site = self.figure_awaiting_host = NO_FIGURE
            return
        self.figures_available = True
        self.is_open = summary.is_open
        self.status_known = True
        self.figure_expected = str(summary.expected)
        self.figure_on_site = str(summary.on_site)
        self.figure_awaiting_host = str(summary.awaiting_host)


class KioskApp(App):
    """Navigation state: which language is shown, and the font that draws it."""

    title = "Lobby kiosk"
    language = StringProperty("")
    font_name = StringProperty(DEFAULT_FONT)

    def __init__(self, services: WelcomeServices, fonts: dict[str, UiFont], **kwargs: Any):
        super().__init__(**kwargs)
        self._services = services
        self._fonts = fonts

    def build(self) -> ScreenManager:
        for language, font in self._fonts.items():
            LabelBase.register(font_name(language), font.regular, fn_bold=font.bold)
        first = self._services.languages[0]
        first_font = self._fonts[first]
        # Widgets that name no font (popups, the virtual keyboard) still get CJK glyphs.
        LabelBase.register(DEFAULT_FONT, first_font.regular, fn_bold=first_font.bold)
        self.set_language(first)  # before the widgets, whose strings depend on it
        Builder.load_file(str(KV_DIR / "theme.kv"))
        Builder.load_file(str(KV_DIR / "welcome.kv"))
        manager = ScreenManager(transition=NoTransition())
        welcome = WelcomeScreen(self._services, name="welcome")
        welcome.show_language(first)
        manager.add_widget(welcome)
        return manager

    def on_start(self) -> None:
        welcome = self.root.get_screen("welcome")
        welcome.refresh_summary()
        Clock.schedule_interval(welcome.refresh_summary, SUMMARY_REFRESH_SECONDS)

    def set_language(self, language: str) -> None:
        """Show every string in `language` (one of the services' languages)."""
        if language not in self._fonts:
            raise ValueError(f"unknown language {language!r}")
        self.font_name = font_name(language)
        self.language = language

    def on_language(self, _app: object, language: str) -> None:
        if self.root is not None:
            self.root.get_screen("welcome").show_language(language)


def configure_window(size: tuple[int, int] | None, fullscreen: bool) -> None:
    """Window settings Kivy reads when it creates the window (so before `App.run`)."""
    if size is not None:
        Config.set("graphics", "width", str(size[0]))
        Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")


def run_kiosk(
    services: WelcomeServices,
    *,
    size: tuple[int, int] | None = None,
    fullscreen: bool = False,
    font_path: str | Path | None = None,
) -> None:
    """Open the kiosk window on `services` and run until the window is closed.

    `font_path` replaces the font search (see `kiosk.ui.fonts`); FontNotFound, naming the
    Debian package to install, is raised before any window opens.
    """
    if not services.languages:
        raise ValueError("services.languages is empty: the kiosk needs one language")
    fonts = resolve_fonts(list(services.languages), font_path)
    configure_window(size, fullscreen)
    KioskApp(services, fonts).run()
