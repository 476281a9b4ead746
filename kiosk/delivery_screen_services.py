"""The touchscreen's delivery services (issue 20), mixed into kiosk.screen_services'
ScreenServices: a parcel logged and its label printed on the badges' queue (one queue a
printer, so a label and a badge never interleave), a pickup by QR or typed code, and a
guard's collected / returned / reprint. Plain values out (kiosk.ui.deliveries); a
refusal as kiosk.ui.deliveries' ParcelRefused or ParcelCodeShared (the touchscreen's
process does not import the engine's package), InvalidInput as it is."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from kiosk.devices.print_queue import JobState
from kiosk.devices.protocols import DeviceEvent, DeviceEventKind
from kiosk.services.deliveries import (
    KINDS,
    WAYBILL_MAX,
    AmbiguousCode,
    DeliveryDesk,
    NewParcel,
    ParcelView,
    PickupRefused,
    waybill_problem,
)
from kiosk.ui.deliveries import DeliveryChoices, ParcelCodeShared, ParcelLine, ParcelRefused

#: An ISO moment in a refusal's detail ("already collected by 李娜 on 2026-11-23T02:00:00+00:00").
_ISO_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT[0-9:.]+(?:[+-]\d\d:\d\d|Z)?")


class DeliveryScreenServices:
    """Needs `_kiosk` and `printing` (a BadgeQueue) from the class it is mixed into."""

    _kiosk: Any
    printing: Any
    _desk_built: DeliveryDesk | None = None
    _labels_built: Any = None
    scanner: Any
    _scanning: bool
    #: The camera's own reader while a waybill is being scanned (put back after).
    _reader_before_waybill: Any = None

    def _desk(self) -> DeliveryDesk:
        if self._desk_built is None:
            from kiosk.delivery_parts import build_delivery_desk

            self._desk_built = build_delivery_desk(self._kiosk)
        return self._desk_built

    def _labels(self) -> Any:
        if self._labels_built is None:
            from kiosk.parcel_printing import ParcelLabels

            self._labels_built = ParcelLabels(
                self._desk(), self._kiosk.engine, self.printing.printer, self.printing.settings,
                self._kiosk.clock, queue=self.printing.queue,
            )  # fmt: skip
        return self._labels_built

    def delivery_choices(self) -> DeliveryChoices:
        settings = self._kiosk.config.deliveries
        return DeliveryChoices(list(KINDS), list(settings.carriers), settings.signature)

    def _line(self, view: ParcelView) -> ParcelLine:
        zone = self._kiosk.engine.calendar.zone
        return ParcelLine(
            parcel_ref=view.parcel_ref,
            pickup_code=view.pickup_code,
            recipient=view.recipient,
            shelf=view.shelf,
            kind=str(view.kind),
            carrier=str(view.carrier),
            items=view.items,
            state=str(view.state),  # a plain str: a ParcelState would unpickle the engine's package
            recipient_left=view.recipient_left,
            logged_at=view.logged_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            collected_by=view.collected_by,
        )

    def log_delivery(
        self,
        *,
        kind: str,
        carrier: str,
        items: int,
        on_printed: Callable[[bool], None],
        host_ref: str = "",
        company: str = "",
        waybill: str = "",
        photo_jpeg: bytes | None = None,
    ) -> ParcelLine:
        """Log the parcel (committed before anything prints), then queue its label;
        `on_printed(ok)` runs on the printer's thread when the label is out or failed."""
        view = self._desk().log_parcel(
            NewParcel(kind, carrier, items, host_ref, company, waybill, photo_jpeg)
        )
        self.reprint_parcel_label(view.parcel_ref, on_printed)
        return self._line(view)

    # ------------------------------------------------------------------ the waybill

    def start_waybill_scan(self, on_waybill: Callable[[str], None]) -> None:
        """The camera on, reading waybills: Code 128 (the 1-D barcode couriers print)
        and QR, through the camera's own capture and decode threads with a zxing-cpp
        reader for those two formats (the kiosk's everyday reader looks for QR and PDF417
        only: 1-D formats would slow every other scan). `on_waybill(text)` runs on the
        decoder's thread with the code's text as it was encoded, control characters and
        all, so that the screen can say what is wrong with it."""
        from kiosk.devices.decoders import ZxingReader

        self.stop_waybill_scan()
        self._reader_before_waybill = self.scanner.reader
        self.scanner.reader = ZxingReader(
            ("code128", "qr"), try_rotate=True, try_downscale=True, try_invert=False,
            name="waybill",
        )  # fmt: skip

        def code_seen(code: Any) -> None:
            try:
                text = bytes(code.raw).decode("utf-8")
            except UnicodeDecodeError:
                text = bytes(code.raw).decode("latin-1")
            on_waybill(text.strip(" "))

        self.scanner.start(code_seen)
        self._scanning = True

    def stop_waybill_scan(self) -> None:
        """The camera off, and its everyday reader back."""
        if self._reader_before_waybill is None:
            return
        if self._scanning:
            self._scanning = False
            self.scanner.stop()
        self.scanner.reader, self._reader_before_waybill = self._reader_before_waybill, None

    def waybill_problem(self, text: str) -> tuple[str, int]:
        """Why `text` cannot be the parcel's waybill ("" when it can: the engine's rule,
        kiosk.services.deliveries.values), with the most characters allowed."""
        problem = waybill_problem(text)
        return (str(problem) if problem else "", WAYBILL_MAX)

    def reprint_parcel_label(self, parcel_ref: str, on_printed: Callable[[bool], None]) -> None:
        labels = self._labels()
        job = labels.print_label(parcel_ref)
        # The job may end between listening and looking at its state: both then see its
        # end, and only the first one reports it (and lets the listener go).
        told = threading.Lock()
        reported: list[bool] = []

        def report(ok: bool) -> None:
            with told:
                if reported:
                    return
                reported.append(ok)
            labels.queue.remove_listener(finished)
            on_printed(ok)

        def finished(event: DeviceEvent) -> None:
            if event.detail.get("job_id") != job.job_id:
                return
            if event.kind in (DeviceEventKind.PRINT_DONE, DeviceEventKind.PRINT_FAILED):
                report(event.kind is DeviceEventKind.PRINT_DONE)

        labels.queue.add_listener(finished)
        state = labels.queue.get(job.job_id).state
        if state in (JobState.DONE, JobState.FAILED):  # finished before we listened
            report(state is JobState.DONE)

    @contextlib.contextmanager
    def _refusals_in_site_time(self) -> Iterator[None]:
        """A refusal as the screens' ParcelRefused, its moment as the lobby's clock says
        it ("2026-11-23 10:00"), as every time the screens get."""
        zone = self._kiosk.engine.calendar.zone

        def local(found: re.Match[str]) -> str:
            moment = datetime.fromisoformat(found.group(0))
            return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

        try:
            yield
        except PickupRefused as err:
            raise ParcelRefused(err.reason.value, _ISO_MOMENT.sub(local, err.detail)) from err
        except AmbiguousCode as err:
            raise ParcelCodeShared(err.choices) from err

    def parcel_for_pickup_token(self, text: str) -> ParcelLine:
        with self._refusals_in_site_time():
            return self._line(self._desk().parcel_for_token(text))

    def parcels_for_pickup_code(self, code: str) -> list[ParcelLine]:
        with self._refusals_in_site_time():
            return [self._line(view) for view in self._desk().parcels_for_code(code)]

    def collect_parcel(
        self,
        *,
        collected_by: str,
        token: str = "",
        code: str = "",
        parcel_ref: str = "",
        signature_png: bytes | None = None,
    ) -> ParcelLine:
        desk = self._desk()
        with self._refusals_in_site_time():
            if token:
                view = desk.collect_with_token(token, collected_by, signature_png)
            else:
                view = desk.collect_with_code(
                    code, collected_by, parcel_ref=parcel_ref, signature_png=signature_png
                )
        return self._line(view)

    def waiting_parcels(self) -> list[ParcelLine]:
        return [self._line(view) for view in self._desk().parcels("waiting")]

    def guard_collect_parcel(
        self, parcel_ref: str, collected_by: str, signature_png: bytes | None = None
    ) -> ParcelLine:
        with self._refusals_in_site_time():
            view = self._desk().collect_by_guard(parcel_ref, collected_by, signature_png)
        return self._line(view)

    def return_parcel(self, parcel_ref: str) -> ParcelLine:
        with self._refusals_in_site_time():
            return self._line(self._desk().mark_returned(parcel_ref, by="guard"))
