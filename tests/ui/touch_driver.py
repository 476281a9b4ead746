"""`TouchDriver`: the touches a UI script gives the real kiosk window, written once.

The scripts of tests/ui (flows.py, delivery_flows.py) are generators run one step a frame
by the Kivy clock; each `yield` lets the kiosk draw a frame. A driver is made over the
running app, the folder its screenshots go to and the report they are listed in:

    touch = TouchDriver(app, out, languages=["en", "zh_Hans"], report=report)
    yield from touch.press("Delivery")
    yield from touch.on("delivery_recipient")
    yield from touch.type_keys("lina")
    yield from touch.shoot("delivery-recipient")

Its methods keep the names and signatures of the closures in tests/ui/flows.py (settle,
screen, tap, wait_for, on, find, button, press, timed_press, into_view, type_keys, shoot,
type_pin, take_photo, pinyin, step), so flows.py can move onto it by binding them:
`press = touch.press`. Two additions: `press` and `button` take format arguments for a
button whose words hold a value ("For the company “{company}”"), and `drag` draws a
stroke with touch moves (a signature). A tap on a widget in a scrolling form waits until
the widget is at rest where a visitor sees it (`at_rest`): Kivy hands such a tap to the
widget only when the finger lifts, wherever the form has moved by then. Kivy is imported
when a driver is made, never at import: this module is imported by a script before it
starts the window.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any


class TouchDriver:
    """Touches on the running kiosk `app`; screenshots into `out`, listed in `report`."""

    def __init__(
        self,
        app: Any,
        out: Path,
        *,
        languages: Sequence[str] = ("en",),
        report: dict[str, Any] | None = None,
        no_screenshots: bool = False,
    ) -> None:
        from kivy.core.window import Window

        self.app = app
        self.out = out
        self.languages = list(languages)
        self.report: dict[str, Any] = report if report is not None else {}
        self.report.setdefault("shots", [])
        self.no_screenshots = no_screenshots
        #: Frames drawn since the driver was made (timed_press waits for the next one).
        self.frames_drawn = 0
        Window.bind(on_flip=self._count_frame)

    def _count_frame(self, *_args: object) -> None:
        self.frames_drawn += 1

    # ------------------------------------------------------------------ waiting

    def settle(self, count: int = 3) -> Iterator[None]:
        """`count` turns of the event loop: a change is laid out and drawn in two."""
        for _ in range(count):
            yield

    def screen(self) -> Any:
        return self.app.root.current_screen

    def wait_for(
        self, what: str, condition: Callable[[], bool], max_frames: int = 400, settle: int = 2
    ) -> Iterator[None]:
        for _ in range(max_frames):
            if condition():
                yield from self.settle(settle)
                return
            yield
        raise AssertionError(f"gave up waiting for {what} (on screen {self.screen().name})")

    def at_rest(self, widget: Any, *, whole: bool = False) -> Callable[[], bool]:
        """A condition for `wait_for`: `widget` is where a visitor would see it before
        touching it, in the window and where it was a frame ago; in a scrolling form, its
        centre (`whole`: all of it, when it fits) inside the form's frame, the form neither
        being laid out nor springing back from a scroll.

        A tap inside a ScrollView reaches its widget only when the finger lifts (Kivy waits
        to see whether it is a swipe), at the place the finger went down: if the form
        moved meanwhile, the tap lands on whatever is there then. On a loaded machine a
        form still moving after a scroll moves further in one frame, and the tap missed
        its field (make test-slow at 1920x1080: the note's tap focused nothing)."""
        form = scrolling_form(widget)
        last: list[tuple[int, int, int, int] | None] = [None]

        def condition() -> bool:
            box = window_box(widget)
            steady = box is not None and box == last[0]
            last[0] = box
            if not steady or self.app.root.transition.is_active:
                return False
            if form is None:
                return True
            content = form.children[0] if form.children else None
            effect = form.effect_y
            if content is not None and content._trigger_layout.is_triggered:
                return False
            if effect is not None and (effect.velocity or effect.is_manual):
                return False
            frame = window_box(form)
            return frame is not None and shows_in(box, frame, whole)

        return condition

    def on(self, name: str) -> Iterator[None]:
        yield from self.wait_for(f"screen {name}", lambda: self.screen().name == name)

    def step(self, name: str) -> Iterator[None]:
        yield from self.wait_for(f"step {name}", lambda: getattr(self.screen(), "step", "") == name)

    # ------------------------------------------------------------------ finding

    def find(self, kind: type | str, **match: Any) -> Any:
        """The visible, enabled widget of class `kind` (a class or a .kv class name)."""
        for widget in self.screen().walk(restrict=True):
            right_kind = (
                type(widget).__name__ == kind if isinstance(kind, str) else isinstance(widget, kind)
            )
            usable = widget.opacity > 0 and not getattr(widget, "disabled", False)
            if (
                right_kind
                and usable
                and all(getattr(widget, k, None) == v for k, v in match.items())
            ):
                return widget
        raise AssertionError(f"no {kind} {match} on {self.screen().name}")

    def button(self, text_id: str, **args: str) -> Any:
        """The button showing `text_id` (an English source string) in the current language,
        formatted with `args` when its words hold a value."""
        from kivy.uix.button import Button

        from kiosk.ui.i18n import translate

        text = translate(text_id, self.app.language)
        text = text.format(**args) if args else text
        for widget in self.screen().walk(restrict=True):
            shows = widget.text == text if isinstance(widget, Button) else False
            shows = shows or getattr(widget, "caption", None) == text
            if shows and not widget.disabled and widget.opacity > 0:
                return widget
        raise AssertionError(f"no button {text!r} on {self.screen().name}")

    # ------------------------------------------------------------------ touching

    def tap(self, widget: Any) -> Iterator[None]:
        """A finger down on `widget`'s centre and up a frame later; in a scrolling form,
        once the widget is at rest where a visitor sees it (`at_rest`)."""
        from touch import Finger

        if scrolling_form(widget) is not None:
            yield from self.wait_for(f"{describe(widget)} at rest", self.at_rest(widget), settle=0)
        x, y = widget.to_window(*widget.center)
        finger = Finger(x, y)
        finger.touch_down()
        yield
        finger.touch_up()
        yield from self.settle(2)

    def press(self, text_id: str, **args: str) -> Iterator[None]:
        yield from self.tap(self.button(text_id, **args))

    def drag(self, widget: Any, points: Sequence[tuple[float, float]]) -> Iterator[None]:
        """One stroke across `widget`: down at the first point, a touch move a frame to
        each next one, up at the last. Points are fractions of the widget (0..1, from its
        bottom left), so a stroke is the same shape at every window size."""
        from touch import Finger

        def at(point: tuple[float, float]) -> tuple[float, float]:
            return widget.to_window(
                widget.x + point[0] * widget.width, widget.y + point[1] * widget.height
            )

        finger = Finger(*at(points[0]))
        finger.touch_down()
        yield
        for point in points[1:]:
            finger.touch_move(*at(point))
            yield
        finger.touch_up()
        yield from self.settle(2)

    def timed_press(
        self, text_id: str, next_screen: str, samples: str = "touch_ms"
    ) -> Iterator[None]:
        """A touch, and the frames until the next screen is drawn: one latency sample, in
        report[samples] ("touch_built_ms" for a screen built on demand, not ahead)."""
        from touch import Finger

        start = time.perf_counter()
        target = self.button(text_id)
        x, y = target.to_window(*target.center)
        finger = Finger(x, y)
        finger.touch_down()
        yield
        released = time.perf_counter()
        finger.touch_up()
        for _ in range(300):
            if self.screen().name == next_screen:
                break
            yield
        else:
            raise AssertionError(f"{text_id!r} did not lead to {next_screen}")
        switched = time.perf_counter()
        drawn = self.frames_drawn
        while self.frames_drawn == drawn:
            yield
        done = time.perf_counter()
        self.report.setdefault(samples, []).append(1000 * (done - start))
        # Where the time went: the finger down, the release's own work, the drawing.
        parts = (released - start, switched - released, done - switched)
        self.report.setdefault("touch_parts_ms", []).append(
            [next_screen, *(round(1000 * d) for d in parts)]
        )

    def into_view(self, widget: Any) -> Iterator[None]:
        """Scroll the form holding `widget` to it, as a visitor's swipe would, and wait until
        it shows there, at rest. A form that fits its frame is not scrolled: a visitor has
        nothing to swipe, and Kivy's scroll_to moves such a form to the frame's bottom, from
        where it springs back over the next frames (kiosk.ui.widgets.KField.into_view)."""
        form = scrolling_form(widget)
        if form is None:
            raise AssertionError(f"{describe(widget)} is not in a scrolling form on the screen")
        rest = self.at_rest(widget, whole=True)

        def scrolled_to() -> bool:
            content = form.children[0] if form.children else None
            box, frame = window_box(widget), window_box(form)
            away = box is None or frame is None or not shows_in(box, frame, whole=True)
            if away and content is not None and content.height > form.height:
                # Again if the form scrolled back meanwhile (a focused field keeps itself
                # above the keyboard, kiosk.ui.widgets.KField.into_view), as a visitor would.
                form.scroll_to(widget, animate=False)
            return rest()

        yield from self.wait_for(f"{describe(widget)} in view", scrolled_to, settle=0)

    def type_keys(self, text: str) -> Iterator[None]:
        from kiosk.ui.widgets import KeyButton

        keyboard = self.screen().ids.keyboard
        for char in text:
            key = {" ": "space"}.get(char, char)
            target = next(
                k for k in keyboard.walk(restrict=True) if isinstance(k, KeyButton) and k.key == key
            )
            yield from self.tap(target)

    def type_pin(self, pin: str) -> Iterator[None]:
        for digit in [*pin, "ok"]:
            yield from self.tap(self.find("PinKey", key=digit))

    def take_photo(self) -> Iterator[None]:
        yield from self.on("photo")
        self.screen().countdown_from = 1
        yield from self.press("Take photo")
        yield from self.wait_for("the photo", lambda: self.screen().taken, 200)

    def pinyin(self, letters: str, word: str) -> Iterator[None]:
        from kiosk.ui.widgets import KeyButton

        if self.screen().ids.keyboard.keyboard.mode != "pinyin":
            yield from self.tap(self.find(KeyButton, key="pinyin"))
        yield from self.type_keys(letters)
        yield from self.wait_for(
            "candidates", lambda: bool(self.screen().ids.keyboard.keyboard.candidates)
        )
        yield from self.tap(self.find("CandidateButton", text=word))

    # ------------------------------------------------------------------ looking

    def shoot(self, name: str) -> Iterator[None]:
        """The current screen in every language, then back to the first one; each PNG is
        listed in report["shots"] with the labels it showed."""
        from driver import visible_labels
        from kivy.core.window import Window

        from kiosk.ui.widgets import LanguageButton

        original = self.app.language
        for language in [*[lang for lang in self.languages if lang != original], original]:
            if self.app.language != language:
                yield from self.tap(self.find(LanguageButton, language=language))
            yield from self.settle(3)
            if self.no_screenshots:  # a benchmark's run: the kiosk's memory, not the PNGs'
                continue
            path = self.out / f"{name}-{language}.png"
            shot = Window.screenshot(name=str(self.out / f"{name}-{language}-.png"))
            Path(shot).replace(path)
            self.report["shots"].append(
                {
                    "name": name,
                    "screen": self.screen().name,
                    "language": language,
                    "screenshot": str(path),
                    "labels": visible_labels(self.screen()),
                }
            )


def scrolling_form(widget: Any) -> Any:
    """The ScrollView `widget` is in, or None (also for a widget no longer in the window)."""
    from kivy.uix.screenmanager import Screen
    from kivy.uix.scrollview import ScrollView

    holder = widget.parent
    while holder is not None and not isinstance(holder, ScrollView | Screen):
        holder = holder.parent
    return holder if isinstance(holder, ScrollView) else None


def window_box(widget: Any) -> tuple[int, int, int, int] | None:
    """`widget`'s (x, y, width, height) in window pixels; None when it is not in the window."""
    if widget.get_root_window() is None:
        return None
    x, y = widget.to_window(*widget.pos)
    return round(x), round(y), round(widget.width), round(widget.height)


def shows_in(box: tuple[int, int, int, int], frame: tuple[int, int, int, int], whole: bool) -> bool:
    """Whether `box` shows in `frame`: its centre, or (`whole`) all of it when it fits."""
    x, y, width, height = box
    left, bottom, frame_width, frame_height = frame
    if whole and height <= frame_height:
        return bottom <= y and y + height <= bottom + frame_height and left <= x
    centre_x, centre_y = x + width / 2, y + height / 2
    inside_x = left <= centre_x <= left + frame_width
    return inside_x and bottom <= centre_y <= bottom + frame_height


def describe(widget: Any) -> str:
    text = str(getattr(widget, "text", "") or getattr(widget, "caption", ""))
    return f"{type(widget).__name__} {text[:24]!r}" if text else type(widget).__name__
