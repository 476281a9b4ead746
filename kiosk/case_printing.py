"""Case receipts from the case desk to the printer through the queue that never loses a
job (issue 19), on whichever printer the kiosk has (ESC/POS or Brother QL).

The case is committed before its slip is queued, so a printer failing mid-job loses no
case: the job is FAILED with its bytes (retry or reprint it), the failure is recorded as a
device problem for the guards, and the screen still shows the case number.
"""

from __future__ import annotations

from datetime import datetime

from kiosk.devices.case_slip import CaseSlip, case_slip_job
from kiosk.devices.commands import fonts_for
from kiosk.devices.config import PrinterConfig
from kiosk.devices.print_queue import PrintJob, PrintQueue
from kiosk.devices.protocols import DeviceEvent, DeviceEventKind, Printer
from kiosk.domain.clock import Clock
from kiosk.services.cases.desk import OpenedCase
from kiosk.services.checkin import CheckInEngine


class CaseSlipPrinting:
    def __init__(
        self,
        *,
        engine: CheckInEngine,
        printer: Printer,
        settings: PrinterConfig,
        clock: Clock,
        site_name: str,
        queue: PrintQueue | None = None,
    ) -> None:
        self._engine = engine
        self.settings = settings
        self.printer = printer
        self.site_name = site_name
        self.zone = engine.calendar.zone
        # One printer, one queue: a slip queued beside a badge on a queue of its own could
        # interleave their bytes on the wire. A queue shared with the badges (the
        # touchscreen's) already reports its failures as device problems.
        self.queue = queue or PrintQueue(printer, clock.now)
        if queue is None:
            self.queue.add_listener(self._on_event)

    def local_time(self, moment: datetime, today: datetime) -> str:
        """`moment` on the site's clock: "14:30", or "12-08 14:30" when not on `today`'s date."""
        local = moment.astimezone(self.zone)
        same_day = local.date() == today.astimezone(self.zone).date()
        return local.strftime("%H:%M" if same_day else "%m-%d %H:%M")

    def slip_of(self, opened: OpenedCase, language: str) -> CaseSlip:
        respond_by = self.local_time(opened.response_due_at, opened.opened_at)
        return CaseSlip(
            self.site_name, opened.number, opened.kind, respond_by, opened.receipt_qr, language
        )

    def print_receipt(self, opened: OpenedCase, language: str = "en") -> PrintJob:
        slip = self.slip_of(opened, language)
        job = case_slip_job(
            slip, self.printer, fonts_for(self.settings.font_path), self.settings.profile
        )
        return self.queue.submit(job, label=f"case:{opened.ref}")

    def _on_event(self, event: DeviceEvent) -> None:
        if event.kind is DeviceEventKind.PRINT_FAILED:
            self._engine.record_device_problem("printer", event.message, "")
