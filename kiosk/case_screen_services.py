"""The case screens' services (`kiosk.ui.case_services.CaseServices`) over the case desk and
the case slip's print queue (issue 19), mixed into the touchscreen's services by the
composition root (`kiosk.app.KioskServices`), so that the screens reach them through the
same object, and across the same engine link, as every other call.

A case is committed by the desk before its slip is queued: a printer that fails loses no
case, and the screen says so with the case number.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from kiosk.case_printing import CaseSlipPrinting
from kiosk.devices.print_queue import JobState
from kiosk.devices.protocols import DeviceEvent, DeviceEventKind
from kiosk.services.cases.deadlines import next_opening
from kiosk.services.cases.desk import CaseDesk, CaseView, OpenedCase
from kiosk.services.cases.form import PHOTO_MAX_BYTES, CaseReport, Place, Reporter
from kiosk.ui import case_services as ui

#: The UI's language codes and the case engine's.
ENGINE_LANGUAGES = {"zh_Hans": "zh_CN", "zh_Hant": "zh_TW", "en": "en"}


class CaseScreenServices:
    """Open a case from the screens' form, print its slip, show a scanned receipt and take
    the reporter's follow-up. `attach_cases` hands it the desk and the slip printer."""

    _case_desk: CaseDesk
    _case_printing: CaseSlipPrinting

    def attach_cases(self, desk: CaseDesk, printing: CaseSlipPrinting) -> None:
        self._case_desk = desk
        self._case_printing = printing
        self._case_opened: dict[str, OpenedCase] = {}
        self._case_callbacks: dict[int, Callable[[bool], None]] = {}
        self._case_lock = threading.Lock()
        printing.queue.add_listener(self._on_case_print_event)
        printing.queue.start()

    def close_cases(self) -> None:
        self._case_printing.queue.stop()

    def case_categories(self) -> list[str]:
        return list(self._case_desk.config.cases.categories)

    def case_units(self) -> list[str]:
        return list(self._case_desk.config.cases.units)

    def open_case(self, form: ui.CaseForm) -> ui.CaseOpenedView:
        report = CaseReport(
            submission_key=form.submission_key,
            kind=form.kind,
            description=form.description,
            place=Place(building=form.building, floor=form.floor, unit=form.unit),
            reporter=Reporter(name=form.name, unit=form.contact_unit, phone=form.phone),
            category=form.category if form.kind == "repair" else "",
            language=ENGINE_LANGUAGES.get(form.language, "en"),
            photo_agreed=form.photo_agreed,
            photo_jpeg=fitting_photo(form.photo_jpeg) if form.photo_agreed else None,
        )
        opened = self._case_desk.open(report)
        if opened.new:  # a double tap's second answer prints nothing more
            with self._case_lock:
                self._case_opened[opened.ref] = opened
        slip = self._case_printing.slip_of(opened, report.language)
        opens = next_opening(self._case_desk.config.site, opened.opened_at)
        shown_opens = ""
        if opens is not None and opens > opened.opened_at:  # after hours: counted from then
            shown_opens = self._case_printing.local_time(opens, opened.opened_at)
        return ui.CaseOpenedView(
            opened.ref, opened.number, opened.kind, slip.respond_by, opened.unit_known, opened.new,
            shown_opens,
        )  # fmt: skip

    def case_reception_opens(self) -> str:
        opens = self._case_desk.reception_opens()
        now = self._case_desk.clock.now()
        return self._case_printing.local_time(opens, now) if opens is not None else ""

    def print_case_receipt(
        self, case_ref: str, on_done: Callable[[bool], None], language: str = "en"
    ) -> None:
        with self._case_lock:
            opened = self._case_opened.pop(case_ref)
            job = self._case_printing.print_receipt(opened, ENGINE_LANGUAGES.get(language, "en"))
            self._case_callbacks[job.job_id] = on_done
        state = self._case_printing.queue.get(job.job_id).state
        if state in (JobState.DONE, JobState.FAILED):
            self._finish_case_job(job.job_id, state is JobState.DONE)

    def _on_case_print_event(self, event: DeviceEvent) -> None:
        if event.kind in (DeviceEventKind.PRINT_DONE, DeviceEventKind.PRINT_FAILED):
            printed = event.kind is DeviceEventKind.PRINT_DONE
            self._finish_case_job(int(event.detail["job_id"]), printed)

    def _finish_case_job(self, job_id: int, printed: bool) -> None:
        with self._case_lock:
            callback = self._case_callbacks.pop(job_id, None)
        if callback is not None:
            callback(printed)

    def show_case_receipt(self, scanned: str) -> ui.CaseStatusView:
        return self._status(self._case_desk.show_receipt(scanned))

    def follow_up_case(self, case_ref: str, outcome: str, note: str = "") -> ui.CaseStatusView:
        return self._status(self._case_desk.follow_up(case_ref, outcome, note))

    def _status(self, view: CaseView) -> ui.CaseStatusView:
        zone = self._case_printing.zone

        def local(moment: datetime | None) -> datetime | None:
            return moment.astimezone(zone) if moment else None

        return ui.CaseStatusView(
            ref=view.ref,
            number=view.number,
            kind=view.kind,
            state=view.state,
            opened_at=view.opened_at.astimezone(zone),
            response_due_at=view.response_due_at.astimezone(zone),
            resolved_at=local(view.resolved_at),
            followup_due_at=local(view.followup_due_at),
            followed_up=view.followed_up,
            can_follow_up=view.can_follow_up,
        )


def fitting_photo(jpeg: bytes | None) -> bytes | None:
    """The camera's JPEG, made smaller until the desk keeps it (at most PHOTO_MAX_BYTES)."""
    if jpeg is None or len(jpeg) <= PHOTO_MAX_BYTES:
        return jpeg
    import cv2
    import numpy as np

    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if picture is None:
        return jpeg  # not a picture: the desk says so in words
    for scale, quality in ((1.0, 70), (0.75, 70), (0.5, 70), (0.5, 50), (0.35, 50)):
        sized = cv2.resize(picture, None, fx=scale, fy=scale) if scale != 1.0 else picture
        ok, encoded = cv2.imencode(".jpg", sized, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok and len(encoded) <= PHOTO_MAX_BYTES:
            return bytes(encoded)
    return jpeg
