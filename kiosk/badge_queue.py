"""Badges from the engine to the printer through a queue that never loses a job.

`BadgeQueue` is handed the printer and its settings (kiosk.app opens the configured one);
a failed print is reported to the engine as a device problem.
"""

from __future__ import annotations

from kiosk.devices.commands import badge_blocks
from kiosk.devices.config import PrinterConfig
from kiosk.devices.print_queue import PrintJob, PrintQueue
from kiosk.devices.protocols import DeviceEvent, DeviceEventKind, Printer
from kiosk.domain.clock import Clock
from kiosk.services.checkin import CheckInEngine


class BadgeQueue:
    """Badges from the engine to the printer through a queue that never loses a job.

    A failed print leaves the check-in as it was; the failure is recorded by the engine as
    a device problem (the guards' alerts, the office's log), and the job can be retried or
    the badge reprinted from the database at any time.
    """

    def __init__(
        self, engine: CheckInEngine, printer: Printer, settings: PrinterConfig, clock: Clock
    ) -> None:
        self._engine = engine
        self.settings = settings
        self.printer = printer
        self.queue = PrintQueue(self.printer, clock.now)
        self.queue.add_listener(self._on_event)

    def print_badge(self, visit_ref: str, language: str = "") -> PrintJob:
        content = self._engine.badge_content(visit_ref, language)
        return self.queue.submit_stream(badge_blocks(content, self.settings), label=visit_ref)

    def _on_event(self, event: DeviceEvent) -> None:
        if event.kind is DeviceEventKind.PRINT_FAILED:
            visit_ref = str(event.detail.get("label", ""))
            self._engine.record_device_problem("printer", event.message, visit_ref)
