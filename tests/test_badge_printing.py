"""Printing badges through the queue on the fake printer, with its faults triggered on
purpose: the check-in is always kept, the failure is a clear event, and nothing is lost."""

from __future__ import annotations

import json

import pytest

from kiosk.app import BadgePrinting, Kiosk
from kiosk.devices.print_queue import JobState
from kiosk.devices.printers import FakePrinter
from kiosk.domain.values import VisitState
from kiosk.services.checkin import Collected, VisitorDetails, WalkIn
from kiosk.storage.models import OutboxEvent, Visit

JPEG = b"\xff\xd8\xff\xe0 a jpeg"


@pytest.fixture
def checked_in(kiosk: Kiosk, hosts: dict[str, str]) -> str:
    walk_in = WalkIn(VisitorDetails("张伟", company="Acme"), hosts["Maria Schmidt"])
    result = kiosk.engine.check_in_walk_in(walk_in, Collected(photo_jpeg=JPEG))
    assert result.visit_ref
    return result.visit_ref


def problems() -> list[dict[str, str]]:
    events = OutboxEvent.select().where(OutboxEvent.kind == "device.problem")
    return [json.loads(event.payload) for event in events]


def test_a_badge_prints_and_its_paper_carries_the_badge(kiosk: Kiosk, checked_in: str) -> None:
    printer = FakePrinter()
    printing = BadgePrinting(kiosk, printer)
    job = printing.print_badge(checked_in)
    printing.queue.run_pending()
    assert printing.queue.get(job.job_id).state is JobState.DONE
    # The job was streamed: its payload is kept as printed, for a retry or a reprint.
    assert printer.jobs == [printing.queue.get(job.job_id).payload]
    assert printer.papers[0].width == 576
    assert problems() == []


@pytest.mark.parametrize("fault", ["paper_out", "offline", "unplug_mid_job"])
def test_a_printer_fault_keeps_the_check_in_and_tells_the_guards(
    kiosk: Kiosk, checked_in: str, fault: str
) -> None:
    printer = FakePrinter()
    printer.fault(fault, unplug_after_bytes=4096)
    printing = BadgePrinting(kiosk, printer)
    job = printing.print_badge(checked_in)
    printing.queue.run_pending()

    failed = printing.queue.get(job.job_id)
    assert failed.state is JobState.FAILED and failed.error
    assert Visit.get(Visit.ref == checked_in).state == VisitState.AWAITING_HOST
    [problem] = problems()
    assert problem["device"] == "printer" and problem["visit"] == checked_in
    assert problem["message"] == failed.error
    alerts = kiosk.engine.recent_alerts(kiosk.clock.now())
    assert alerts[0]["kind"] == "device.problem"

    printer.fault("clear")
    printing.queue.retry(job.job_id)
    printing.queue.run_pending()
    assert printing.queue.get(job.job_id).state is JobState.DONE
    assert printer.jobs[-1] == printing.queue.get(job.job_id).payload


def test_a_lost_badge_is_reprinted_from_the_database(kiosk: Kiosk, checked_in: str) -> None:
    first = BadgePrinting(kiosk, FakePrinter())
    first.print_badge(checked_in)
    first.queue.run_pending()
    # The kiosk restarted (the queue is gone); the visit and its badge are in the database.
    again = BadgePrinting(kiosk, FakePrinter())
    job = again.print_badge(checked_in)
    again.queue.run_pending()
    assert again.queue.get(job.job_id).state is JobState.DONE
