"""The case screens' services (kiosk.case_screen_services) over the real case desk, SQLite
and the FakePrinter: one case per form id, its slip printed once (or failed, case kept), a
receipt's QR routed by its token kind (a URL ending in /c/<token> too), refusals as the
domain's errors, and a camera photo too large for the desk made smaller."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from kiosk.app import Kiosk, KioskServices
from kiosk.case_screen_services import fitting_photo
from kiosk.devices.printers import FakePrinter
from kiosk.domain.errors import IllegalTransition, InvalidInput
from kiosk.services.cases.form import PHOTO_MAX_BYTES
from kiosk.services.cases.models import KioskCase
from kiosk.ui.case_services import CaseForm


@pytest.fixture
def printer() -> FakePrinter:
    return FakePrinter()


@pytest.fixture
def services(kiosk: Kiosk, printer: FakePrinter) -> Iterator[KioskServices]:
    built = KioskServices(kiosk, printer=printer)
    yield built
    built.close()


def repair_form(key: str = "form-1") -> CaseForm:
    return CaseForm(
        submission_key=key, kind="repair", unit="9-9999", description="水管漏水",
        category="water", name="王芳", phone="13800138000", language="zh_Hans",
    )  # fmt: skip


def printed(services: KioskServices, case_ref: str) -> bool:
    done = threading.Event()
    outcome: list[bool] = []
    services.print_case_receipt(
        case_ref, lambda ok: (outcome.append(ok), done.set()), language="zh_Hans"
    )
    assert done.wait(10)
    return outcome[0]


def test_one_form_id_is_one_case_and_one_slip(
    services: KioskServices, printer: FakePrinter
) -> None:
    first = services.open_case(repair_form())
    again = services.open_case(repair_form())  # the double tap
    assert (first.new, again.new, again.number) == (True, False, first.number)
    assert first.number.startswith("R-") and not first.unit_known  # allowed, flagged
    assert first.respond_by == "14:00"  # 10:00 + 4 h for a repair, local to the site
    assert KioskCase.select().count() == 1
    assert printed(services, first.ref) and len(printer.jobs) == 1
    case = KioskCase.get()
    assert (case.language, case.category, case.photo_jpeg) == ("zh_CN", "water", None)


def test_a_printer_failure_keeps_the_case(services: KioskServices, printer: FakePrinter) -> None:
    printer.fault("paper_out")
    opened = services.open_case(repair_form())
    assert not printed(services, opened.ref)
    assert KioskCase.get(KioskCase.ref == opened.ref).number == opened.number


def test_refusals_name_the_field(services: KioskServices) -> None:
    with pytest.raises(InvalidInput) as err:
        services.open_case(CaseForm("form-2", kind="repair", description="", category="water"))
    assert err.value.field == "description"
    no_contact = CaseForm("form-3", kind="complaint", description="Noise at night")
    with pytest.raises(InvalidInput) as err:
        services.open_case(no_contact)
    assert err.value.field == "reporter"
    suggestion = CaseForm("form-4", kind="suggestion", description="More benches")
    assert services.open_case(suggestion).number.startswith("S-")  # contact optional


def test_a_receipt_is_routed_by_its_kind_and_shown(services: KioskServices) -> None:
    opened = services.open_case(repair_form())
    token = KioskCase.get().receipt_token
    for scanned in (token, f"https://office.example/c/{token}"):
        code = services._classify(scanned.encode("latin-1"))
        assert (code.kind, code.text) == ("case_receipt", token)
    status = services.show_case_receipt(f"https://office.example/c/{token}")
    assert (status.number, status.state, status.can_follow_up) == (
        opened.number, "received", False
    )  # fmt: skip
    assert status.opened_at.hour == 10  # local to the site
    with pytest.raises(IllegalTransition, match="not resolved yet"):
        services.follow_up_case(opened.ref, "satisfied")


def test_a_large_camera_photo_is_made_small_enough() -> None:
    noise = np.random.default_rng(7).integers(0, 255, (1080, 1920, 3), dtype=np.uint8)
    ok, encoded = cv2.imencode(".jpg", noise, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok and len(encoded) > PHOTO_MAX_BYTES
    smaller = fitting_photo(bytes(encoded))
    assert smaller is not None and len(smaller) <= PHOTO_MAX_BYTES
    assert smaller.startswith(b"\xff\xd8\xff")
