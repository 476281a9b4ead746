"""Runs the real kiosk window in this process and drives it like a visitor would.

    python tests/ui/driver.py --out DIR [--closed [--after-hours open]] [--fail-summary] [--font PATH]
                              [--size 1280x800] [--languages zh_Hans,zh_Hant,en]

After the first frame is drawn it touches each language button in turn (a real
MotionEvent through Kivy's event loop), waits for frames, and records, for each language,
a screenshot and every visible label: its text and the font file SDL2 drew it with. It
writes DIR/report.json and stops. The UI tests read the report; the benchmark reads
`first_frame_s` (seconds from process start to the first drawn frame).

Kivy cannot start twice in one process, hence a process per run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

PROCESS_START = time.monotonic()  # before Kivy's import, which is part of start-up

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "ui")]

from fake_services import FakeWelcomeServices  # noqa: E402

from kiosk.domain.values import TodaySummary  # noqa: E402
from kiosk.ui import app as kiosk_app  # noqa: E402

#: Frames to wait after a change before looking: one to lay out, one to draw, one spare.
SETTLE_FRAMES = 3


def visible_labels(root: object) -> list[dict[str, object]]:
    from kivy.core.window import Window
    from kivy.uix.label import Label
    from kivy.uix.screenmanager import Screen
    from kivy.uix.scrollview import ScrollView

    labels = []
    for widget in root.walk(restrict=True):  # type: ignore[attr-defined]
        if not isinstance(widget, Label) or not widget.text.strip():
            continue
        if widget.opacity <= 0 or widget.width <= 0 or widget.height <= 0:
            continue
        x, y = widget.to_window(*widget.pos)
        if x >= Window.width or y >= Window.height or x + widget.width <= 0:
            continue
        core = widget._label  # the CoreLabel: what SDL2_ttf actually rendered
        holder = widget.parent
        while holder is not None and not isinstance(holder, ScrollView | Screen):
            holder = holder.parent
        labels.append(
            {
                "text": widget.text,
                "font_file": core.options.get("font_name_r"),
                "bold": bool(widget.bold),
                "texture_size": list(widget.texture_size),
                "size": list(widget.size),
                "pos": [round(x), round(y)],
                # In a ScrollView, a label may be scrolled out of view: not a fault.
                "scrolled": isinstance(holder, ScrollView),
                "widget": type(widget).__name__,
                "language": getattr(widget, "language", None),
            }
        )
    return labels


def script(app: object, out: Path, report: dict[str, object]) -> Iterator[None]:
    """The visitor's actions; each `yield` waits one frame."""
    from kivy.core.window import Window
    from touch import Finger

    from kiosk.ui.widgets import LanguageButton

    frames = {"drawn": 0}
    Window.bind(on_flip=lambda *_: frames.__setitem__("drawn", frames["drawn"] + 1))
    while frames["drawn"] < 1:
        yield
    first_frame = time.monotonic()  # CLOCK_MONOTONIC is system-wide: a parent can use it
    report["first_frame_monotonic"] = first_frame
    report["first_frame_s"] = first_frame - PROCESS_START
    report["window_size"] = list(Window.size)
    report["theme"] = app.theme  # type: ignore[attr-defined]
    for _ in range(SETTLE_FRAMES):
        yield

    root = app.root  # type: ignore[attr-defined]
    buttons = [w for w in root.walk() if isinstance(w, LanguageButton)]
    report["languages"] = {}
    order = [b.language for b in buttons]
    # Visit the others first and come back to the first, so every switch is exercised.
    for language in [*order[1:], order[0]]:
        button = next(b for b in buttons if b.language == language)
        x, y = button.to_window(*button.center)
        touch = Finger(x, y)
        touch.touch_down()
        yield
        touch.touch_up()
        for _ in range(SETTLE_FRAMES):
            yield
        shot = Window.screenshot(name=str(out / f"welcome-{language}-.png"))
        final = out / f"welcome-{language}.png"
        Path(shot).replace(final)
        report["languages"][language] = {  # type: ignore[index]
            "app_language": app.language,  # type: ignore[attr-defined]
            "screenshot": str(final),
            "labels": visible_labels(root),
        }
    report["summary_calls"] = app.services.summary_calls  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--closed", action="store_true")
    parser.add_argument("--after-hours", default="appointments_only", help="the site's after_hours")
    parser.add_argument("--saved-theme", default="standard", help="the palette staff chose")
    parser.add_argument("--fail-summary", action="store_true")
    parser.add_argument("--font")
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--languages", default="zh_Hans,zh_Hant,en")
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=0.0,
        help="at the end, stay idle this long and report the CPU used meanwhile",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    services = FakeWelcomeServices(
        languages=args.languages.split(","),
        summary=TodaySummary(
            expected=12, on_site=5, checked_out=3, awaiting_host=2, is_open=not args.closed
        ),
        fail_summary=args.fail_summary,
        after_hours=args.after_hours,
        theme=args.saved_theme,
    )
    report: dict[str, object] = {"ok": False}

    from kivy.app import App
    from kivy.clock import Clock

    def start(_dt: float) -> None:
        app = App.get_running_app()
        steps = script(app, args.out, report)

        def tick(_dt: float) -> None:
            try:
                next(steps)
            except StopIteration:
                report["rss_kib"] = rss_kib()
                if args.idle_seconds:
                    measure_idle(app, args.idle_seconds, report)
                else:
                    report["ok"] = True
                    app.stop()
            except BaseException as err:
                report["error"] = repr(err)
                app.stop()
                raise
            else:
                Clock.schedule_once(tick, 0)

        tick(0)

    Clock.schedule_once(start, 0)
    width, height = (int(n) for n in args.size.split("x"))
    try:
        kiosk_app.run_kiosk(services, size=(width, height), font_path=args.font)
    finally:
        (args.out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))


def measure_idle(app: object, seconds: float, report: dict[str, object]) -> None:
    """Leave the screen alone for `seconds` (after one to settle); report CPU % of a core."""
    from kivy.clock import Clock

    def start(_dt: float) -> None:
        cpu, wall = time.process_time(), time.monotonic()

        def stop(_dt: float) -> None:
            used = time.process_time() - cpu
            report["idle_cpu_percent"] = 100 * used / (time.monotonic() - wall)
            report["ok"] = True
            app.stop()  # type: ignore[attr-defined]

        Clock.schedule_once(stop, seconds)

    Clock.schedule_once(start, 1.0)


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


if __name__ == "__main__":
    main()
