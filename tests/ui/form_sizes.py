"""Every form of the kiosk, each of its fields focused with the keyboard up, at several
window sizes, in one window (the window is resized between sizes).

    python tests/ui/form_sizes.py --out DIR [--sizes 800x480,1024x600,...] [--languages en]

For every size, form and field it records where the focused field, the keyboard and
every button of the screen are drawn (window pixels), as the visitor sees them: the part
of a widget inside a scrolling form that the form's frame shows, and whether the text of
a button fits in it. It writes DIR/report.json (`tests/ui/layout_faults.py` reads it) and
a screenshot per size, form and language. Waits count turns of the event loop, but for
the field's own scroll into view (KField.into_view, 0.1 s after its focus).

"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "ui")]

from fake_services import FakeFormServices  # noqa: E402

from kiosk.ui import app as kiosk_app  # noqa: E402

#: The forms and their fields, in the order a visitor meets them.
FORMS: dict[str, tuple[str, ...]] = {
    "visitor": ("name", "company", "phone"),
    "host": ("query",),
    "details": ("declared",),
    "idnumber": ("number", "name"),
    "message": ("contact", "message"),
    "checkout": ("query",),
    "rating": ("comment",),
}
SIZES = ("800x480", "1024x600", "1280x800", "720x1280")


def window_box(widget: Any) -> list[float]:
    """[left, bottom, right, top] of `widget` in window pixels."""
    x, y = widget.to_window(widget.x, widget.y)
    return [x, y, x + widget.width, y + widget.height]


def clip_of(widget: Any) -> list[float] | None:
    """The frame of the innermost ScrollView holding `widget` (window pixels), or None."""
    from kivy.uix.scrollview import ScrollView

    holder = widget.parent
    while holder is not None and holder is not holder.parent:
        if isinstance(holder, ScrollView):
            return window_box(holder)
        holder = holder.parent
    return None


def inside_keyboard(widget: Any, keyboard: Any) -> bool:
    holder = widget
    while holder is not None and holder is not holder.parent:
        if holder is keyboard:
            return True
        holder = holder.parent
    return False


def visible_part(widget: Any, dock: Any) -> list[float] | None:
    """The box of `widget` a visitor sees: inside its form's frame, above the keyboard."""
    from kivy.core.window import Window

    left, bottom, right, top = window_box(widget)
    frame = clip_of(widget) or [0, 0, Window.width, Window.height]
    floor = window_box(dock)[3] if dock.height > 0 and dock.opacity > 0 else 0
    box = [
        max(left, frame[0]),
        max(bottom, frame[1], floor),
        min(right, frame[2]),
        min(top, frame[3]),
    ]
    return box if box[0] < box[2] and box[1] < box[3] else None


def layout_of(screen: Any, field: Any) -> dict[str, Any]:
    """Where the field, the keyboard and the buttons are drawn on `screen`."""
    from kivy.uix.button import Button

    dock = screen.ids.keyboard
    keyboard = dock.keyboard
    buttons = []
    for widget in screen.walk(restrict=True):
        if not isinstance(widget, Button) or widget.opacity <= 0:
            continue
        if keyboard is not None and inside_keyboard(widget, keyboard):
            continue
        if type(widget).__name__ == "LanguageButton":
            continue  # in the header, checked with it below
        buttons.append(
            {
                "kind": type(widget).__name__,
                "text": widget.text or f"{type(widget).__name__} {getattr(widget, 'value', '')}",
                "box": window_box(widget),
                "clip": clip_of(widget),
                "text_size": list(widget.texture_size),
            }
        )
    header = next(w for w in screen.walk(restrict=True) if type(w).__name__ == "Header")
    return {
        "focused": {"box": window_box(field), "clip": clip_of(field), "focus": bool(field.focus)},
        "keyboard": window_box(dock) if dock.height > 0 and dock.opacity > 0 else None,
        "keyboard_attached": keyboard is not None and keyboard.target == field,
        "header": window_box(header),
        "buttons": buttons,
    }


def script(app: Any, args: argparse.Namespace, report: dict[str, Any]) -> Iterator[None]:
    """The sizes, the forms and their fields; each `yield` waits one frame."""
    from kivy.core.window import Window
    from kivy.uix.scrollview import ScrollView
    from touch import Finger

    frames = {"drawn": 0}
    Window.bind(on_flip=lambda *_: frames.__setitem__("drawn", frames["drawn"] + 1))

    def settle(count: int = 3) -> Iterator[None]:
        """`count` turns of the event loop: a change is laid out and drawn in two."""
        for _ in range(count):
            yield

    def rest(seconds: float) -> Iterator[None]:
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            yield
        yield from settle()

    while frames["drawn"] < 1:
        yield

    def touch(field: Any) -> Iterator[None]:
        """A finger on the part of `field` the visitor sees; a swipe first if none is."""
        screen = app.root.current_screen
        seen = visible_part(field, screen.ids.keyboard)
        if seen is None:
            holder = field.parent
            while not isinstance(holder, ScrollView):
                holder = holder.parent
            holder.scroll_to(field, animate=False)  # as the visitor's swipe would
            yield from settle()
            seen = visible_part(field, screen.ids.keyboard)
        assert seen is not None, f"{field} cannot be seen, even scrolled to"
        finger = Finger((seen[0] + seen[2]) / 2, (seen[1] + seen[3]) / 2)
        finger.touch_down()
        yield
        finger.touch_up()
        yield from settle()

    started = time.monotonic()
    out: Path = args.out
    report["cases"] = []
    for size in args.sizes.split(","):
        width, height = (int(n) for n in size.split("x"))
        Window.size = (width, height)
        yield from settle()
        report.setdefault("window_sizes", {})[size] = list(Window.size)
        for form, fields in FORMS.items():
            if args.forms and form not in args.forms.split(","):
                continue
            app.journey.host_name = "Maria Schmidt"
            screen = app.go(form)
            yield from rest(0.25)  # the first field focused by the screen itself
            for name in fields:
                field = screen.ids[name].__self__
                yield from touch(field)
                yield from rest(0.25)  # into_view runs 0.1 s after the focus
                case = {"size": size, "form": form, "field": name, **layout_of(screen, field)}
                report["cases"].append(case)
                for language in args.languages.split(","):
                    if language != app.language:
                        app.set_language(language)
                        yield from rest(0.15)
                    shot = out / f"{form}-{name}-{size}-{language}.png"
                    Path(Window.screenshot(name=str(out / "shot-.png"))).replace(shot)
                    case.setdefault("screenshots", []).append(str(shot))
                if app.language != args.languages.split(",")[0]:
                    app.set_language(args.languages.split(",")[0])
                if field.layout == "pinyin":  # what the field asks of the pinyin keyboard
                    keyboard = screen.ids.keyboard.keyboard
                    keyboard.mode = "pinyin"
                    keyboard.press("l")
                    case["asks_for_names"] = app.services.pinyin_asked[-1][1]
                    keyboard.press("backspace")
                field.focus = False
            app.home()
            yield from settle()
    report["seconds"] = time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--sizes", default=",".join(SIZES))
    parser.add_argument("--forms", default="")
    parser.add_argument("--languages", default="en")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"ok": False}

    from kivy.app import App
    from kivy.clock import Clock

    def start(_dt: float) -> None:
        app = App.get_running_app()
        app.set_language(args.languages.split(",")[0])
        steps = script(app, args, report)

        def tick(_dt: float) -> None:
            try:
                next(steps)
            except StopIteration:
                report["ok"] = True
                app.stop()
            except BaseException as err:
                report["error"] = repr(err)
                report["traceback"] = traceback.format_exc()
                app.stop()
            else:
                Clock.schedule_once(tick, 0)

        tick(0)

    Clock.schedule_once(start, 0)
    first = args.sizes.split(",")[0]
    width, height = (int(n) for n in first.split("x"))
    try:
        kiosk_app.run_kiosk(FakeFormServices(), size=(width, height))
    finally:
        (args.out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
