"""Parcel labels from the deliveries engine to the printer, through the same queue that
never loses a badge (kiosk.devices.print_queue).

A printer failing mid-job leaves the parcel logged (its row committed before the label was
encoded); the failure is recorded as a device problem for the guards, and staff mode's
"reprint label" draws it again from the row.
"""

from __future__ import annotations

from kiosk.devices.commands import fonts_for
from kiosk.devices.config import PrinterConfig
from kiosk.devices.parcel_label import ParcelLabel, parcel_label_job
from kiosk.devices.print_queue import PrintJob, PrintQueue
from kiosk.devices.protocols import DeviceEvent, DeviceEventKind, Printer
from kiosk.domain.clock import Clock
from kiosk.services.checkin import CheckInEngine
from kiosk.services.deliveries import DeliveryDesk, ParcelView


def label_for(view: ParcelView, desk: DeliveryDesk, engine: CheckInEngine) -> ParcelLabel:
    site = desk.site
    return ParcelLabel(
        pickup_code=view.pickup_code,
        recipient=view.recipient,
        shelf=view.shelf,
        kind=view.kind,
        carrier=view.carrier,
        items=view.items,
        logged_at=view.logged_at.astimezone(engine.calendar.zone),
        token=view.token,
        recipient_left=view.recipient_left,
        language=site.badge_language or site.default_language,
    )


class ParcelLabels:
    """Labels of one kiosk's parcels on a printer (the badges' printer, or one given)."""

    def __init__(
        self,
        desk: DeliveryDesk,
        engine: CheckInEngine,
        printer: Printer,
        settings: PrinterConfig,
        clock: Clock,
        queue: PrintQueue | None = None,
    ) -> None:
        self._desk = desk
        self._engine = engine
        self.settings = settings
        self.printer = printer
        # A queue shared with the badges (the touchscreen's) already reports its failures.
        self.queue = queue or PrintQueue(printer, clock.now)
        if queue is None:
            self.queue.add_listener(self._on_event)

    def job_bytes(self, parcel_ref: str) -> bytes:
        label = label_for(self._desk.parcel(parcel_ref), self._desk, self._engine)
        return parcel_label_job(label, self.settings, fonts_for(self.settings.font_path))

    def print_label(self, parcel_ref: str) -> PrintJob:
        """Queue the label (also the staff's "reprint label": drawn again from the row)."""
        return self.queue.submit(self.job_bytes(parcel_ref), label=f"parcel:{parcel_ref}")

    def _on_event(self, event: DeviceEvent) -> None:
        label = str(event.detail.get("label", ""))
        if event.kind is DeviceEventKind.PRINT_FAILED and label.startswith("parcel:"):
            self._engine.record_device_problem("printer", event.message, label)
