"""Printers: python-escpos transports for the real thing, and a fake with scripted faults.

    EscposPrinter   any python-escpos transport (Usb, Network, Serial, File, CupsPrinter)
    FakePrinter     a python-escpos Dummy that keeps each job's bytes, draws each job's paper
                    (PNG) and fails on command like OctoPrint's virtual printer:
                    fault("paper_out"), fault("offline"), fault("unplug_mid_job"),
                    fault("slow", bytes_per_second=...), fault("clear")
    open_printer    the factory: configuration in, Printer out; missing drivers raise
                    HardwareUnavailable with install advice (kiosk.devices.hardware);
                    Brother QL label printers come from kiosk.devices.ql_printer

A transport never interprets a job: the bytes come from `escpos_codec`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Any

from escpos.printer import Dummy
from PIL import Image

from kiosk.devices import hardware
from kiosk.devices.config import PrinterConfig
from kiosk.devices.errors import PrinterError
from kiosk.devices.escpos_codec import (
    STATUS_ONLINE_REQUEST,
    STATUS_PAPER_REQUEST,
    dot_width,
    interpret_status,
)
from kiosk.devices.paper import render_paper
from kiosk.devices.protocols import Printer, PrinterStatus

log = logging.getLogger(__name__)


class EscposPrinter:
    """A python-escpos transport behind the `Printer` protocol.

    The connection opens on the first job (a printer switched on after the kiosk is fine);
    after a failure it is closed and reopened on the next attempt, so unplugging and
    replugging needs no restart.
    """

    def __init__(self, device: Any, *, name: str, dot_width: int, can_read_status: bool) -> None:
        self._device = device
        self.name = name
        self.dot_width = dot_width
        self._can_read = can_read_status
        self._lock = threading.Lock()

    def send(self, job: bytes) -> None:
        self.send_stream([job])

    def send_stream(self, chunks: Iterable[bytes]) -> None:
        with self._lock:
            try:
                if type(self._device).__name__ == "CupsPrinter":
                    # CUPS takes a whole document: nothing to gain from streaming.
                    self._device.open(job_name="kiosk")
                    self._device._raw(b"".join(chunks))
                    self._device.send()
                else:
                    for chunk in chunks:
                        self._device._raw(chunk)
            except Exception as err:  # pyusb, pyserial, socket, python-escpos errors alike
                self._drop_connection()
                raise PrinterError(
                    f"{self.name}: could not send the job: {err}", self._status_unlocked()
                ) from err

    def status(self) -> PrinterStatus:
        with self._lock:
            return self._status_unlocked()

    def _status_unlocked(self) -> PrinterStatus:
        if not self._can_read:
            return PrinterStatus.unknown(f"{self.name}: this connection cannot read printer status")
        try:
            online = self._query(STATUS_ONLINE_REQUEST)
            paper = self._query(STATUS_PAPER_REQUEST)
        except Exception as err:
            self._drop_connection()
            return PrinterStatus.unknown(f"{self.name}: no answer ({err})")
        return interpret_status(online, paper)

    def _query(self, request: bytes) -> bytes:
        self._device._raw(request)
        return bytes(self._device._read() or b"")

    def _drop_connection(self) -> None:
        try:
            self._device.close()
        except Exception:  # already gone; closing is best effort
            log.debug("closing %s failed", self.name, exc_info=True)
        self._device._device = False  # python-escpos reopens lazily on next use

    def close(self) -> None:
        with self._lock:
            try:
                self._device.close()
            except Exception:
                log.debug("closing %s failed", self.name, exc_info=True)


class FakeFault(StrEnum):
    NONE = "clear"
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"
    UNPLUG_MID_JOB = "unplug_mid_job"
    SLOW = "slow"


# DLE EOT replies the fake gives, as a TM-T20-class printer would.
_ONLINE_OK, _ONLINE_OFFLINE = b"\x12", b"\x1a"
_PAPER_OK, _PAPER_OUT = b"\x12", b"\x72"


class FakePrinter:
    """A printer in memory: every delivered job's bytes in `jobs`, its paper in `papers`.

    Faults are persistent until `fault("clear")` (or `plug_in()` after an unplug), like a
    real printer waiting for paper. An unplug happens after `unplug_after_bytes` bytes of
    the next job; the bytes that got through are in `partial`.
    """

    def __init__(
        self,
        *,
        profile: str = "TM-T20II",
        width_pixels: int | None = None,
        name: str = "fake printer",
        output_dir: str | Path | None = None,
        chunk_size: int = 1024,
    ) -> None:
        self.name = name
        self.profile = profile
        self.dot_width = dot_width(profile, width_pixels)
        self.device = Dummy(profile=profile)
        self.jobs: list[bytes] = []
        self.partial: list[bytes] = []
        self.papers: list[Image.Image] = []
        self.output_dir = Path(output_dir) if output_dir else None
        self.chunk_size = chunk_size
        self._fault = FakeFault.NONE
        self._unplugged = False
        self._unplug_after = 0
        self._bytes_per_second: float | None = None
        self._lock = threading.Lock()

    def fault(
        self,
        name: str | FakeFault,
        *,
        unplug_after_bytes: int = 2048,
        bytes_per_second: float = 11_000,
    ) -> None:
        """Trigger a fault by name: paper_out, offline, unplug_mid_job, slow, clear."""
        fault = FakeFault(name)
        with self._lock:
            self._fault = fault
            self._unplug_after = unplug_after_bytes
            self._bytes_per_second = bytes_per_second if fault is FakeFault.SLOW else None
            if fault is FakeFault.NONE:
                self._unplugged = False

    def plug_in(self) -> None:
        self.fault(FakeFault.NONE)

    @property
    def output(self) -> bytes:
        """Every byte ever received, complete jobs and interrupted ones (python-escpos Dummy)."""
        return self.device.output

    def _replies(self) -> tuple[bytes | None, bytes | None]:
        if self._unplugged:
            return None, None
        if self._fault is FakeFault.PAPER_OUT:
            return _ONLINE_OFFLINE, _PAPER_OUT
        if self._fault is FakeFault.OFFLINE:
            return _ONLINE_OFFLINE, _PAPER_OK
        return _ONLINE_OK, _PAPER_OK

    def status(self) -> PrinterStatus:
        with self._lock:
            return interpret_status(*self._replies())

    def send_stream(self, chunks: Iterable[bytes]) -> None:
        self.send(b"".join(chunks))

    def send(self, job: bytes) -> None:
        with self._lock:
            fault, rate, unplug_after = self._fault, self._bytes_per_second, self._unplug_after
            if not self._unplugged:
                status = interpret_status(*self._replies())
                if status.level != "ok":
                    raise PrinterError(f"{self.name}: {status.detail}", status)
        if self._unplugged:
            raise PrinterError(f"{self.name}: not connected", PrinterStatus.unknown("unplugged"))
        sent = 0
        while sent < len(job):
            if fault is FakeFault.UNPLUG_MID_JOB and sent + self.chunk_size > unplug_after:
                cut_at = max(sent, min(unplug_after, len(job)))
                self.device._raw(job[sent:cut_at])
                with self._lock:
                    self._unplugged = True
                self.partial.append(job[:cut_at])
                raise PrinterError(
                    f"{self.name}: disconnected after {cut_at} of {len(job)} bytes",
                    PrinterStatus.unknown("unplugged"),
                )
            chunk = job[sent : sent + self.chunk_size]
            if rate:
                time.sleep(len(chunk) / rate)
            self.device._raw(chunk)
            sent += len(chunk)
        self.jobs.append(job)
        paper = render_paper(job, self.dot_width)
        self.papers.append(paper)
        if self.output_dir is not None:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            # Named by time, so papers from separate runs (one CLI call each) never overwrite.
            stamp = time.strftime("%Y%m%d-%H%M%S")
            paper.save(self.output_dir / f"paper-{stamp}-{time.time_ns() % 10**9:09d}.png")

    def close(self) -> None:
        pass


def open_printer(config: PrinterConfig) -> Printer:
    """The configured printer. Never touches the device yet (it may be switched off); raises
    HardwareUnavailable when the connection's driver library is missing."""
    if config.kind == "brother_ql":
        return open_ql_printer(config)
    width = dot_width(config.profile, config.width_pixels)
    if config.kind == "fake":
        return FakePrinter(
            profile=config.profile,
            width_pixels=config.width_pixels,
            output_dir=config.fake_output_dir,
        )
    from escpos import printer as transports

    common: dict[str, Any] = {"profile": config.profile}
    device: Any
    can_read = True
    if config.kind == "usb":
        hardware.require("usb")
        device = transports.Usb(
            config.usb_vendor_id,
            config.usb_product_id,
            timeout=int(config.timeout_s * 1000),
            **common,
        )
        name = f"USB printer {config.usb_vendor_id:04x}:{(config.usb_product_id or 0):04x}"
    elif config.kind == "network":
        device = transports.Network(
            config.host, port=config.port, timeout=config.timeout_s, **common
        )
        name = f"network printer {config.host}:{config.port}"
    elif config.kind == "serial":
        hardware.require("serial")
        device = transports.Serial(
            devfile=config.serial_device,
            baudrate=config.baudrate,
            timeout=config.timeout_s,
            **common,
        )
        name = f"serial printer {config.serial_device}"
    elif config.kind == "file":
        device = transports.File(devfile=config.file_path, **common)
        name, can_read = f"printer file {config.file_path}", False
    elif config.kind == "cups":
        hardware.require("cups")
        device = transports.CupsPrinter(printer_name=config.cups_printer, **common)
        name, can_read = f"CUPS printer {config.cups_printer}", False
    else:  # pydantic forbids this; kept for type checkers
        raise ValueError(f"unknown printer kind {config.kind!r}")
    return EscposPrinter(device, name=name, dot_width=width, can_read_status=can_read)


def open_ql_printer(config: PrinterConfig) -> Printer:
    """A Brother QL; with ql_connection "fake", one simulated on a pseudo-terminal and driven
    through brother_ql's real linux_kernel backend (its labels as PNG in fake_output_dir)."""
    from kiosk.devices.fake_brother_ql import FakeBrotherQL
    from kiosk.devices.ql_printer import LABELS, BrotherQLPrinter

    label = LABELS[config.ql_label]
    if config.ql_connection != "fake":
        return BrotherQLPrinter(
            config.ql_connection, config.ql_model, label, timeout_s=config.timeout_s
        )
    roll = {"62": "DK-22205", "62x100": "DK-11202", "62red": "DK-22251"}[config.ql_label]
    fake = FakeBrotherQL(config.ql_model, roll, output_dir=config.fake_output_dir)
    printer = BrotherQLPrinter(
        f"file://{fake.path}",
        config.ql_model,
        label,
        timeout_s=config.timeout_s,
        name=f"fake Brother {config.ql_model} ({label.roll})",
        fake=fake,  # faults on purpose: printer.fake.fault("cover_open")
    )
    return printer
