"""Fake printer faults, the print queue (nothing lost), and real python-escpos transports."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from devices_helpers import make_badge

from kiosk.devices.commands import badge_job, print_roll_call, print_test_page
from kiosk.devices.config import PrinterConfig
from kiosk.devices.errors import HardwareUnavailable, PrinterError
from kiosk.devices.print_queue import JobState, PrintQueue
from kiosk.devices.printers import EscposPrinter, FakePrinter, open_printer
from kiosk.devices.protocols import DeviceEvent, DeviceEventKind, StatusLevel


@pytest.fixture
def job(signer) -> bytes:  # type: ignore[no-untyped-def]
    return badge_job(make_badge(signer), PrinterConfig())


def _queue(printer: FakePrinter) -> tuple[PrintQueue, list[DeviceEvent]]:
    queue = PrintQueue(printer)
    events: list[DeviceEvent] = []
    queue.add_listener(events.append)
    return queue, events


def test_fake_printer_keeps_bytes_and_draws_paper(job: bytes, tmp_path: Path) -> None:
    printer = FakePrinter(output_dir=tmp_path)
    printer.send(job)
    assert printer.jobs == [job] and printer.output == job
    assert printer.papers[0].width == 576
    assert len(list(tmp_path.glob("paper-*.png"))) == 1
    assert printer.status().level is StatusLevel.OK


@pytest.mark.parametrize(
    ("fault", "level", "message"),
    [
        ("paper_out", StatusLevel.PROBLEM, "out of paper"),
        ("offline", StatusLevel.PROBLEM, "offline"),
    ],
)
def test_paper_out_and_offline_fail_clearly_and_retry_prints(
    job: bytes, fault: str, level, message
) -> None:  # type: ignore[no-untyped-def]
    printer = FakePrinter()
    queue, events = _queue(printer)
    printer.fault(fault)
    assert printer.status().level is level
    queued = queue.submit(job, "badge for Zhang Wei")
    queue.run_pending()
    failed = queue.get(queued.job_id)
    assert failed.state is JobState.FAILED and message in (failed.error or "")
    assert failed.payload == job  # nothing lost
    assert [e.kind for e in events] == [DeviceEventKind.PRINT_QUEUED, DeviceEventKind.PRINT_FAILED]
    assert isinstance(events[-1].error, PrinterError) and events[-1].error.status is not None
    assert events[-1].error.status.level is level
    assert printer.jobs == [] and printer.output == b""
    printer.fault("clear")
    queue.retry(queued.job_id)
    queue.run_pending()
    done = queue.get(queued.job_id)
    assert done.state is JobState.DONE and done.attempts == 2 and done.error is None
    assert printer.jobs == [job]


def test_unplugged_mid_job_loses_nothing(job: bytes) -> None:
    printer = FakePrinter()
    queue, _events = _queue(printer)
    printer.fault("unplug_mid_job", unplug_after_bytes=5000)
    first = queue.submit(job, "badge")
    queue.run_pending()
    assert queue.get(first.job_id).state is JobState.FAILED
    assert "disconnected after 5000" in (queue.get(first.job_id).error or "")
    assert printer.partial == [job[:5000]]
    assert printer.status().level is StatusLevel.UNKNOWN  # unplugged: no answer, not "no paper"
    # jobs submitted while unplugged fail too, and are kept
    second = queue.submit(job, "badge 2")
    queue.run_pending()
    assert queue.get(second.job_id).state is JobState.FAILED
    printer.plug_in()
    assert len(queue.retry_failed()) == 2
    queue.run_pending()
    assert [j.state for j in queue.jobs()] == [JobState.DONE, JobState.DONE]
    assert printer.jobs == [job, job]


def test_slow_printer_does_not_block_submit_and_states_progress(job: bytes) -> None:
    printer = FakePrinter()
    printer.fault("slow", bytes_per_second=len(job) / 0.3)  # ~0.3 s for the job
    queue, events = _queue(printer)
    queue.start()
    try:
        started = time.monotonic()
        queued = queue.submit(job, "slow badge")
        assert time.monotonic() - started < 0.05
        deadline = time.monotonic() + 2
        while (
            queue.get(queued.job_id).state is not JobState.PRINTING and time.monotonic() < deadline
        ):
            time.sleep(0.005)
        assert queue.get(queued.job_id).state is JobState.PRINTING
        assert queue.wait_idle(5)
        assert queue.get(queued.job_id).state is JobState.DONE
        assert time.monotonic() - started >= 0.25
    finally:
        queue.stop()
    assert [e.kind for e in events] == [DeviceEventKind.PRINT_QUEUED, DeviceEventKind.PRINT_DONE]


def test_failing_listener_is_logged_not_propagated(
    job: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    printer = FakePrinter()
    queue, events = _queue(printer)

    def broken(event: DeviceEvent) -> None:
        raise RuntimeError("UI crashed")

    queue.add_listener(broken)
    queue.submit(job)
    queue.run_pending()
    assert printer.jobs == [job]
    assert len(events) == 2
    assert "listener" in caplog.text and "UI crashed" in caplog.text


def test_reprint_is_a_new_job_with_the_same_bytes(job: bytes) -> None:
    printer = FakePrinter()
    queue, _ = _queue(printer)
    original = queue.submit(job, "badge")
    queue.run_pending()
    again = queue.reprint(original.job_id)
    queue.run_pending()
    assert again.job_id != original.job_id and again.reprint_of == original.job_id
    assert printer.jobs == [job, job]
    with pytest.raises(ValueError):
        queue.retry(original.job_id)  # only failed jobs are retried


def test_transport_exception_of_any_kind_fails_the_job_not_the_queue(job: bytes) -> None:
    class Exploding:
        name, dot_width = "exploding", 576

        def send(self, job: bytes) -> None:
            raise OSError("USB babble")

        def status(self):  # type: ignore[no-untyped-def]
            raise AssertionError

        def close(self) -> None:
            pass

    queue = PrintQueue(Exploding())
    queued = queue.submit(job)
    queue.run_pending()
    assert queue.get(queued.job_id).state is JobState.FAILED
    assert "USB babble" in (queue.get(queued.job_id).error or "")


def test_test_page_and_roll_call_print(tmp_path: Path) -> None:
    from datetime import datetime

    from kiosk.domain.values import OnSiteEntry, VisitState

    printer = FakePrinter(profile="POS-5890")
    assert print_test_page(printer, profile="POS-5890") > 0
    entries = [
        OnSiteEntry(
            "0" * 16,
            name,
            company,
            "王芳",
            datetime(2025, 3, 14, 9, i),
            None,
            VisitState.CHECKED_IN,
            True,
        )
        for i, (name, company) in enumerate(
            [("张伟", "Acme"), ("Ann Lee", "Widgets\x1b@"), ("Ω Omega", "")]
        )
    ]
    assert (
        print_roll_call(
            printer, entries, "Harbour Tower", datetime(2025, 3, 14, 11, 0), profile="POS-5890"
        )
        > 0
    )
    assert len(printer.jobs) == 2 and all(p.width == 384 for p in printer.papers)
    assert printer.papers[1].height > printer.papers[0].height / 3


def test_file_transport_writes_the_exact_job(job: bytes, tmp_path: Path) -> None:
    target = tmp_path / "lp0"
    target.touch()
    printer = open_printer(PrinterConfig(kind="file", file_path=str(target)))
    assert isinstance(printer, EscposPrinter)
    printer.send(job)
    printer.close()
    assert target.read_bytes() == job
    assert printer.status().level is StatusLevel.UNKNOWN  # a file cannot answer


class _NetworkPrinter:
    """A TCP server on localhost that behaves like an ESC/POS printer on port 9100."""

    def __init__(self, paper_reply: bytes = b"\x12") -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received = bytearray()
        self.paper_reply = paper_reply
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                while chunk := connection.recv(65536):
                    self.received += chunk
                    if chunk.endswith(b"\x10\x04\x01"):
                        connection.sendall(b"\x12")
                    elif chunk.endswith(b"\x10\x04\x04"):
                        connection.sendall(self.paper_reply)

    def close(self) -> None:
        self.server.close()


def test_network_transport_sends_and_reads_status(job: bytes) -> None:
    fake = _NetworkPrinter(paper_reply=b"\x72")
    try:
        printer = open_printer(
            PrinterConfig(kind="network", host="127.0.0.1", port=fake.port, timeout_s=2)
        )
        printer.send(job)
        status = printer.status()
        assert (status.level, status.detail) == (StatusLevel.PROBLEM, "out of paper")
        printer.close()
        deadline = time.monotonic() + 2
        while len(fake.received) < len(job) + 6 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert bytes(fake.received[: len(job)]) == job
    finally:
        fake.close()


def test_network_printer_absent_is_a_printer_error(job: bytes) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed again when the block ends: nobody listens
    printer = open_printer(PrinterConfig(kind="network", host="127.0.0.1", port=port, timeout_s=1))
    with pytest.raises(PrinterError, match="could not send"):
        printer.send(job)
    assert printer.status().level is StatusLevel.UNKNOWN


def test_missing_usb_driver_fails_loudly_with_advice() -> None:
    from kiosk.devices import hardware

    if hardware.available("usb"):
        pytest.skip("pyusb and libusb are installed here")
    with pytest.raises(HardwareUnavailable, match="pip install pyusb"):
        open_printer(PrinterConfig(kind="usb"))


def test_default_config_is_a_fake_80mm_printer() -> None:
    printer = open_printer(PrinterConfig())
    assert isinstance(printer, FakePrinter) and printer.dot_width == 576
