"""Drives the delivery screens with touches on the real kiosk and engine (issue 20).

    python tests/ui/delivery_flows.py --out DIR [--size 1280x800] [--languages en,...]

The site and its engine are tests/ui/flows.py's (a temporary SQLite site, the fake
camera, the FakePrinter). A courier logs a parcel for 李娜 (found by the pinyin "lina"),
its label is printed and read back from the printer's bytes; 李娜 collects it by typing
its code; the same code and the label's QR are then refused; a parcel for a company is
logged with the printer out of paper and kept. Every screen is shot in each language.
The report (DIR/report.json) holds what the screens said and the database's rows.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from flows import GUARD_PIN, Window_shot, build_site, loaded_packages

from kiosk.ui.i18n import translate


def script(
    app: Any, args: argparse.Namespace, services: Any, report: dict[str, Any]
) -> Iterator[None]:
    """The courier's and the recipient's touches; each `yield` waits one frame."""
    from driver import visible_labels
    from kivy.core.window import Window
    from kivy.uix.button import Button
    from touch import Finger

    from kiosk.ui.widgets import KeyButton, LanguageButton

    out: Path = args.out
    languages = args.languages.split(",")
    report["shots"] = []

    def settle(count: int = 3) -> Iterator[None]:
        for _ in range(count):
            yield

    def screen() -> Any:
        return app.root.current_screen

    def tap(widget: Any) -> Iterator[None]:
        x, y = widget.to_window(*widget.center)
        touch = Finger(x, y)
        touch.touch_down()
        yield
        touch.touch_up()
        yield from settle(2)

    def wait_for(what: str, condition: Callable[[], bool], max_frames: int = 400) -> Iterator[None]:
        for _ in range(max_frames):
            if condition():
                yield from settle(2)
                return
            yield
        raise AssertionError(f"gave up waiting for {what} (on screen {screen().name})")

    def on(name: str) -> Iterator[None]:
        yield from wait_for(f"screen {name}", lambda: screen().name == name)

    def find(kind: str, **match: Any) -> Any:
        for widget in screen().walk(restrict=True):
            usable = widget.opacity > 0 and not getattr(widget, "disabled", False)
            matches = all(getattr(widget, k, None) == v for k, v in match.items())
            if type(widget).__name__ == kind and usable and matches:
                return widget
        raise AssertionError(f"no {kind} {match} on {screen().name}")

    def press(text_id: str, **args: str) -> Iterator[None]:
        text = translate(text_id, app.language).format(**args)
        for widget in screen().walk(restrict=True):
            shows = text in (getattr(widget, "text", None), getattr(widget, "caption", None))
            usable = not getattr(widget, "disabled", True) and widget.opacity > 0
            if isinstance(widget, Button) and shows and usable:
                yield from tap(widget)
                return
        raise AssertionError(f"no button {text!r} on {screen().name}")

    def type_keys(text: str) -> Iterator[None]:
        keyboard = screen().ids.keyboard
        for char in text:
            key = next(
                k
                for k in keyboard.walk(restrict=True)
                if isinstance(k, KeyButton) and k.key == char
            )
            yield from tap(key)

    def type_code(code: str) -> Iterator[None]:
        for key in [*code, "ok"]:
            yield from tap(find("ParcelKey", key=key))

    def shoot(name: str) -> Iterator[None]:
        original = app.language
        for language in [*[lang for lang in languages if lang != original], original]:
            if app.language != language:
                yield from tap(find("LanguageButton", language=language))
            yield from settle(3)
            path = out / f"{name}-{language}.png"
            Path(Window.screenshot(name=str(out / f"{name}-{language}-.png"))).replace(path)
            report["shots"].append(
                {"name": name, "screen": screen().name, "language": language,
                 "screenshot": str(path), "labels": visible_labels(screen())}
            )  # fmt: skip

    def notice() -> list[str]:
        return [screen().title, screen().body]

    assert LanguageButton  # the language switch of every header
    yield from wait_for("the first frame", lambda: app.root is not None and Window.size[0] > 0)
    yield from on("welcome")
    app.set_language(languages[0])
    yield from settle(3)
    yield from shoot("welcome")

    # A courier: 李娜 by pinyin, a parcel of SF Express, 2 items, its label printed.
    yield from press("Delivery")
    yield from on("delivery_recipient")
    yield from type_keys("lina")
    yield from wait_for("李娜 found", lambda: bool(screen().results))
    yield from shoot("delivery-recipient")
    yield from tap(find("HostResult", host_name="李娜"))
    yield from on("delivery_kind")
    yield from shoot("delivery-kind")
    yield from press("Parcel")
    yield from on("delivery_carrier")
    yield from shoot("delivery-carrier")
    yield from press("SF Express")
    yield from on("delivery_items")
    yield from press("+")
    yield from shoot("delivery-items")
    yield from press("Print the label")
    printed = translate("Label printed: stick it on the parcel.", app.language)
    yield from wait_for("the label printed", lambda: getattr(screen(), "title", "") == printed)
    report["logged_notice"] = notice()
    yield from shoot("delivery-printed")
    report["after_logging"] = services.parcel_rows()
    report["printed_qrs"] = services.printed_pickup_qrs()
    code = report["after_logging"][0]["pickup_code"]

    # 李娜 types her code; her name is prefilled as the one who collects.
    yield from press("Back to the start")
    yield from on("welcome")
    yield from press("Collect a parcel")
    yield from on("parcel_code")
    yield from type_code(code[:3])
    yield from shoot("parcel-code")
    yield from type_code(code[3:])
    yield from on("parcel")
    report["parcel_shown"] = [screen().recipient, screen().shelf, screen().ids.collector.text]
    yield from shoot("parcel")
    yield from press("Confirm collection")
    yield from wait_for("collected", lambda: screen().name == "notice")
    report["collected_notice"] = notice()
    yield from shoot("parcel-collected")
    report["after_collecting"] = services.parcel_rows()

    # The same code again, then the label's QR at the invitations' scan: refused in words.
    yield from press("Back to the start")
    yield from on("welcome")
    yield from press("Collect a parcel")
    yield from on("parcel_code")
    yield from type_code(code)
    yield from wait_for("the refusal", lambda: screen().name == "notice")
    report["code_again_notice"] = notice()
    yield from press("Back to the start")
    yield from on("welcome")
    yield from press("I have an invitation")
    yield from on("scan")
    services.push_code(report["printed_qrs"][0][0])
    yield from wait_for("the QR's refusal", lambda: screen().name == "notice", 600)
    report["qr_again_notice"] = notice()
    yield from shoot("parcel-refused")

    # A company's parcel with the printer out of paper: said, and the parcel kept.
    yield from press("Back to the start")
    yield from on("welcome")
    services.printer_fault("paper_out")
    yield from press("Delivery")
    yield from on("delivery_recipient")
    yield from type_keys("acme")
    yield from press("For the company “{company}”", company="acme")
    yield from on("delivery_kind")
    yield from press("Documents")
    yield from on("delivery_carrier")
    yield from press("EMS")
    yield from on("delivery_items")
    yield from press("Print the label")
    failed = translate("The label could not be printed", app.language)
    yield from wait_for("the failure", lambda: getattr(screen(), "title", "") == failed, 900)
    report["failed_notice"] = notice()
    yield from shoot("delivery-print-failed")
    services.printer_fault("clear")
    report["after_failure"] = services.parcel_rows()
    yield from press("Back to the start")
    yield from on("welcome")

    # The guard reprints the kept parcel's label, then marks it returned to its sender.
    jobs = len(report["printed_qrs"])
    yield from press("Staff")
    yield from on("pin")
    for key in [*GUARD_PIN, "ok"]:
        yield from tap(find("PinKey", key=key))
    yield from on("guard")
    yield from press("Parcels")
    yield from on("guard_parcels")
    report["guard_rows"] = [row.recipient for row in screen().ids.parcels.children]
    yield from shoot("guard-parcels")
    yield from press("Reprint label")
    yield from wait_for("the reprint", lambda: screen().status_id == "Label printed.", 900)
    report["reprinted_jobs"] = len(services.printed_pickup_qrs()) - jobs
    yield from press("Returned to sender")
    yield from wait_for("the list emptied", lambda: not screen().parcels)
    yield from shoot("guard-parcels-returned")
    report["after_return"] = services.parcel_rows()
    yield from press("Back to guard mode")
    yield from on("guard")
    report["packages"] = loaded_packages()  # after refusals came over the link too


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--languages", default="en,zh_Hans,zh_Hant")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"ok": False}
    scratch = tempfile.TemporaryDirectory()
    site = build_site(Path(scratch.name))

    from kivy.app import App
    from kivy.clock import Clock

    from kiosk.ui import app as kiosk_app

    def start(_dt: float) -> None:
        app = App.get_running_app()
        steps = script(app, args, site[0], report)

        def tick(_dt: float) -> None:
            try:
                next(steps)
            except StopIteration:
                report["ok"] = True
                app.stop()
            except BaseException as err:
                report["error"] = repr(err)
                report["traceback"] = traceback.format_exc()
                report["screen"] = app.root.current_screen.name
                Window_shot(args.out)
                app.stop()
            else:
                Clock.schedule_once(tick, 0)

        tick(0)

    Clock.schedule_once(start, 0)
    width, height = (int(n) for n in args.size.split("x"))
    try:
        kiosk_app.run_kiosk(site[0], size=(width, height))
    except BaseException as err:
        report["error"] = repr(err)
        report["traceback"] = traceback.format_exc()
    finally:
        report["engine_exit_code"] = site[0].close()
        (args.out / "report.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=1, default=str)
        )
        scratch.cleanup()
        os._exit(0)


if __name__ == "__main__":
    main()
