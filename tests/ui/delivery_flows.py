"""Drives the delivery screens with touches on the real kiosk and engine (issue 20).

    python tests/ui/delivery_flows.py --out DIR [--size 1280x800] [--languages en,...]

The site is tests/ui/flows.py's (a temporary SQLite site, the fake camera, the
FakePrinter, a real SMTP server for the hosts' mail) with a signature asked at every
collection ([deliveries] signature = true), and its engine is flows.py's FlowsEngine with
a few more controls (`DeliveryEngine`: a barcode shown to the camera, a parcel another
courier logged, the signatures' rows).

A courier logs a parcel for 李娜 (found by the pinyin "lina"): the waybill's scan refuses
a Code 128 with a tab in it and a 200-character QR in words, then takes a good Code 128;
a photo of the parcel is taken; its label is printed and read back from the printer's
bytes. 李娜 collects it by typing its code and signing with a finger (touch moves); the
same code and the label's QR are then refused; a parcel for a company is logged with the
printer out of paper and kept. In guard mode the guard searches the shelf, hands a parcel
over (a name and a signature), reprints the kept parcel's label and marks it returned.
Every screen is shot in each language. The report (DIR/report.json) holds what the screens
said and the database's rows.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flows
from flows import GUARD_PIN, Window_shot, loaded_packages

from kiosk.ui.i18n import translate

#: The signature a finger draws: a "V" then a bar, as fractions of the pad.
SIGNATURE_STROKES = (
    ((0.15, 0.75), (0.25, 0.5), (0.35, 0.25), (0.45, 0.5), (0.55, 0.75)),
    ((0.6, 0.4), (0.7, 0.42), (0.8, 0.44), (0.85, 0.45)),
)
GOOD_WAYBILL = "SF1234567890123"


def delivery_engine_class() -> type:
    """flows.py's FlowsEngine and what this script does to the world besides."""
    base = FLOWS_ENGINE_CLASS()

    class DeliveryEngine(base):  # type: ignore[misc, valid-type]
        def push_barcode(self, text: str, fmt: str = "code128") -> None:
            """A waybill's barcode (Code 128, drawn by zxing-cpp's writer) or QR held up
            to the fake camera, as the camera would see it."""
            import numpy as np
            import zxingcpp

            from kiosk.devices.synthetic import Conditions, render_code, synth_frame

            if fmt == "qr":
                code, held = render_code(text, "qr", module_px=3), Conditions(code_fraction=0.6)
            else:  # a 1-D code held close: its bars fill most of the frame's width
                made = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128)
                code = np.asarray(made.to_image(scale=2), dtype=np.uint8)
                code, held = np.pad(code, 20, constant_values=255), Conditions(code_fraction=0.85)
            frame = synth_frame(code, held, (640, 480), seed=len(text))
            self.scanner.source.push_frame(frame, hold_frames=20)

        def parcel_extras(self) -> list[dict[str, Any]]:
            """What the flows' rows leave out: the waybill, whether a photo is kept."""
            from kiosk.storage.parcels import Parcel

            return [
                {"ref": row.ref, "waybill": row.waybill, "photo": row.photo_jpeg is not None,
                 "photo_bytes": len(row.photo_jpeg or b"")}
                for row in Parcel.select().order_by(Parcel.id)
            ]  # fmt: skip

        def signature_rows(self) -> list[dict[str, Any]]:
            """Each stored signature: its parcel, and its ink's box in the PNG's pixels."""
            import io

            import numpy as np
            from PIL import Image

            from kiosk.storage.parcels import ParcelSignature

            rows = []
            for signature in ParcelSignature.select().order_by(ParcelSignature.id):
                image = Image.open(io.BytesIO(signature.signature_png))
                ink = np.argwhere(np.asarray(image.convert("L")) < 128)
                box = [int(ink[:, 1].min()), int(ink[:, 0].min()),
                       int(ink[:, 1].max()), int(ink[:, 0].max())] if len(ink) else []  # fmt: skip
                rows.append({"parcel": signature.parcel.ref, "format": image.format,
                             "size": list(image.size), "ink_pixels": len(ink), "box": box})  # fmt: skip
            return rows

        def log_for_company(self, company: str, carrier: str) -> str:
            """A parcel another courier logged (as `kiosk delivery log` does): its code."""
            from kiosk.services.deliveries import NewParcel

            desk = self._desk()
            return str(
                desk.log_parcel(NewParcel("parcel", carrier, 1, company=company)).pickup_code
            )

        def sync_once(self) -> list[int]:
            """One push and pull with the office the site is enrolled with:
            [pushed, rejected, pulled]."""
            from kiosk.sync.client import SyncClient

            done = SyncClient(self._kiosk).run_once(force=True)
            return [done.pushed, done.rejected, done.pulled]

        def mail_qrs(self, address: str) -> list[list[str]]:
            """Each e-mail the SMTP server got for `address`: subject, then the texts of the
            QR codes in its PNG attachments (decoded with zxing-cpp)."""
            import io
            from email.header import decode_header, make_header

            import numpy as np
            import zxingcpp
            from PIL import Image

            found = []
            for message in self.mailbox.to(address):
                texts = [str(make_header(decode_header(message["Subject"])))]
                for part in message.walk():
                    if part.get_content_type() == "image/png":
                        png = Image.open(io.BytesIO(part.get_payload(decode=True)))
                        grey = np.asarray(png.convert("L"))
                        texts += [code.text for code in zxingcpp.read_barcodes(grey)]
                found.append(texts)
            return found

    return DeliveryEngine


FLOWS_ENGINE_CLASS = flows.flows_engine_class


def build_delivery_site(folder: Path) -> Any:
    """flows.py's site, made in a process of its own, with signatures asked; its engine
    started as `kiosk run` starts it, with DeliveryEngine."""
    import subprocess

    from kiosk.engine_link import start_engine

    subprocess.run(
        [sys.executable, flows.__file__, "--out", str(folder), "--make-site"],
        check=True, stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip
    with (folder / "kiosk.toml").open("a", encoding="utf-8") as file:
        file.write("\n[deliveries]\nsignature = true\n")
    services = start_engine([sys.executable, __file__, "--out", str(folder), "--engine"])
    services.idle_timeout_s = 600.0
    return services


def script(
    app: Any, args: argparse.Namespace, services: Any, report: dict[str, Any]
) -> Iterator[None]:
    """The courier's, the recipient's and the guard's touches; each `yield` waits one frame."""
    from kivy.core.window import Window
    from touch_driver import TouchDriver

    touch = TouchDriver(app, args.out, languages=args.languages.split(","), report=report)
    screen, press, on, wait_for = touch.screen, touch.press, touch.on, touch.wait_for
    tap, find, shoot, type_keys = touch.tap, touch.find, touch.shoot, touch.type_keys

    def type_code(code: str) -> Iterator[None]:
        for key in [*code, "ok"]:
            yield from tap(find("ParcelKey", key=key))

    def notice() -> list[str]:
        return [screen().title, screen().body]

    def sign() -> Iterator[None]:
        pad = screen().ids.signature
        for stroke in SIGNATURE_STROKES:
            yield from touch.drag(pad, stroke)

    def scan_waybill(text: str, fmt: str) -> Iterator[None]:
        before = screen().error
        services.push_barcode(text, fmt)
        yield from wait_for(
            f"the {fmt} read", lambda: screen().name != "delivery_waybill" or screen().error != before,
            600,
        )  # fmt: skip

    yield from wait_for("the first frame", lambda: app.root is not None and Window.size[0] > 0)
    yield from on("welcome")
    app.set_language(touch.languages[0])
    yield from touch.settle(3)
    yield from shoot("welcome")

    # A courier: 李娜 by pinyin, a parcel of SF Express, 2 items.
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

    # The waybill: a tab inside a Code 128, then 200 characters in a QR, then a good one.
    yield from press("Scan the waybill")
    yield from on("delivery_waybill")
    yield from scan_waybill("SF12\t3456", "code128")
    report["waybill_control_problem"] = [screen().error_id, screen().error]
    yield from shoot("waybill-control-character")
    yield from scan_waybill("W" * 200, "qr")
    report["waybill_long_problem"] = [screen().error_id, screen().error]
    yield from shoot("waybill-too-long")
    yield from scan_waybill(GOOD_WAYBILL, "code128")
    yield from on("delivery_items")
    report["items_waybill"] = [screen().waybill, int(screen().items)]

    # A photo of the parcel (the fake camera's empty scene: no face in it).
    yield from press("Photo of the parcel")
    yield from on("delivery_photo")
    yield from wait_for("the camera's picture", lambda: screen().ids.camera.texture is not None)
    yield from press("Take photo")
    yield from wait_for("the photo", lambda: screen().taken, 200)
    yield from shoot("delivery-photo")
    yield from press("Use this photo")
    yield from on("delivery_items")
    report["items_photo"] = screen().has_photo
    yield from shoot("delivery-items-complete")
    yield from press("Print the label")
    printed = translate("Label printed: stick it on the parcel.", app.language)
    yield from wait_for("the label printed", lambda: getattr(screen(), "title", "") == printed)
    report["logged_notice"] = notice()
    yield from shoot("delivery-printed")
    report["after_logging"] = services.parcel_rows()
    report["extras_after_logging"] = services.parcel_extras()
    report["printed_qrs"] = services.printed_pickup_qrs()
    code = report["after_logging"][0]["pickup_code"]

    # 李娜 types her code; her name is prefilled; she signs with her finger.
    yield from press("Back to the start")
    yield from on("welcome")
    yield from press("Collect a parcel")
    yield from on("parcel_code")
    yield from type_code(code[:3])
    yield from shoot("parcel-code")
    yield from type_code(code[3:])
    yield from on("parcel")
    report["parcel_shown"] = [screen().recipient, screen().shelf, screen().ids.collector.text]
    yield from press("Confirm collection")  # not signed yet
    report["unsigned_problem"] = screen().error_id
    yield from sign()
    report["pad"] = {"strokes": len(screen().ids.signature.strokes),
                     "size": list(screen().ids.signature.size)}  # fmt: skip
    yield from shoot("parcel-signed")
    yield from press("Confirm collection")
    yield from wait_for("collected", lambda: screen().name == "notice")
    report["collected_notice"] = notice()
    yield from shoot("parcel-collected")
    report["after_collecting"] = services.parcel_rows()
    report["signatures_after_collecting"] = services.signature_rows()

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
    services.log_for_company("Globex", "jd")  # another courier's, at the CLI

    # The guard: the shelf searched, Globex's parcel handed over with a signature.
    yield from press("Staff")
    yield from on("pin")
    yield from touch.type_pin(GUARD_PIN)
    yield from on("guard")
    yield from press("Parcels")
    yield from on("guard_parcels")
    report["guard_rows"] = sorted(row.recipient for row in screen().ids.parcels.children)
    yield from shoot("guard-parcels")
    yield from tap(screen().ids.query)
    yield from type_keys("glo")
    yield from wait_for("the search", lambda: len(screen().parcels) == 1)
    report["guard_search_rows"] = [row.recipient for row in screen().ids.parcels.children]
    yield from shoot("guard-parcels-search")
    yield from press("Collected")
    yield from on("guard_collect")
    yield from type_keys("wang fang")
    yield from press("Record the collection")  # not signed yet
    report["guard_unsigned_problem"] = screen().error_id
    yield from sign()
    yield from shoot("guard-collect")
    yield from press("Record the collection")
    yield from on("guard_parcels")
    report["guard_after_collect"] = [screen().status_id, [p.recipient for p in screen().parcels]]
    yield from shoot("guard-parcels-collected")
    yield from tap(screen().ids.query)
    for _ in "glo":
        yield from tap(find("KeyButton", key="backspace"))
    yield from wait_for(
        "the whole shelf", lambda: len(screen().parcels) == 1 and not screen().query
    )
    report["after_guard_collect"] = services.parcel_rows()
    report["signatures_after_guard"] = services.signature_rows()

    # The guard reprints the kept parcel's label, then marks it returned to its sender.
    jobs = len(report["printed_qrs"])
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


def end_to_end_script(
    app: Any, args: argparse.Namespace, services: Any, report: dict[str, Any]
) -> Iterator[None]:
    """tests/ui/test_deliveries_end_to_end.py's kiosk half: a parcel logged by touch for
    李娜, its label and 李娜's e-mail read back, a sync; then, once the test has seen the
    office's page (the file DIR/go), the pickup by the e-mail's QR and a sync again.
    DIR/logged.json and DIR/collected.json tell the test each half is done."""
    from kivy.core.window import Window
    from touch_driver import TouchDriver

    touch = TouchDriver(app, args.out, languages=args.languages.split(","), report=report)
    screen, press, on, wait_for = touch.screen, touch.press, touch.on, touch.wait_for
    out: Path = args.out

    yield from wait_for("the first frame", lambda: app.root is not None and Window.size[0] > 0)
    yield from on("welcome")
    app.set_language(touch.languages[0])
    yield from touch.press("Delivery")
    yield from on("delivery_recipient")
    yield from touch.type_keys("lina")
    yield from wait_for("李娜 found", lambda: bool(screen().results))
    yield from touch.tap(touch.find("HostResult", host_name="李娜"))
    yield from on("delivery_kind")
    yield from press("Parcel")
    yield from on("delivery_carrier")
    yield from press("SF Express")
    yield from on("delivery_items")
    yield from touch.shoot("e2e-items")
    yield from press("Print the label")
    printed = translate("Label printed: stick it on the parcel.", app.language)
    yield from wait_for("the label printed", lambda: getattr(screen(), "title", "") == printed)
    yield from touch.shoot("e2e-printed")
    report["after_logging"] = services.parcel_rows()
    report["printed_qrs"] = services.printed_pickup_qrs()
    yield from wait_for("李娜's e-mail", lambda: bool(services.mail_qrs("li.na@example.com")), 1500)
    report["mail"] = services.mail_qrs("li.na@example.com")
    report["sync_after_logging"] = services.sync_once()
    (out / "logged.json").write_text(json.dumps(report["after_logging"], ensure_ascii=False))

    yield from wait_for("the office's page seen", (out / "go").exists, 20_000)
    yield from press("Back to the start")
    yield from on("welcome")
    yield from press("Collect a parcel")
    yield from on("parcel_code")
    yield from press("Scan the QR code")
    yield from on("scan")
    qr_from_mail = report["mail"][0][1]
    services.push_code(qr_from_mail)
    yield from on("parcel")
    yield from touch.shoot("e2e-parcel")
    yield from press("Confirm collection")
    yield from wait_for("collected", lambda: screen().name == "notice")
    report["collected_notice"] = [screen().title, screen().body]
    yield from touch.shoot("e2e-collected")
    report["after_collecting"] = services.parcel_rows()
    report["sync_after_collecting"] = services.sync_once()
    (out / "collected.json").write_text(json.dumps(report["after_collecting"], ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--languages", default="en,zh_Hans,zh_Hant")
    parser.add_argument("--engine", action="store_true", help="be the engine of the site in --out")
    parser.add_argument("--link-fd", type=int, help="the engine's end of its link")
    parser.add_argument(
        "--site", type=Path, help="end to end: the site made and enrolled in SITE (its engine)"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.engine:
        # flows.py's engine, its class looked up when it starts: this script's, with more.
        flows.flows_engine_class = delivery_engine_class
        sys.exit(flows.serve_flows_engine(args.out, args.link_fd))
    report: dict[str, Any] = {"ok": False}
    scratch = tempfile.TemporaryDirectory()
    if args.site:  # made and enrolled by the end-to-end test
        from kiosk.engine_link import start_engine

        command = [sys.executable, __file__, "--out", str(args.site), "--engine"]
        services = start_engine(command)
        services.idle_timeout_s = 600.0
    else:
        services = build_delivery_site(Path(scratch.name))
    run_script = end_to_end_script if args.site else script

    from kivy.app import App
    from kivy.clock import Clock

    from kiosk.ui import app as kiosk_app

    def start(_dt: float) -> None:
        app = App.get_running_app()
        steps = run_script(app, args, services, report)

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
        kiosk_app.run_kiosk(services, size=(width, height))
    except BaseException as err:
        report["error"] = repr(err)
        report["traceback"] = traceback.format_exc()
    finally:
        report["engine_exit_code"] = services.close()
        (args.out / "report.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=1, default=str)
        )
        scratch.cleanup()
        os._exit(0)


if __name__ == "__main__":
    main()
