"""The Kivy application: a ScreenManager of screens, each with its own `.kv` file.

`KioskApp` holds navigation state only: the screen shown, the language, and the current
visitor's `Journey` (dropped at the end of a visit, on cancel and on the idle timeout).
Start-up builds the welcome screen only; once it is drawn, the screens its choices open
(`screens.KEPT_SCREENS`) are built one per idle turn of the event loop (`prebuild`), and
once a visitor has left the welcome screen, the further steps of a visit
(`screens.VISIT_SCREENS`) likewise: a touch finds its next screen ready and laid out at
the window's size. Any other screen, or one asked for before its turn, is built then and
there. Back at the welcome screen (`home`), every screen but the kept ones is let go.
Services are given to each screen when it is built.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kivy.app import App
from kivy.clock import Clock
from kivy.config import Config
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.domain.errors import AlreadyCheckedOut, InvalidInput, KioskError
from kiosk.heap import give_back_free_memory
from kiosk.ui import flow
from kiosk.ui.flow import N_, Journey
from kiosk.ui.fonts import UiFont, resolve_fonts
from kiosk.ui.i18n import endonym
from kiosk.ui.kivy_memory import forget_typed_text, release_text_surfaces
from kiosk.ui.services import AppointmentView, KioskServices
from kiosk.ui.theme import PALETTES, apply_theme
from kiosk.ui.window_size import window_size
from kiosk.watchdog import Watchdog

if TYPE_CHECKING:
    from kiosk.ui.screens import KioskScreen

log = logging.getLogger(__name__)

KV_DIR = Path(__file__).parent

#: How often the welcome screen asks for today's figures, in seconds.
SUMMARY_REFRESH_SECONDS = 5.0


def register_widgets() -> None:
    """The shared widgets, for the .kv files. Imported here, not at the top: a text field
    opens the window as it is imported, and the window must read its Config first."""
    from kiosk.ui import widgets

    for name in (
        "LanguageButton",
        "LanguageSwitch",
        "KField",
        "OnScreenKeyboard",
        "KeyboardDock",
        "CameraView",
        "SignaturePad",
        "KeyButton",
        "CandidateButton",
    ):
        if name not in Factory.classes:
            Factory.register(name, cls=getattr(widgets, name))


def font_name(language: str) -> str:
    """The name under which `language`'s font is registered with Kivy."""
    return f"Kiosk-{language}"


class KioskApp(App):
    """Navigation state: the screen shown, the language, and the visitor's journey."""

    title = "Lobby kiosk"
    language = StringProperty("")
    font_name = StringProperty(DEFAULT_FONT)
    #: The palette of kiosk.ui.theme: "standard" or "high_contrast".
    theme = StringProperty("standard")

    def __init__(self, services: KioskServices, fonts: dict[str, UiFont], **kwargs: Any):
        super().__init__(**kwargs)
        self.services = services
        self._fonts = fonts
        self.journey = Journey()
        self.last_touch = time.monotonic()
        #: A visitor has left the welcome screen: the visit's screens are built ahead.
        self._visiting = False
        self.language_choices = [(code, endonym(code)) for code in services.languages]

    # ----------------------------------------------------------------- building

    def build(self) -> ScreenManager:
        release_text_surfaces()
        registered: set[str] = set()
        for language, font in self._fonts.items():
            # Languages sharing a face share one registration, so SDL2 opens it once.
            name = font_name(language)
            LabelBase.register(name, font.regular, fn_bold=font.bold)
            registered.add(name)
        first = self.services.languages[0]
        first_font = self._fonts[first]
        # Widgets that name no font (popups, the virtual keyboard) still get CJK glyphs.
        LabelBase.register(DEFAULT_FONT, first_font.regular, fn_bold=first_font.bold)
        self.set_language(first)  # before the widgets, whose strings depend on it
        register_widgets()
        self.theme = self.saved_theme()
        apply_theme(self.theme)  # the colours and sizes the .kv rules read
        load_kv("theme")
        load_kv("widgets")
        manager = ScreenManager(transition=NoTransition())
        self._manager = manager
        # Screens that are not shown are not the manager's children, so it does not lay
        # them out: they follow its size here, to be drawn at once when they are shown.
        manager.bind(size=self._size_screens)
        self.screen("welcome")
        return manager

    def saved_theme(self) -> str:
        """The palette staff chose, as the services keep it; the standard one if unreadable."""
        try:
            saved = str(self.services.saved_theme())
        except Exception:
            log.exception("the saved theme could not be read: the standard colours")
            return "standard"
        return saved if saved in PALETTES else "standard"

    def _size_screens(self, manager: ScreenManager, size: list[float]) -> None:
        for screen in manager.screens:
            screen.size = size

    def prebuild(self, *_args: object) -> None:
        """Build the next screen not built yet of KEPT_SCREENS, and of VISIT_SCREENS while
        a visit is on; again on the next frame until all are."""
        from kiosk.ui.screens import KEPT_SCREENS, SCREENS, VISIT_SCREENS
        from kiosk.ui.widgets import KeyboardDock

        wanted = KEPT_SCREENS | (VISIT_SCREENS if self._visiting else frozenset())
        for name in SCREENS:
            if name in wanted and name not in self._manager.screen_names:
                self.screen(name)
                Clock.schedule_once(self.prebuild, 0)
                return
        KeyboardDock.shared()  # the form screens' one keyboard, last
        if not self._visiting and not getattr(self, "_said_ready", False):
            self._said_ready = True
            log.info("Kiosk: the welcome screen's next screens are ready")

    def screen(self, name: str) -> KioskScreen:
        """The screen called `name`, built (with its .kv file) the first time."""
        from kiosk.ui.screens import SCREENS

        manager = self._manager
        if name not in manager.screen_names:
            load_kv(getattr(SCREENS[name], "kv_file", name))  # a group's screens share one
            built = SCREENS[name](name=name, services=self.services)
            built.size = manager.size
            manager.add_widget(built)
            built.on_language(self.language)
        found: KioskScreen = manager.get_screen(name)
        return found

    def on_start(self) -> None:
        self.screen("welcome").refresh_summary()
        # Through `screen`: a theme switch builds a new welcome screen.
        Clock.schedule_interval(
            lambda _dt: self.screen("welcome").refresh_summary(), SUMMARY_REFRESH_SECONDS
        )
        Clock.schedule_interval(self.check_idle, 1.0)
        from kivy.core.window import Window  # not at import: the window reads Config first

        Window.bind(on_touch_down=lambda *_args: self.touched())

        # The other screens once the welcome screen has been drawn, not before.
        def first_drawn(*_args: object) -> None:
            Window.unbind(on_flip=first_drawn)
            Clock.schedule_once(self.prebuild, 0)

        Window.bind(on_flip=first_drawn)
        # systemd restarts a hung UI: the pings come from this main loop's own clock, so a
        # frozen loop stops them (a thread would keep pinging for a dead screen).
        self.watchdog = Watchdog.from_environment()
        self.watchdog.ready("welcome screen up")
        if self.watchdog.watchdog_enabled:
            Clock.schedule_interval(lambda _dt: self.watchdog.ping(), self.watchdog.ping_interval)

    def on_stop(self) -> None:
        if getattr(self, "watchdog", None) is not None:
            self.watchdog.stopping()
        try:
            self.services.stop_camera()
        except KioskError as err:  # the engine stopped first (systemd stops both): it
            log.info("camera not stopped from here: %s", err)  # closed its devices itself
        except Exception:
            log.exception("stopping the camera failed")

    # ----------------------------------------------------------------- language

    def set_language(self, language: str) -> None:
        """Show every string in `language` (one of the services' languages)."""
        if language not in self._fonts:
            raise ValueError(f"unknown language {language!r}")
        self.font_name = font_name(language)
        self.language = language

    def on_language(self, _app: object, language: str) -> None:
        if self.root is not None:
            for screen in self.root.screens:
                screen.on_language(language)

    # ----------------------------------------------------------------- theme

    def set_theme(self, palette: str) -> None:
        """Show every screen in `palette`'s colours. The rules read colours as constants, so
        the screens are built again; the one shown is shown again, the others follow one a
        frame (`prebuild`). What was typed is dropped: an admin switches, not a visitor."""
        if palette not in PALETTES:
            raise ValueError(f"unknown palette {palette!r}")
        if palette == self.theme:
            return
        from kiosk.ui.widgets import KeyboardDock

        apply_theme(palette)
        self.theme = palette
        try:  # the kiosk's setting, kept across restarts (kiosk.services.display_settings)
            self.services.save_theme(palette)
        except Exception:  # shown all the same; said in the log
            log.exception("the theme %s could not be saved", palette)
        KeyboardDock.forget_shared()
        manager = self._manager
        shown = manager.current
        manager.clear_widgets()
        self.go(shown)
        Clock.schedule_once(self.prebuild, 0)

    # ----------------------------------------------------------------- navigation

    def go(self, name: str, **properties: Any) -> KioskScreen:
        from kiosk.ui.screens import KEPT_SCREENS, VISIT_SCREENS
        from kiosk.ui.widgets import KeyboardDock

        screen = self.screen(name)
        for key, value in properties.items():
            setattr(screen, key, value)
        dock = screen.ids.get("keyboard")
        if isinstance(dock, KeyboardDock):  # the one keyboard moves to the screen shown
            dock.adopt()
        self.root.current = name
        self.touched()
        if not self._visiting and name in (KEPT_SCREENS | VISIT_SCREENS) - {"welcome"}:
            self._visiting = True  # a visitor's way: its next steps, while they read this
            Clock.schedule_once(self.prebuild, 0)
        return screen

    def begin(self) -> None:
        """A new visitor: nothing of the previous one is kept."""
        self.journey = Journey()

    def home(self) -> None:
        """Back to the welcome screen, wiping every screen's typed data, and releasing what
        only a visit needed: every screen but KEPT_SCREENS, and the services' pinyin index
        and badge font faces."""
        from kiosk.ui.screens import KEPT_SCREENS
        from kiosk.ui.widgets import KeyboardDock

        self.journey = Journey()
        for screen in self.root.screens:
            screen.reset()
        self.go("welcome")
        KeyboardDock.detach_shared()  # its dock may be on a screen let go below
        self._visiting = False
        for screen in list(self.root.screens):
            if screen.name not in KEPT_SCREENS:
                self.root.remove_widget(screen)
        forget_typed_text()
        self.services.release_memory()
        Clock.schedule_once(self.release_memory, 1.0)

    def release_memory(self, *_args: object) -> None:
        """After the welcome screen is drawn: collect the screens let go (kv rules bind
        widgets in cycles, which only the cycle collector frees), then give the freed
        pages back to the system."""
        gc.collect()
        give_back_free_memory()

    def touched(self) -> None:
        self.last_touch = time.monotonic()

    def check_idle(self, *_args: object) -> None:
        screen = self.root.current_screen
        timeout = screen.idle_timeout if screen.idle_timeout >= 0 else self.services.idle_timeout_s
        if timeout > 0 and time.monotonic() - self.last_touch > timeout:
            log.info("idle on %s for %.0f s: back to the welcome screen", screen.name, timeout)
            self.home()

    def notice(
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
        screen = self.screen("notice")
        screen.show(
            tone,
            title,
            body,
            args=args,
            primary=primary,
            secondary=secondary,
            home=home,
            timeout=timeout,
            wait_for_host=wait_for_host,
        )
        self.go("notice")

    def advance(self) -> None:
        """The next per-visitor-type step, or the check-in itself when none is left."""
        journey = self.journey
        if not journey.pending:
            self.go("printing")
            return
        step = journey.pending.pop(0)
        if step == "escort":
            self.notice(
                "info",
                N_("Please wait for your escort"),
                N_(
                    "This visit needs an escort. Someone will accompany you at all times "
                    "while you are in the building."
                ),
                primary=(N_("Continue"), self.advance),
            )
        else:
            self.go(step)

    def already_checked_out(self, err: AlreadyCheckedOut) -> None:
        """A badge shown again after its visitor checked out: said, with when, and nothing
        more (no check-out recorded, no second rating)."""
        when = err.checked_out_at.strftime("%H:%M") if err.checked_out_at else ""
        self.notice(
            "info",
            N_("You checked out at {time}") if when else N_("You have already checked out"),
            N_("Thank you for your visit. Please leave your badge in the box."),
            args={"time": when},
            home=True,
            timeout=10,
        )

    def offer_absent_host(self, then: Callable[[], None]) -> None:
        """The host is not in (nor their delegate): say so now, and offer to leave a message
        or to go on with reception looking after the visitor (`then` goes on)."""

        def with_reception() -> None:
            self.journey.proceed_if_absent = True
            then()

        def leave_message() -> None:
            self.go("message")

        self.notice(
            "info",
            N_("{host} is not available right now"),
            N_(
                "You can leave a message with your contact details, and {host} will get back "
                "to you. Or reception can look after you."
            ),
            args={"host": self.journey.host_name},
            primary=(N_("Leave a message"), leave_message),
            secondary=(N_("See reception"), with_reception),
        )

    def find_appointment(self) -> None:
        """Match the visitor's name (and document) to today's appointments."""
        form = self.journey.form
        if not form.name.strip():
            self.go("visitor")
            return
        try:
            matches = self.services.match_identity(form.name, form.document_hash)
        except InvalidInput:
            self.go("visitor")
            return
        except KioskError:
            log.exception("appointment matching failed")
            matches = []
        if len(matches) == 1:
            self.appointment_found(matches[0])
        elif matches:
            self.go("matches").show(matches)
        else:  # no appointment: the walk-in form, filled in with what was read
            self.go("visitor")

    def appointment_found(self, match: AppointmentView) -> None:
        from kiosk.ui.screens import clock_time

        journey = self.journey
        journey.way, journey.appointment_ref = "appointment", match.appointment_ref
        journey.steps, journey.host_name = match.steps, match.host_name
        journey.form.host_name = match.host_name
        journey.plan()
        self.notice(
            "ok",
            N_("Welcome, {name}"),
            N_("{host} expects you at {time}."),
            args={
                "name": journey.form.name or match.visitor_name,
                "host": match.host_name,
                "time": clock_time(match.starts_at),
            },
            primary=(N_("Continue"), self.advance),
        )

    def leave_kiosk_mode(self) -> None:
        log.info("kiosk mode left from the admin screen")
        self.stop()


def load_kv(name: str) -> None:
    """Load kiosk/ui/NAME.kv once: loading a file twice would apply its rules twice."""
    path = str(KV_DIR / f"{name}.kv")
    if path not in Builder.files:
        Builder.load_file(path)


def stop_running_app() -> None:
    """Close the kiosk window from any thread (the engine's link, when the engine dies)."""

    def stop(_dt: float) -> None:
        app = App.get_running_app()
        if app is not None:
            app.stop()

    Clock.schedule_once(stop)


def configure_window(size: tuple[int, int] | None, fullscreen: bool) -> tuple[int, int] | None:
    """Window settings Kivy reads when it creates the window (so before `App.run`): `size`,
    else, and always in full screen, the X screen's (kiosk.ui.window_size). Returns the
    size set, if any."""
    chosen = window_size(size, fullscreen)
    if chosen is not None:
        Config.set("graphics", "width", str(chosen[0]))
        Config.set("graphics", "height", str(chosen[1]))
        how = "as asked" if chosen == size else "the screen's size"
        log.info("Kiosk: window %dx%d (%s)%s", *chosen, how, ", full screen" if fullscreen else "")
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
    return chosen


def run_kiosk(
    services: KioskServices,
    *,
    size: tuple[int, int] | None = None,
    fullscreen: bool = False,
    font_path: str | Path | None = None,
) -> None:
    """Open the kiosk window on `services` and run until the window is closed: `size`
    (width, height) if given, else, and always in full screen, the X screen's size
    (kiosk.ui.window_size).

    `font_path` replaces the font search (see `kiosk.ui.fonts`); FontNotFound, naming the
    Debian package to install, is raised before any window opens.
    """
    if not services.languages:
        raise ValueError("services.languages is empty: the kiosk needs one language")
    fonts = resolve_fonts(list(services.languages), font_path)
    configure_window(size, fullscreen)
    KioskApp(services, fonts).run()


__all__ = ["KioskApp", "configure_window", "flow", "run_kiosk"]
