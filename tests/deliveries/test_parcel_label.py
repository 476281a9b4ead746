"""The parcel label printed on both printer kinds and read back from the printer's bytes
by interpreters that share no code with the kiosk's encoders (tests/devices/escpos_reader.py
for ESC/POS, the fake Brother QL's raster decoding), its QR decoded from the raster with
zxing-cpp and verified as the parcel's pickup token; a printer failing mid-job loses
nothing (the parcel stays logged, and the label is reprinted from its row)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zxingcpp
from devices.escpos_reader import read_job
from PIL import Image

from kiosk.app import Kiosk, build_delivery_desk, printer_settings
from kiosk.devices.config import PrinterConfig
from kiosk.devices.print_queue import JobState
from kiosk.devices.printers import FakePrinter, open_printer
from kiosk.parcel_printing import ParcelLabels
from kiosk.services.deliveries import DeliveryDesk, NewParcel
from kiosk.storage.models import OutboxEvent
from kiosk.storage.parcels import Parcel


def qr_texts(paper: Image.Image) -> list[str]:
    grey = np.asarray(paper.convert("L"))
    return [f.text for f in zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormat.QRCode)]


@pytest.fixture
def desk(kiosk: Kiosk) -> DeliveryDesk:
    return build_delivery_desk(kiosk)


def logged(desk: DeliveryDesk, hosts: dict[str, str]) -> str:
    parcel = NewParcel(
        kind="parcel", carrier="sf", items=3, host_ref=hosts["李娜"], waybill="SF1234567890"
    )
    return desk.log_parcel(parcel).parcel_ref


def test_the_receipt_printers_bytes_carry_the_label_and_its_pickup_qr(
    kiosk: Kiosk, hosts: dict[str, str], desk: DeliveryDesk
) -> None:
    ref = logged(desk, hosts)
    printer = FakePrinter()
    labels = ParcelLabels(desk, kiosk.engine, printer, printer_settings(kiosk.config), kiosk.clock)
    job = labels.print_label(ref)
    labels.queue.run_pending()
    assert labels.queue.get(job.job_id).state is JobState.DONE
    printout = read_job(printer.jobs[0], 576)
    assert printout.text_lines == []  # everything typed went as pixels
    assert printout.cuts == 1
    [token] = qr_texts(printout.paper)
    assert desk.parcel_for_token(token).parcel_ref == ref
    # The big code is ink in the label's top band: dark rows under the inverse band.
    top = np.asarray(printout.paper.convert("L"))[: printout.paper.height // 3]
    assert (top < 128).mean() > 0.05


def test_the_brother_ql_prints_the_same_label(
    kiosk: Kiosk, hosts: dict[str, str], desk: DeliveryDesk
) -> None:
    ref = logged(desk, hosts)
    settings = PrinterConfig(kind="brother_ql", ql_model="QL-820NWB", ql_label="62", timeout_s=3)
    printer = open_printer(settings)
    try:
        labels = ParcelLabels(desk, kiosk.engine, printer, settings, kiosk.clock)
        job = labels.print_label(ref)
        labels.queue.run_pending()
        assert labels.queue.get(job.job_id).state is JobState.DONE
        [page] = printer.fake.pages  # type: ignore[attr-defined]
        assert page.width == 696
        [token] = qr_texts(page)
        assert desk.parcel_for_token(token).parcel_ref == ref
    finally:
        printer.fake.close()  # type: ignore[attr-defined]


def test_a_printer_failing_mid_job_loses_nothing_and_the_label_is_reprinted(
    kiosk: Kiosk, hosts: dict[str, str], desk: DeliveryDesk
) -> None:
    ref = logged(desk, hosts)
    printer = FakePrinter()
    printer.fault("unplug_mid_job", unplug_after_bytes=2048)
    labels = ParcelLabels(desk, kiosk.engine, printer, printer_settings(kiosk.config), kiosk.clock)
    job = labels.print_label(ref)
    labels.queue.run_pending()
    failed = labels.queue.get(job.job_id)
    assert failed.state is JobState.FAILED and failed.error
    assert Parcel.get(Parcel.ref == ref).state == "waiting"
    [problem] = [
        json.loads(e.payload)
        for e in OutboxEvent.select().where(OutboxEvent.kind == "device.problem")
    ]
    assert problem["device"] == "printer" and problem["message"] == failed.error
    again = FakePrinter()
    reprint = ParcelLabels(desk, kiosk.engine, again, printer_settings(kiosk.config), kiosk.clock)
    reprint.print_label(ref)
    reprint.queue.run_pending()
    [token] = qr_texts(read_job(again.jobs[0], 576).paper)
    assert desk.parcel_for_token(token).parcel_ref == ref
