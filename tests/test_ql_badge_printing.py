"""Badges on a Brother QL (the fake, chosen in kiosk.toml as make run would): a label
fault keeps the check-in, tells the guards as a receipt printer's does, and the retry
prints the same label."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from kiosk.app import BadgePrinting, Kiosk
from kiosk.devices.print_queue import JobState
from kiosk.devices.printers import open_printer
from kiosk.devices.protocols import StatusLevel
from kiosk.domain.values import VisitState
from kiosk.services.checkin import Collected, VisitorDetails, WalkIn
from kiosk.storage.models import OutboxEvent, Visit


@pytest.fixture
def config_extra() -> str:
    return (
        '\n[devices.printer]\nkind = "brother_ql"\nql_model = "QL-820NWB"\n'
        'ql_label = "62"\nql_connection = "fake"\ntimeout_s = 2\n'
    )


@pytest.fixture
def printing(kiosk: Kiosk):  # type: ignore[no-untyped-def]
    printing = BadgePrinting(kiosk)
    yield printing
    printing.printer.fake.close()  # type: ignore[attr-defined]


def _check_in(kiosk: Kiosk, hosts: dict[str, str]) -> str:
    photo = io.BytesIO()
    Image.radial_gradient("L").convert("RGB").save(photo, "JPEG")
    walk_in = WalkIn(VisitorDetails("张伟", company="Acme"), hosts["Maria Schmidt"])
    return str(
        kiosk.engine.check_in_walk_in(walk_in, Collected(photo_jpeg=photo.getvalue())).visit_ref
    )


def test_the_configured_fake_ql_prints_the_badge(kiosk: Kiosk, hosts, printing) -> None:  # type: ignore[no-untyped-def]
    job = printing.print_badge(_check_in(kiosk, hosts))
    printing.queue.run_pending()
    assert printing.queue.get(job.job_id).state is JobState.DONE
    [label] = printing.printer.fake.pages
    assert label.width == 696
    assert printing.printer.status().level is StatusLevel.OK


@pytest.mark.parametrize("fault", ["paper_out", "cover_open", "wrong_label", "unplug_mid_job"])
def test_a_label_fault_keeps_the_check_in_and_tells_the_guards(
    kiosk: Kiosk, hosts, printing, fault: str
) -> None:  # type: ignore[no-untyped-def]
    visit = _check_in(kiosk, hosts)
    fake = printing.printer.fake
    fake.fault(fault, after_bytes=3000)
    job = printing.print_badge(visit)
    printing.queue.run_pending()
    failed = printing.queue.get(job.job_id)
    assert failed.state is JobState.FAILED and failed.error
    assert Visit.get(Visit.ref == visit).state == VisitState.AWAITING_HOST
    problems = [
        json.loads(e.payload)
        for e in OutboxEvent.select().where(OutboxEvent.kind == "device.problem")
    ]
    assert [(p["device"], p["visit"]) for p in problems] == [("printer", visit)]
    assert kiosk.engine.recent_alerts(kiosk.clock.now())[0]["kind"] == "device.problem"
    assert printing.printer.status().level is not StatusLevel.OK  # "printer needs attention"

    if fault == "unplug_mid_job":  # plugged back in: a new device end, the same job
        fake.close()
        replacement = open_printer(printing.settings)
        printing.printer = replacement
        printing.queue._printer = replacement
        fake = replacement.fake  # type: ignore[attr-defined]
    else:
        fake.fault("clear")
    printing.queue.retry(job.job_id)
    printing.queue.run_pending()
    assert printing.queue.get(job.job_id).state is JobState.DONE
    assert len(fake.pages) == 1
