"""Runs the real kiosk on a real engine and drives every flow with touches.

    python tests/ui/flows.py --out DIR [--size 1280x800] [--languages zh_Hans,zh_Hant,en]
                             [--only welcome,invitation,...]

The site lives in a temporary folder: `init_kiosk` makes its config, keys and SQLite
database, the clock is fixed at a Monday 10:00 in Shanghai (open), the camera is the
fake one (codes are pushed to it, rendered as a camera would see them) and the printer
is the FakePrinter (faults on demand). Every screen met is screenshotted in every
language by touching the language buttons, and its visible labels are recorded with
the font file that drew them. The report (DIR/report.json) also holds what the database
says happened, for the tests to check. Waits count drawn frames, never sleep.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

PROCESS_START = time.monotonic()
REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "ui"), str(REPO / "tests")]

from tests_support import MONDAY_10AM  # noqa: E402

GUARD_PIN, ADMIN_PIN = "2468", "1357"
FLOWS = (
    "welcome",
    "invitation",
    "approval",
    "absent",
    "watchlist",
    "printer",
    "guard",
    "admin",
    "identity",
    "idcard",
    "checkout",
    "idle",
    "after_hours",
)


def make_site(folder: Path) -> None:
    """The site's config, keys, hosts, watchlist and invitations (FOLDER/tokens.json).

    Run in a process of its own (`--make-site`), as `kiosk init` and the office's sync
    are on a real kiosk: the touchscreen's process only opens the site, so what creating
    it loads (Argon2's hashing, pypinyin for 李娜's search key) is not counted in its memory.
    """
    from argon2 import PasswordHasher
    from local_servers import Mailbox, free_port

    from kiosk.app import build_kiosk, init_kiosk
    from kiosk.config import load_config
    from kiosk.domain.clock import ManualClock
    from kiosk.domain.values import HostAvailability
    from kiosk.storage.db import open_database

    clock = ManualClock(MONDAY_10AM)
    path = folder / "kiosk.toml"
    init_kiosk(path, site_name="Riverside Tower", clock=clock)
    hasher = PasswordHasher()
    with path.open("a", encoding="utf-8") as file:
        file.write(
            f'\n[admin]\npin_hash = "{hasher.hash(ADMIN_PIN)}"\n'
            f'guard_pin_hash = "{hasher.hash(GUARD_PIN)}"\n'
            '\n[cases]\nunits = ["3-1201", "3-1202", "5-0801"]\n'
        )
    config = load_config(path)
    kiosk = build_kiosk(config, open_database(config.database_path), clock)
    directory = kiosk.directory
    # The hosts' mail goes to a real SMTP server on loopback, started by the engine's
    # process (serve_flows_engine) on this port, and sent by the real notifier.
    mailbox = Mailbox(free_port())
    for name, address, department in (
        ("Maria Schmidt", "maria@example.com", "Engineering"),
        ("李娜", "li.na@example.com", "行政部"),
        ("James O'Connor", "james@example.com", "Sales"),
    ):
        directory.add_host(
            name, email=address, department=department, channels=[mailbox.url(address)]
        )
    directory.set_availability("james@example.com", HostAvailability.OUT)
    directory.add_watchlist_entry("Mallory Bad", reason="banned")
    signer = kiosk.keys.invitation_signer()
    at = MONDAY_10AM.replace(hour=10, minute=30)
    tokens = {
        name: directory.invite(signer, visitor_name=name, host="Maria Schmidt", at=at).token
        for name in ("Zhang Wei", "Li Lei")
    }
    directory.add_appointment(
        visitor_name="Anna Eriksson", host="李娜", starts_at=MONDAY_10AM + timedelta(hours=4)
    )
    kiosk.close()
    (folder / "tokens.json").write_text(json.dumps(tokens))
    (folder / "smtp-port").write_text(str(mailbox.port))


def build_site(folder: Path) -> tuple[Any, dict[str, str]]:
    """The site made in a process of its own, and its engine started as `kiosk run` starts
    it (kiosk.engine_link), with this file's `FlowsEngine`: (services, tokens by visitor)."""
    import subprocess

    from kiosk.engine_link import start_engine

    subprocess.run(
        [sys.executable, __file__, "--out", str(folder), "--make-site"],
        check=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    services = start_engine([sys.executable, __file__, "--out", str(folder), "--engine"])
    services.idle_timeout_s = 600.0  # the idle flow shortens it
    tokens: dict[str, str] = json.loads((folder / "tokens.json").read_text())
    return services, tokens


def serve_flows_engine(folder: Path, link_fd: int) -> int:
    """The engine's process: the real services on the site in FOLDER, the clock fixed at
    a Monday 10:00, the fake camera and the FakePrinter, and the harness's controls."""
    import contextlib

    from kiosk.engine_link import serve_engine
    from kiosk.ui import lean_process

    lean_process()  # as `kiosk engine` does
    logging.getLogger("peewee").setLevel(logging.INFO)

    @contextlib.contextmanager
    def open_services() -> Iterator[Any]:
        import threading

        from local_servers import smtp_server_on

        from kiosk.app import build_kiosk, build_notifier
        from kiosk.config import load_config
        from kiosk.devices.cameras import open_camera
        from kiosk.devices.config import CameraConfig
        from kiosk.devices.printers import FakePrinter
        from kiosk.domain.clock import ManualClock
        from kiosk.storage.db import open_database

        config = load_config(folder / "kiosk.toml")
        kiosk = build_kiosk(config, open_database(config.database_path), ManualClock(MONDAY_10AM))
        printer = FakePrinter()
        camera = open_camera(CameraConfig(kind="fake", fps=15, quiet_time_s=0.5))
        services = flows_engine_class()(kiosk, printer=printer, camera=camera)
        services.fake_printer = printer
        # The notifier beside the engine, as `kiosk notify` runs beside `kiosk run`.
        stop = threading.Event()
        notifier = build_notifier(kiosk)
        with smtp_server_on(int((folder / "smtp-port").read_text())) as mailbox:
            services.mailbox = mailbox
            thread = threading.Thread(target=notifier.run, args=(stop, 0.5), daemon=True)
            thread.start()
            try:
                yield services
            finally:
                stop.set()
                thread.join(timeout=10)
                services.close()
                kiosk.close()

    return serve_engine(link_fd, open_services)


def flows_engine_class() -> type:
    """KioskServices with what the harness does to the world: codes shown to the camera,
    printer faults, a host's answer, the clock. Defined late: kiosk.app is the engine's."""
    from kiosk.app import KioskServices

    class FlowsEngine(KioskServices):
        fake_printer: Any
        mailbox: Any

        def push_code(self, text: str) -> None:
            self.scanner.source.push_code(text)

        def frames_captured(self) -> int:
            return int(self.scanner.frames_captured)

        def printer_fault(self, name: str) -> None:
            self.fake_printer.fault(name)

        def lay_card(self, name: str, fault: str = "") -> None:
            """A card of the simulated ID card reader's (kiosk.devices.fake_id_reader)."""
            fake = self.card_reading.loop.fake
            fake.remove()
            if fault:
                fake.fault(fault)
            fake.lay(name)

        def printed_jobs(self) -> int:
            return len(self.fake_printer.jobs)

        def lift_card(self) -> None:
            self.card_reading.loop.fake.remove()

        def card_reader_polling(self) -> bool:
            return bool(self.card_reading.loop.running)

        def visitor_document(self, visitor_name: str) -> list[Any]:
            from kiosk.storage.models import Visitor

            visitor = Visitor.get(Visitor.name == visitor_name)
            return [visitor.document_last4, bool(visitor.document_hash)]

        def acknowledge(self, visit_ref: str) -> None:
            self._kiosk.engine.acknowledge(visit_ref, by="link:host")

        def approve(self, visit_ref: str) -> None:
            self._kiosk.engine.decide_approval(visit_ref, True, by="link:host")

        def visit_ref_of(self, visitor_name: str) -> str:
            from kiosk.storage.models import Visit, Visitor

            return str(Visit.select().join(Visitor).where(Visitor.name == visitor_name).get().ref)

        def badge_token(self, visitor_name: str) -> str:
            return str(self._kiosk.engine.badge_content(self.visit_ref_of(visitor_name)).token)

        def set_clock(self, moment: Any) -> None:
            self._kiosk.clock.set(moment)

        def case_rows(self) -> list[dict[str, Any]]:
            from kiosk.services.cases.models import KioskCase

            return [
                {
                    "number": c.number, "kind": c.kind, "category": c.category,
                    "unit": c.unit, "unit_known": c.unit_known, "description": c.description,
                    "name": c.reporter_name, "phone": c.reporter_phone,
                    "photo": c.photo_jpeg is not None, "language": c.language,
                }
                for c in KioskCase.select().order_by(KioskCase.id)
            ]  # fmt: skip

        def case_receipt_url(self, number: str) -> str:
            """The receipt's QR as the office's status page would have it."""
            from kiosk.services.cases.models import KioskCase

            case = KioskCase.get(KioskCase.number == number)
            return f"https://office.example/c/{case.receipt_token}"

        def resolve_case(self, number: str) -> None:
            """The office resolved it: its `case` change through the feed-apply path."""
            from kiosk.services.cases.desk import iso
            from kiosk.services.cases.models import KioskCase
            from kiosk.sync.apply import apply_changes, current_cursor

            case = KioskCase.get(KioskCase.number == number)
            now = self._kiosk.clock.now()
            data = {
                "case_ref": case.ref, "number": case.number, "kind": case.kind,
                "state": "resolved", "opened_at": iso(case.opened_at),
                "response_due_at": iso(case.response_due_at), "resolved_at": iso(now),
                "followup_due_at": iso(now + timedelta(hours=24)), "updated_at": iso(now),
            }  # fmt: skip
            change = {"entity": "case", "ref": case.ref, "data": data}
            with self._kiosk.db.atomic():
                apply_changes([change], current_cursor() + 1, self._kiosk.kiosk_id, now)

        def case_follow_ups(self) -> list[list[str]]:
            from kiosk.services.cases.models import CaseFollowUp, CaseStatus

            states = [s.state for s in CaseStatus.select()]
            return [[f.outcome, f.note, *states] for f in CaseFollowUp.select()]

        def memory_kib(self) -> int:
            return rss_kib()

        def parcel_rows(self) -> list[dict[str, Any]]:
            """The parcels' rows as the database holds them (tests/ui/delivery_flows.py)."""
            from kiosk.storage.parcels import Parcel

            fields = ("ref", "pickup_code", "host_ref", "company", "kind", "carrier", "items")
            more = ("shelf", "state", "collected_by", "method", "signed")
            return [
                {name: getattr(row, name) for name in (*fields, *more)}
                for row in Parcel.select().order_by(Parcel.id)
            ]

        def printed_pickup_qrs(self) -> list[list[str]]:
            """Each printed job read back from its bytes by the independent ESC/POS reader
            (tests/devices/escpos_reader.py), its QR codes decoded with zxing-cpp."""
            import numpy as np
            import zxingcpp
            from devices.escpos_reader import read_job

            found = []
            for job in self.fake_printer.jobs:
                grey = np.asarray(read_job(job, 576).paper.convert("L"))
                codes = zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormat.QRCode)
                found.append([code.text for code in codes])
            return found

        def final_report(self) -> dict[str, Any]:
            return {
                "engine_rss_kib": rss_kib(),
                "engine_packages": loaded_packages(),
                "data_words": data_words(self._kiosk.config),
                "printed_jobs": len(self.fake_printer.jobs),
                "mail_to": sorted(str(m["To"]) for m in self.mailbox.messages),
                "db": database_state(),
            }

    return FlowsEngine


def script(
    app: Any, args: argparse.Namespace, site: tuple[Any, ...], report: dict[str, Any]
) -> Iterator[None]:
    """The visitors', guards' and admin's touches; each `yield` waits one frame."""
    from kivy.core.window import Window
    from touch import Finger
    from touch_driver import TouchDriver

    from kiosk.ui.screens import KEPT_SCREENS
    from kiosk.ui.widgets import KeyButton

    services, tokens = site
    # The touches, written once in tests/ui/touch_driver.py (delivery_flows.py uses them too).
    touch = TouchDriver(
        app,
        args.out,
        languages=args.languages.split(","),
        report=report,
        no_screenshots=args.no_screenshots,
    )
    while touch.frames_drawn < 1:
        yield
    report["first_frame_s"] = time.monotonic() - PROCESS_START
    report["window_size"] = list(Window.size)
    report["shots"] = []
    report["touch_ms"] = []
    report["rss_steps"] = []  # [step, the touchscreen's KiB, the engine's KiB]

    def note_memory(step: str) -> None:
        report["rss_steps"].append([step, rss_kib(), services.memory_kib()])

    note_memory("first frame")
    if os.environ.get("KIOSK_SMAPS"):
        report["smaps_first_frame"] = smaps_by_mapping()[:40]
    while not set(app.root.screen_names) >= KEPT_SCREENS:  # built ahead, one a frame
        yield
    note_memory("screens built ahead")
    if os.environ.get("KIOSK_TRACEMALLOC"):  # where the flows' Python memory goes
        import tracemalloc

        tracemalloc.start(int(os.environ["KIOSK_TRACEMALLOC"]))
    # Bound to the names the flows below have always called.
    settle, screen, tap, wait_for, on, find, step = (
        touch.settle, touch.screen, touch.tap, touch.wait_for, touch.on, touch.find, touch.step
    )  # fmt: skip
    button, press, timed_press, into_view, type_keys, shoot = (
        touch.button, touch.press, touch.timed_press, touch.into_view, touch.type_keys,
        touch.shoot,
    )  # fmt: skip
    type_pin, take_photo, pinyin = touch.type_pin, touch.take_photo, touch.pinyin

    def sign_in_as_admin() -> Iterator[None]:
        yield from timed_press("Staff", "pin", "touch_built_ms")
        yield from press("Administrator")
        yield from type_pin(ADMIN_PIN)
        yield from on("admin")

    def send_without_photo_or_contact() -> Iterator[None]:
        """From a case's described step: no photo, the contact skipped, sent."""
        yield from press("Next")
        yield from press("No photo")
        yield from step("contact")
        yield from press("Skip")  # the bar's button: in reach whatever the window's size
        yield from step("confirm")
        yield from press("Send")

    def case_flows() -> Iterator[None]:
        """Report a repair end to end (a double tap on Send), a suggestion while the printer
        is out of paper, then scan the repair's receipt before and after its resolution."""
        yield from timed_press("Report an issue", "cases", "touch_built_ms")
        yield from shoot("case-kind")
        yield from press("Repair request")
        yield from step("place")
        # The screen's fields are read afresh each time: a rebuilt step replaces them.
        for name, keys in (("building", "b"), ("floor", "12")):
            yield from into_view(screen()._fields[name])  # one field at a time on 800x480
            yield from tap(screen()._fields[name])
            yield from type_keys(keys)
        yield from into_view(screen()._fields["unit"])
        yield from tap(screen()._fields["unit"])
        yield from type_keys("3")  # the site's units starting with 3 are offered...
        report["case_units_offered"] = [w.text for w in screen()._unit_grid.children[::-1]]
        yield from into_view(find("Choice", text="3-1202"))
        yield from tap(find("Choice", text="3-1202"))
        report["case_unit_picked"] = screen()._fields["unit"].text
        yield from shoot("case-place-unit-picked")
        yield from into_view(screen()._fields["unit"])
        yield from tap(screen()._fields["unit"])
        for _ in "3-1202":  # ...but one not among them is allowed too
            yield from tap(find(KeyButton, key="backspace"))
        yield from tap(find(KeyButton, key="latin"))
        yield from type_keys("zz")
        yield from shoot("case-place")
        yield from press("Next")
        yield from step("description")
        yield from tap(screen()._fields["description"])
        for letters, word in (("shui", "水"), ("guan", "管"), ("lou", "漏")):
            yield from pinyin(letters, word)
        report["case_typed"] = screen()._fields["description"].text
        yield from shoot("case-description")
        yield from press("Next")
        yield from step("category")
        yield from shoot("case-category")
        yield from press("Water")
        yield from step("photo")
        yield from shoot("case-photo")
        yield from press("Yes, take a photo")
        yield from step("camera")
        rested = time.monotonic() + 0.5  # a few camera frames
        yield from wait_for("the camera", lambda: time.monotonic() > rested)
        yield from shoot("case-camera")
        yield from press("Take the photo")
        yield from step("contact")
        yield from into_view(screen()._fields["name"])
        yield from tap(screen()._fields["name"])
        yield from pinyin("wang", "王")
        yield from into_view(screen()._fields["phone"])
        yield from tap(screen()._fields["phone"])
        yield from type_keys("13800138000")
        yield from shoot("case-contact")
        yield from press("Next")
        yield from step("confirm")
        yield from shoot("case-confirm")
        jobs_before = services.printed_jobs()
        send = button("Send")  # tapped twice, as an impatient finger does
        for _ in range(2):
            x, y = send.to_window(*send.center)
            finger = Finger(x, y)
            finger.touch_down()
            finger.touch_up()
        cases_screen = app.screen("cases")
        cases_screen.busy = False  # a second submission of the same form reaching the engine
        cases_screen.send()
        yield from wait_for(
            "the case number",
            lambda: (
                getattr(screen(), "title_id", "") == "Your case number is {number}"
                and screen().tone == "ok"
            ),
            600,
        )
        report["case_done"] = [screen().title, screen().body]
        report["case_slips"] = services.printed_jobs() - jobs_before
        report["case_rows_after_repair"] = services.case_rows()
        yield from shoot("case-done")
        yield from press("Back to the start")
        yield from on("welcome")
        # A suggestion, contact skipped, while the printer has no paper.
        services.printer_fault("paper_out")
        yield from press("Report an issue")
        yield from press("Suggestion")
        yield from step("place")
        yield from press("Next")
        yield from tap(screen()._fields["description"])
        yield from pinyin("hao", "好")
        screen()._fields["description"].text += "\t"  # pasted in: the engine refuses it
        yield from press("Next")
        yield from press("No photo")
        yield from step("contact")
        yield from shoot("case-contact-suggestion")
        yield from press("Skip")  # the bar's button: in reach whatever the window's size
        yield from step("confirm")
        yield from press("Send")
        yield from step("description")  # back on the step concerned, said in words
        report["case_refused"] = [screen().error, screen()._fields["description"].text]
        yield from shoot("case-refused")
        screen()._fields["description"].text = "好"
        yield from send_without_photo_or_contact()
        yield from wait_for(
            "the printer failure", lambda: getattr(screen(), "tone", "") == "warn", 600
        )
        report["case_printer_failed"] = [screen().title, screen().body]
        yield from shoot("case-printer-failed")
        services.printer_fault("clear")
        yield from press("Back to the start")
        yield from on("welcome")
        # The repair's receipt at the scan entry point: not resolved yet, then answered.
        number = report["case_rows_after_repair"][0]["number"]
        for resolved in (False, True):
            if resolved:
                services.resolve_case(number)
            yield from press("I have an invitation")
            yield from on("scan")
            yield from settle(10)
            receipt = services.case_receipt_url(number)
            report.setdefault("case_receipts", []).append(receipt)
            services.push_code(receipt if resolved else receipt.rpartition("/c/")[2])
            yield from on("cases")
            shown = [w.text for w in screen().ids.body.walk() if getattr(w, "text", "")]
            report[f"case_status_resolved_{resolved}"] = shown
            yield from shoot(f"case-status-{'resolved' if resolved else 'open'}")
            if not resolved:
                yield from press("Cancel")
                yield from on("welcome")
        yield from into_view(button("Not satisfied"))  # below the case's lines: a swipe
        yield from press("Not satisfied")
        yield from into_view(screen()._fields["note"])  # as a swipe would
        yield from tap(screen()._fields["note"])
        yield from pinyin("hao", "好")
        yield from shoot("case-follow-up")
        yield from press("Send my answer")
        yield from wait_for(
            "the thanks", lambda: getattr(screen(), "title_id", "") == "Thank you for your answer"
        )
        yield from shoot("case-answered")
        report["case_follow_ups"] = services.case_follow_ups()
        report["case_rows"] = services.case_rows()
        yield from press("Back to the start")
        yield from on("welcome")
        # Monday 20:00, reception closed: a suggestion is still taken, its promise from 09:00.
        services.set_clock(MONDAY_10AM.replace(hour=20))
        yield from press("Report an issue")
        yield from step("kind")
        report["case_after_hours_note"] = [w.text for w in screen().ids.body.children
                                           if getattr(w, "source_args", None)]  # fmt: skip
        yield from shoot("case-kind-after-hours")
        yield from press("Suggestion")
        yield from step("place")
        yield from press("Next")
        yield from step("description")
        screen()._fields["description"].text = "A bench by the door, please"
        yield from send_without_photo_or_contact()
        yield from wait_for(
            "the evening's case number", lambda: getattr(screen(), "tone", "") == "ok", 600
        )
        report["case_after_hours_done"] = [screen().title, screen().body]
        yield from shoot("case-done-after-hours")
        services.set_clock(MONDAY_10AM)
        yield from press("Back to the start")
        yield from on("welcome")
        flows_done.append("cases")

    only = set(args.only.split(",")) if args.only else set(FLOWS)
    flows_done: list[str] = []
    app.set_language("en")
    yield from settle()

    # ---------------------------------------------------------------- cases (issue 19)
    if "cases" in only:
        yield from case_flows()

    # ---------------------------------------------------------------- welcome
    if "welcome" in only:
        yield from shoot("welcome")
        flows_done.append("welcome")
        note_memory("welcome")

    # ---------------------------------------------------------------- invitation
    if "invitation" in only:
        yield from timed_press("I have an invitation", "scan")
        yield from shoot("scan-invitation")
        note_memory("invitation: scanning")
        services.push_code("NOT-A-TOKEN")
        yield from wait_for("a polite refusal", lambda: bool(screen().problem_title))
        yield from shoot("scan-invitation-refused")
        services.push_code(tokens["Zhang Wei"])
        yield from on("notice")
        note_memory("invitation: code read")
        report["invitation_welcome"] = screen().title + " | " + screen().body
        yield from shoot("invitation-welcome")
        yield from timed_press("Continue", "photo")
        yield from shoot("photo")
        yield from take_photo()
        yield from shoot("photo-taken")
        note_memory("invitation: photo taken")
        yield from press("Use this photo")
        yield from wait_for("the badge", lambda: screen().name == "notice", 600)
        note_memory("invitation: badge printed")
        report["invitation_first_said"] = screen().title
        # The real notifier sends the host's mail to the SMTP server; the screen says so
        # once it has been sent, not before.
        yield from wait_for(
            "the host told", lambda: screen().title_id == "{who} has been told {channel}", 600
        )
        report["invitation_done"] = screen().title + " | " + screen().body
        yield from shoot("checked-in")
        # The host presses "I'm on my way" in the notification (the link's redemption
        # moves the visit through the engine); the screen polls and says so.
        services.acknowledge(app.journey.visit_ref)
        yield from wait_for(
            "the host's answer", lambda: screen().title_id == "{host} is on the way", 200
        )
        report["host_on_the_way"] = screen().title + " | " + screen().body
        yield from shoot("host-on-the-way")
        yield from press("Back to the start")
        yield from on("welcome")
        flows_done.append("invitation")
        note_memory("invitation")

    def walk_in(name: str, host_query: str, purpose: str | None = None) -> Iterator[None]:
        yield from timed_press("I don't have an appointment", "visitor")
        yield from tap(screen().ids.name)
        yield from type_keys(name.lower())
        yield from press("Next")
        yield from on("host")
        yield from type_keys(host_query)
        yield from wait_for("host results", lambda: bool(screen().results))
        yield from tap(screen().ids.results.children[-1])
        yield from on("details")
        if purpose:
            yield from press(purpose)
        yield from press("Next")

    # ---------------------------------------------------------------- walk-in needing approval
    if "approval" in only:
        app.set_language("zh_Hans")
        yield from settle()
        yield from timed_press("I don't have an appointment", "visitor")
        yield from tap(screen().ids.name)
        yield from type_keys("liu")
        yield from wait_for("candidates", lambda: bool(screen().ids.keyboard.keyboard.candidates))
        report["candidates_liu"] = [c for c, _n in screen().ids.keyboard.keyboard.candidates[:8]]
        yield from shoot("visitor-pinyin")
        yield from tap(find("CandidateButton", text="刘"))
        yield from type_keys("yang")
        yield from wait_for("candidates", lambda: bool(screen().ids.keyboard.keyboard.candidates))
        yield from tap(find("CandidateButton", text="洋"))
        note_memory("approval: name typed in pinyin")
        report["typed_name"] = screen().ids.name.text
        yield from shoot("visitor")
        yield from press("Next")
        yield from on("host")
        yield from type_keys("maria")
        yield from wait_for("host results", lambda: bool(screen().results))
        yield from shoot("host")
        yield from tap(screen().ids.results.children[-1])
        yield from on("details")
        yield from shoot("details")
        yield from press("Building or repair work")
        if args.details_keyboard:  # the form with its keyboard open (the sizes' check)
            yield from into_view(screen().ids.declared)
            yield from tap(screen().ids.declared)
            yield from type_keys("laptop")
            yield from shoot("details-keyboard")
        yield from press("Next")
        yield from on("agreement")
        note_memory("approval: host and details")
        yield from shoot("agreement")
        pad = screen().ids.pad
        touch = Finger(*pad.to_window(pad.x + 40, pad.center_y))
        touch.touch_down()
        for step in range(1, 12):
            yield
            touch.touch_move(*pad.to_window(pad.x + 40 + step * 25, pad.center_y + (step % 3) * 12))
        touch.touch_up()
        yield from settle()
        yield from shoot("agreement-signed")
        yield from press("I agree")
        note_memory("approval: agreement signed")
        yield from take_photo()
        yield from press("Use this photo")
        yield from on("notice")
        yield from shoot("escort")
        yield from press("Continue")
        yield from wait_for("the outcome", lambda: screen().name == "notice", 600)
        note_memory("approval: checked in")
        yield from wait_for("the request sent", lambda: "We have asked" in screen().body_id, 600)
        report["approval_done"] = screen().title + " | " + screen().body
        yield from shoot("awaiting-approval")
        # The host approves from the notification: the badge is printed, as after any check-in.
        services.approve(app.journey.visit_ref)
        yield from wait_for(
            "the approved badge",
            lambda: (
                screen().name == "notice" and screen().title_id == "{host} has approved your visit"
            ),
            600,
        )
        report["approval_approved"] = screen().title + " | " + screen().body
        yield from shoot("approved")
        yield from press("Back to the start")
        yield from on("welcome")
        app.set_language("en")
        yield from settle()
        flows_done.append("approval")
        note_memory("approval")

    # ---------------------------------------------------------------- absent host
    if "absent" in only:
        # Said as soon as the host is chosen: no purpose, agreement or photo before it.
        yield from timed_press("I don't have an appointment", "visitor")
        # Next with no name: asked for it, and the form does not move when it is said...
        # The name field is focused, the keyboard open under it and the field scrolled
        # into view above it (KField.into_view, 0.1 s later): the form as it rests.
        yield from wait_for("the keyboard", lambda: screen().ids.keyboard.height > 0)
        rested = time.monotonic() + 0.3
        yield from wait_for("the form to rest", lambda: time.monotonic() > rested)
        field_at = screen().ids.name.to_window(*screen().ids.name.pos)
        yield from press("Next")
        asked = [screen().error, screen().ids.name.to_window(*screen().ids.name.pos) == field_at]
        [asked_room] = [w.height for w in screen().walk() if type(w).__name__ == "Problem"]
        yield from tap(screen().ids.name)
        yield from type_keys("carol white")
        # ...nor when it goes, as soon as a name is typed (the room it takes is kept; the
        # keyboard's candidates, not the form, may move the view meanwhile).
        room = [w.height for w in screen().walk() if type(w).__name__ == "Problem"]
        report["name_asked"] = [*asked, screen().error, room[0] == asked_room]
        yield from press("Next")
        yield from on("host")
        yield from type_keys("james")
        yield from wait_for("host results", lambda: bool(screen().results))
        yield from tap(screen().ids.results.children[-1])
        yield from on("notice")
        report["absent_offer"] = screen().title
        yield from shoot("host-absent")
        yield from press("Leave a message")
        yield from on("message")
        yield from tap(screen().ids.contact)
        yield from type_keys("13800138000")
        yield from shoot("message")
        yield from press("Leave the message")
        yield from on("notice")
        report["message_done"] = screen().title
        yield from shoot("message-left")
        yield from press("Back to the start")
        yield from on("welcome")
        flows_done.append("absent")
        note_memory("absent")

    # ---------------------------------------------------------------- watchlist
    if "watchlist" in only:
        yield from walk_in("mallory bad", "maria")
        yield from take_photo()
        yield from press("Use this photo")
        yield from wait_for("the outcome", lambda: screen().name == "notice", 600)
        report["watchlist_shown"] = screen().title + " | " + screen().body
        yield from shoot("see-reception")
        yield from press("Back to the start")
        yield from on("welcome")
        flows_done.append("watchlist")
        note_memory("watchlist")

    # ---------------------------------------------------------------- printer failure
    if "printer" in only:
        services.printer_fault("paper_out")
        yield from press("I have an invitation")
        yield from on("scan")
        services.push_code(tokens["Li Lei"])
        yield from on("notice")
        yield from press("Continue")
        yield from take_photo()
        yield from press("Use this photo")
        yield from on("printing")
        yield from wait_for("the outcome", lambda: screen().name == "notice", 600)
        report["printer_failed"] = screen().title + " | " + screen().body
        yield from shoot("printer-failed")
        services.printer_fault("clear")
        yield from press("Back to the start")
        yield from on("welcome")
        flows_done.append("printer")
        note_memory("printer")

    # ---------------------------------------------------------------- guard
    if "guard" in only:
        li_badge = services.badge_token("Li Lei")
        zhang_badge = services.badge_token("Zhang Wei")
        yield from timed_press("Staff", "pin", "touch_built_ms")
        yield from type_pin("1111")
        report["wrong_pin"] = screen().message
        yield from shoot("pin")
        yield from type_pin(GUARD_PIN)
        yield from on("guard")

        def drawn_on_site() -> list[str]:  # what a guard reads: the rows' first cells
            return [row.children[-1].text for row in reversed(screen().ids.visitors.children)]

        # Untouched: no language switch or other redraw before looking.
        report["guard_untouched"] = [screen().ids.count.text, drawn_on_site()]
        report["guard_cells"] = sorted(
            {cell.text for row in screen().ids.visitors.children for cell in row.children}
        )
        report["guard_alerts"] = [[a.kind, a.subject] for a in screen().alerts]
        report["guard_alert_lines"] = [
            row.children[0].text for row in reversed(screen().ids.alerts.children)
        ]
        if "checkout" in only:  # the whole run (the sizes' runs need not wait for it)
            # A check-out elsewhere (here: through the engine, as another kiosk's would
            # land): the list follows by itself.
            services.check_out(services.visit_ref_of("刘洋"))
            yield from wait_for(
                "the list to follow a check-out", lambda: len(drawn_on_site()) == 2, 900
            )
            report["guard_after_checkout"] = [screen().ids.count.text, drawn_on_site()]
        yield from shoot("guard")
        yield from press("Print roll call")
        report["roll_call_status"] = screen().status
        yield from press("Scan a badge")
        yield from on("scan")
        services.push_code(zhang_badge[:-8] + "AAAAAAAA")
        yield from on("verdict")
        report["verdict_forged"] = [screen().valid, screen().reason_id]
        yield from shoot("verdict-invalid")
        yield from press("Scan another badge")
        yield from on("scan")
        services.push_code(li_badge)
        yield from wait_for(
            "a valid verdict", lambda: screen().name == "verdict" and screen().valid
        )
        report["verdict_valid"] = [screen().visitor_name, screen().host_name, screen().expires]
        yield from shoot("verdict-valid")
        yield from press("Back to guard mode")
        yield from on("guard")
        yield from press("Cancel")
        yield from on("welcome")
        flows_done.append("guard")
        note_memory("guard")

    # ---------------------------------------------------------------- admin
    if "admin" in only:
        yield from sign_in_as_admin()
        yield from press("Test print")
        report["admin_status"] = screen().status
        report["admin_settings"] = [line["text"] for line in screen().ids.settings.data]
        report["admin_device"] = [label.text for label in reversed(screen().ids.device.children)]
        yield from shoot("admin")
        # The high-contrast theme: switched on here, seen on the admin and welcome
        # screens, and switched off again the same way.
        yield from press("High contrast")
        yield from wait_for(
            "the high-contrast admin screen",
            lambda: app.theme == "high_contrast" and screen().name == "admin",
        )
        report["theme_switched"] = app.theme
        yield from shoot("admin-high-contrast")
        yield from press("Cancel")
        yield from on("welcome")
        yield from shoot("welcome-high-contrast")
        yield from sign_in_as_admin()
        yield from press("Standard colours")
        yield from wait_for("the standard admin screen", lambda: app.theme == "standard")
        report["theme_restored"] = app.theme
        yield from press("Cancel")
        yield from on("welcome")
        flows_done.append("admin")
        note_memory("admin")

    # ---------------------------------------------------------------- identity
    if "identity" in only:
        # GB 11643's own example number, check character X (kiosk.devices.identity checks it).
        id_number = "11010519491231002X"
        yield from press("Scan my ID")
        yield from on("scan")
        yield from shoot("scan-id")
        yield from press("Type my ID number instead")
        yield from on("idnumber")
        yield from type_keys(id_number)
        yield from tap(screen().ids.name)
        yield from type_keys("anna eriksson")
        yield from shoot("idnumber")
        yield from press("Next")
        yield from on("notice")
        report["identity_match"] = screen().title + " | " + screen().body
        yield from shoot("appointment-found")
        yield from press("Cancel")
        yield from on("welcome")
        # No appointment: the walk-in form opens with the name read from the document.
        yield from press("Scan my ID")
        yield from on("scan")
        yield from press("Type my ID number instead")
        yield from on("idnumber")
        yield from type_keys(id_number)
        yield from tap(screen().ids.name)
        yield from type_keys("peter pan")
        yield from press("Next")
        yield from on("visitor")
        report["identity_prefilled"] = screen().ids.name.text
        yield from press("Cancel")
        yield from on("welcome")
        flows_done.append("identity")
        note_memory("identity")

    # ---------------------------------------------------------------- ID card reader
    if "idcard" in only:
        # A card that moved during the read: said on the welcome screen, which stays ready.
        yield from wait_for("the reader polling", services.card_reader_polling)
        services.lay_card("resident", fault="removed_mid_read")
        yield from wait_for("the card's problem", lambda: bool(screen().card_title))
        report["idcard_misread"] = [screen().name, screen().ids.card_title.text]
        yield from shoot("welcome-card-misread")
        # Anna Eriksson's permanent resident card: her appointment with 李娜, then the badge.
        printed_before = services.printed_jobs()
        services.lay_card("permanent")
        yield from on("notice")
        report["idcard_match"] = screen().title + " | " + screen().body
        report["idcard_polling_off"] = not services.card_reader_polling()
        yield from shoot("idcard-appointment-found")
        yield from press("Continue")
        yield from take_photo()
        yield from press("Use this photo")
        yield from wait_for("the badge", lambda: screen().name == "notice", 600)
        report["idcard_done"] = screen().title
        report["idcard_document"] = services.visitor_document("Anna Eriksson")
        report["idcard_printed_jobs"] = services.printed_jobs() - printed_before
        services.lift_card()
        yield from press("Back to the start")
        yield from on("welcome")
        # 刘洋's resident card and no appointment: the walk-in form, the name not editable.
        yield from wait_for("the reader polling", services.card_reader_polling)
        services.lay_card("resident")
        yield from on("visitor")
        report["idcard_walk_in"] = [screen().ids.name.text, screen().ids.name.readonly]
        yield from shoot("idcard-walk-in")
        services.lift_card()
        yield from press("Cancel")
        yield from on("welcome")
        # The document screen polls too: a residence permit laid there.
        yield from press("Scan my ID")
        yield from on("scan")
        yield from wait_for("the reader polling", services.card_reader_polling)
        services.lay_card("permit")
        yield from on("visitor")
        report["idcard_from_scan"] = screen().ids.name.text
        services.lift_card()
        yield from press("Cancel")
        yield from on("welcome")
        flows_done.append("idcard")
        note_memory("idcard")

    # ---------------------------------------------------------------- check-out
    if "checkout" in only:
        zhang_ref = services.visit_ref_of("Zhang Wei")
        badge = services.badge_token("Zhang Wei")
        yield from timed_press("Check out", "scan")
        yield from shoot("scan-checkout")
        services.push_code(badge)
        yield from on("rating")
        yield from shoot("rating")
        yield from tap(find("Star", value=4))
        yield from press("Send")
        yield from on("notice")
        yield from shoot("thank-you")
        report["checkout_visit"] = zhang_ref
        yield from press("Back to the start")
        yield from on("welcome")
        # The same badge again: said, with when; nothing recorded, no second rating. It is
        # raised once the camera is on (as a visitor does): the camera sees it leave first,
        # so this is a new appearance, not the last one still in view.
        yield from press("Check out")
        yield from on("scan")
        started = services.frames_captured()
        yield from wait_for(
            "the camera's empty frames", lambda: services.frames_captured() > started + 4
        )
        services.push_code(badge)
        yield from wait_for("the second scan's answer", lambda: screen().name == "notice", 400)
        report["checkout_again"] = screen().title
        yield from shoot("checked-out-already")
        yield from press("Back to the start")
        yield from on("welcome")
        # Check-out by name: Carol left a message, so only Li Lei (badge not printed) is on site.
        yield from press("Check out")
        yield from on("scan")
        yield from press("Search by my name instead")
        yield from on("checkout")
        yield from type_keys("li lei")
        yield from wait_for("on-site results", lambda: bool(screen().results))
        yield from shoot("checkout-search")
        yield from tap(screen().ids.results.children[-1])
        yield from on("rating")
        yield from press("Skip")
        yield from on("notice")
        yield from press("Back to the start")
        yield from on("welcome")
        flows_done.append("checkout")
        note_memory("checkout")

    # ---------------------------------------------------------------- idle timeout
    if "idle" in only:
        yield from press("I don't have an appointment")
        yield from on("visitor")
        yield from tap(screen().ids.name)
        yield from type_keys("secret")
        services.idle_timeout_s = 1.5
        yield from wait_for("the idle timeout", lambda: screen().name == "welcome", 300)
        services.idle_timeout_s = 600.0
        report["idle_wiped"] = app.root.get_screen("visitor").ids.name.text == ""
        flows_done.append("idle")
        note_memory("idle")

    # ---------------------------------------------------------------- after hours
    if "after_hours" in only:
        site_after_hours = services.after_hours
        welcome = app.root.get_screen("welcome")
        services.set_clock(MONDAY_10AM.replace(hour=20))
        welcome.refresh_summary()
        yield from wait_for(
            "the closed status", lambda: welcome.status_known and not welcome.is_open
        )
        report["after_hours_closed_message"] = welcome.closed_message
        yield from shoot("welcome-after-hours")
        # appointments_only (the default): no walk-ins, but an invitation still works.
        yield from press("I don't have an appointment")
        yield from on("notice")
        report["after_hours_walk_in"] = [screen().title, screen().body, screen().primary_id]
        yield from shoot("after-hours-walk-in")
        yield from press("I have an invitation")
        yield from on("scan")
        report["after_hours_invitation_mode"] = screen().mode
        yield from press("Cancel")
        yield from on("welcome")
        # closed: nobody checks in; the visitor is sent to security.
        services.after_hours = "closed"
        welcome.refresh_summary()
        yield from press("I don't have an appointment")
        yield from on("notice")
        report["after_hours_closed"] = [screen().title, screen().body, screen().primary_id]
        yield from shoot("after-hours-closed")
        yield from press("Back to the start")
        yield from on("welcome")
        services.after_hours = site_after_hours
        services.set_clock(MONDAY_10AM)
        welcome.refresh_summary()
        yield from wait_for("the open status", lambda: welcome.is_open)
        flows_done.append("after_hours")
        note_memory("after_hours")

    report["flows_done"] = flows_done
    # The kiosk at rest on its welcome screen, as after any visit: `home` lets go of the
    # screens not built ahead and, a second later, collects them and trims the heap.
    report["rss_kib_last_touch"] = rss_kib()
    rest_from = time.monotonic()
    while time.monotonic() - rest_from < 2.0:
        yield
    note_memory("at rest")
    report["rss_kib"] = report["rss_steps"][-1][1]  # before the diagnostics below add theirs
    import gc

    from kivy.cache import Cache

    from kiosk.ui.screens import SCREENS

    report["screens_at_rest"] = sorted(app.root.screen_names)
    report["screens_alive_at_rest"] = sorted(
        type(thing).__name__ for thing in gc.get_objects() if type(thing) in SCREENS.values()
    )
    report["typed_text_cached_at_rest"] = sum(
        len(Cache._objects.get(category, {})) for category in ("textinput.label", "textinput.width")
    )
    # Top-level packages the UI process imported (office, sync, notify, apprise, httpx,
    # psycopg and fastapi should never be among them).
    report["packages"] = loaded_packages()
    if os.environ.get("KIOSK_TRACEMALLOC"):
        import gc
        import tracemalloc

        gc.collect()
        stats = tracemalloc.take_snapshot().statistics("traceback")[:15]
        report["tracemalloc"] = [
            [round(stat.size / 2**20, 1), stat.count, stat.traceback.format()[-6:]]
            for stat in stats
        ]
    if os.environ.get("KIOSK_SMAPS"):  # where the resident memory is, mapping by mapping
        report["smaps"] = smaps_by_mapping()[:40]
        report["font_faces"] = font_faces_in_use()
        report["widgets_by_screen"] = {
            built.name: sum(1 for _ in built.walk()) for built in app.root.screens
        }
        report["live_widgets"] = live_widgets()
        report["texture_kib_by_screen"] = {
            built.name: texture_kib(built) for built in app.root.screens
        }
        import tracemalloc

        if tracemalloc.is_tracing():
            stats = tracemalloc.take_snapshot().statistics("filename")[:30]
            report["python_by_file"] = [[stat.size // 1024, str(stat.traceback)] for stat in stats]
            report["python_total_kib"] = tracemalloc.get_traced_memory()[0] // 1024
    report.update(services.final_report())


def loaded_packages() -> list[str]:
    """Top-level packages this process imported, and its kiosk modules."""
    loaded = [name for name, module in sys.modules.items() if module is not None]
    return sorted(
        {name.split(".")[0] for name in loaded} | {n for n in loaded if n.startswith("kiosk.")}
    )


def data_words(config: Any) -> list[str]:
    """Everything the screens may show that is the site's or a visitor's, not the UI's."""
    from kiosk.storage.models import Host, Visitor

    words = [config.site.name, *config.site.greeting.values(), *config.site.closed_message.values()]
    for agreement in config.agreements.values():
        words += [*agreement.title.values(), *agreement.text.values()]
    for host in Host.select():
        words += [host.name, host.department]
    words += [visitor.name for visitor in Visitor.select()]
    return words


def database_state() -> dict[str, Any]:
    from kiosk.storage.models import HostMessage, Visit, Visitor

    visits = {}
    for visit in Visit.select().join(Visitor):
        visits[visit.visitor.name] = {
            "state": visit.state,
            "satisfaction": visit.satisfaction,
            "needs_approval": visit.needs_approval,
            "escort": visit.escort_required,
        }
    return {"visits": visits, "messages": HostMessage.select().count()}


def live_widgets() -> list[list[object]]:
    """[class, count, how many have no parent] of every widget alive, most first: a
    widget made during the flows and kept by something after its screen let it go shows."""
    import gc

    from kivy.uix.widget import Widget

    gc.collect()
    counts: dict[str, list[int]] = {}
    for thing in gc.get_objects():
        try:
            if not isinstance(thing, Widget):
                continue
            orphan = thing.parent is None
        except ReferenceError:
            continue
        entry = counts.setdefault(type(thing).__name__, [0, 0])
        entry[0] += 1
        entry[1] += orphan
    return sorted(([name, *entry] for name, entry in counts.items()), key=lambda e: -e[1])


def texture_kib(root: Any) -> int:
    """The pixels of the textures `root`'s widgets hold (RGBA), in KiB: with software GL
    (llvmpipe) they are in this process's memory."""
    total = 0
    for widget in root.walk(restrict=False):
        texture = getattr(widget, "texture", None)
        if texture is not None:
            total += texture.width * texture.height * 4
    return total // 1024


def font_faces_in_use() -> list[list[object]]:
    """[font file, size in px, labels]: each pair is a face SDL2_ttf opens (~2.5 MB for CJK)."""
    import gc

    from kivy.uix.label import Label

    faces: dict[tuple[str, int], int] = {}
    gc.collect()
    for thing in gc.get_objects():
        try:
            if not isinstance(thing, Label) or not thing.text:
                continue
        except ReferenceError:  # a proxy to a widget gone
            continue
        options = thing._label.options
        face = (Path(str(options.get("font_name_r"))).name, int(options["font_size"]))
        faces[face] = faces.get(face, 0) + 1
    return sorted([*face, count] for face, count in faces.items())


def smaps_by_mapping() -> list[tuple[int, str]]:
    """(resident KiB, mapped file or [heap]/[anon]) for this process, largest first."""
    totals: dict[str, int] = {}
    name = ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5 and not fields[0].endswith(":"):
            name = fields[5] if len(fields) > 5 else "[anon]"
        elif fields and fields[0] == "Rss:":
            totals[name] = totals.get(name, 0) + int(fields[1])
    return sorted(((kib, name) for name, kib in totals.items()), reverse=True)


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--languages", default="zh_Hans,zh_Hant,en")
    parser.add_argument("--only", default="")
    parser.add_argument("--details-keyboard", action="store_true")
    parser.add_argument(
        "--no-screenshots",
        action="store_true",
        help="every touch, every language switch, but no PNG (screenshots are the tests')",
    )
    parser.add_argument("--make-site", action="store_true", help="create the site in --out")
    parser.add_argument("--engine", action="store_true", help="be the engine of the site in --out")
    parser.add_argument("--link-fd", type=int, help="the engine's end of its link")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.make_site:
        make_site(args.out)
        return
    if args.engine:
        sys.exit(serve_flows_engine(args.out, args.link_fd))
    report: dict[str, Any] = {"ok": False}
    scratch = tempfile.TemporaryDirectory()
    site = build_site(Path(scratch.name))

    from kivy.app import App
    from kivy.clock import Clock

    from kiosk.ui import app as kiosk_app

    def start(_dt: float) -> None:
        app = App.get_running_app()
        steps = script(app, args, site, report)

        def tick(_dt: float) -> None:
            try:
                next(steps)
            except StopIteration:
                report.setdefault("rss_kib", rss_kib())  # --only: no rest measured
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
    except BaseException as err:  # raised in a Kivy callback: os._exit below would hide it
        report["error"] = repr(err)
        report["traceback"] = traceback.format_exc()
    finally:
        report["engine_exit_code"] = site[0].close()
        (args.out / "report.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=1, default=str)
        )
        scratch.cleanup()
        os._exit(0)  # device threads are daemons; do not wait for the interpreter's teardown


def Window_shot(out: Path) -> None:
    from kivy.core.window import Window

    shot = Window.screenshot(name=str(out / "failure-.png"))
    Path(shot).replace(out / "failure.png")


if __name__ == "__main__":
    main()
