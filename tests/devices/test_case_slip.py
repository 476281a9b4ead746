"""The case receipt slip (issue 19) through the real print path: drawn as pixels, encoded
for an ESC/POS printer and for a Brother QL (simulated from its protocol), read back by
the tests' own interpreter, its QR decoded from the raster (zxing-cpp) and verified as a
receipt of the case; a printer failing mid-job loses no case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from escpos_reader import read_job
from PIL import Image

from kiosk.app import Kiosk, build_case_desk
from kiosk.case_printing import CaseSlipPrinting
from kiosk.devices.case_slip import CaseSlip, render_case_slip
from kiosk.devices.commands import fonts_for
from kiosk.devices.config import PrinterConfig
from kiosk.devices.print_queue import JobState
from kiosk.devices.printers import FakePrinter, open_printer
from kiosk.services.cases.form import CaseReport, Place, Reporter
from kiosk.services.cases.models import KioskCase
from kiosk.storage.models import OutboxEvent
from kiosk.sync.wire import EventKind

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "slips"
#: Control bytes are refused at the form (tests/services); what is left must not be printed.
HOSTILE = "Leak ESC @ GS V 0 in 厨房 %1B%40 <cut>"


@pytest.fixture(autouse=True)
def artifacts_folder() -> None:
    """A clean clone has no test-artifacts/ yet (CI found that out)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)


def qr_texts(page: Image.Image) -> list[str]:
    grey = np.asarray(page.convert("L"))
    found = zxingcpp.read_barcodes(grey, formats=[zxingcpp.BarcodeFormat.QRCode])
    return [code.text for code in found]


def open_case(kiosk: Kiosk, key: str = "slip-1") -> object:
    return build_case_desk(kiosk).open(
        CaseReport(
            submission_key=key,
            kind="repair",
            category="water",
            description=HOSTILE,
            place=Place("3", "12", "3-1201"),
            reporter=Reporter("Li Wei", "3-1201", "13800000000"),
        )
    )


def printing_on(kiosk: Kiosk, printer: object, settings: PrinterConfig) -> CaseSlipPrinting:
    return CaseSlipPrinting(
        engine=kiosk.engine, printer=printer, settings=settings,  # type: ignore[arg-type]
        clock=kiosk.clock, site_name=kiosk.config.site.name,
    )  # fmt: skip


@pytest.mark.parametrize("profile", ["TM-T20II", "POS-5890"])
def test_the_escpos_slip_reads_back_with_its_receipt_qr(kiosk: Kiosk, profile: str) -> None:
    opened = open_case(kiosk)
    printer = FakePrinter(profile=profile)
    printing = printing_on(kiosk, printer, PrinterConfig(profile=profile))
    job = printing.queue.get(printing.print_receipt(opened, "zh_CN").job_id)  # type: ignore[arg-type]
    printing.queue.run_pending()
    assert printing.queue.get(job.job_id).state is JobState.DONE
    printout = read_job(printer.jobs[0], printer.dot_width)
    assert printout.text_lines == []  # all raster: nothing was sent as text
    assert printout.paper.width == printer.dot_width
    [qr] = qr_texts(printout.paper)
    assert qr == opened.receipt_qr  # type: ignore[attr-defined]
    desk = build_case_desk(kiosk)
    assert desk.show_receipt(qr).number == opened.number  # type: ignore[attr-defined]
    assert b"Leak" not in printer.jobs[0] and "厨房".encode() not in printer.jobs[0]
    printout.paper.save(ARTIFACTS / f"case-slip-{profile}.png")


def test_the_slip_in_each_language_shows_the_number_and_time(kiosk: Kiosk) -> None:
    fonts = fonts_for(None)
    for language in ("en", "zh_CN", "zh_TW"):
        slip = CaseSlip("Test Tower", "R-20261123-K0001", "repair", "14:00", "TOKEN", language)
        page = render_case_slip(slip, 576, fonts)
        assert page.width == 576 and 300 < page.height < 1500
        assert qr_texts(page) == ["TOKEN"]
        page.save(ARTIFACTS / f"case-slip-{language}.png")


def test_the_brother_ql_slip_prints_and_its_qr_decodes(kiosk: Kiosk) -> None:
    settings = PrinterConfig(kind="brother_ql", ql_model="QL-820NWB", ql_label="62")
    printer = open_printer(settings)
    try:
        opened = open_case(kiosk)
        printing = printing_on(kiosk, printer, settings)
        job = printing.print_receipt(opened, "en")  # type: ignore[arg-type]
        printing.queue.run_pending()
        assert printing.queue.get(job.job_id).state is JobState.DONE
        [label] = printer.fake.pages  # type: ignore[attr-defined]
        assert label.width == 696
        assert qr_texts(label) == [opened.receipt_qr]  # type: ignore[attr-defined]
        label.save(ARTIFACTS / "case-slip-ql.png")
    finally:
        printer.fake.close()  # type: ignore[attr-defined]


def test_a_printer_failing_mid_job_loses_no_case(kiosk: Kiosk) -> None:
    opened = open_case(kiosk)
    printer = FakePrinter()
    printer.fault("unplug_mid_job", unplug_after_bytes=500)
    printing = printing_on(kiosk, printer, PrinterConfig())
    job = printing.print_receipt(opened, "en")  # type: ignore[arg-type]
    printing.queue.run_pending()
    failed = printing.queue.get(job.job_id)
    assert failed.state is JobState.FAILED and failed.error
    assert KioskCase.select().count() == 1
    assert OutboxEvent.select().where(OutboxEvent.kind == EventKind.DEVICE_PROBLEM).count() == 1
    printer.plug_in()
    printing.queue.retry(job.job_id)
    printing.queue.run_pending()
    assert printing.queue.get(job.job_id).state is JobState.DONE
    assert qr_texts(read_job(printer.jobs[-1], printer.dot_width).paper) == [
        opened.receipt_qr  # type: ignore[attr-defined]
    ]
