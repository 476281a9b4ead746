"""A badge streamed through the real serial driver (python-escpos Serial over pyserial) to a
simulated printer on a pseudo-terminal: every byte arrives, in order, and status is read."""

from __future__ import annotations

import pytest
from devices_helpers import make_badge

from kiosk.devices.commands import badge_blocks, badge_job, open_printer
from kiosk.devices.config import PrinterConfig
from kiosk.devices.print_queue import JobState, PrintQueue
from kiosk.devices.protocols import StatusLevel
from kiosk.devices.serial_sim import SerialPrinterSimulator


@pytest.fixture
def simulator():  # type: ignore[no-untyped-def]
    sim = SerialPrinterSimulator(baud=4_000_000)  # fast: the bench measures 115200 baud
    yield sim
    sim.close()


def test_a_streamed_badge_arrives_whole_over_serial(signer, simulator) -> None:  # type: ignore[no-untyped-def]
    config = PrinterConfig(kind="serial", serial_device=simulator.path, timeout_s=0.3)
    printer = open_printer(config)
    content = make_badge(signer)
    queue = PrintQueue(printer)
    job = queue.submit_stream(badge_blocks(content, config), label="badge")
    queue.run_pending()
    done = queue.get(job.job_id)
    assert done.state is JobState.DONE
    assert simulator.wait_for(len(done.payload), timeout=10)
    assert bytes(simulator.received) == done.payload == badge_job(content, config)
    assert printer.status().level is StatusLevel.OK
    simulator.fault("paper_out")
    assert printer.status().detail == "out of paper"
    printer.close()
