"""`kiosk doctor` for a Brother QL: the driver library, the connection, and the printer's
own status reply (labels loaded, cover, errors), each with advice when something is wrong."""

from __future__ import annotations

import os

from kiosk.devices import hardware
from kiosk.devices.config import PrinterConfig
from kiosk.devices.findings import Finding, probe_network_printer
from kiosk.devices.protocols import StatusLevel

BROTHER_VENDOR = 0x04F9


def check_ql(config: PrinterConfig, probe_network: bool = False) -> list[Finding]:
    reason = hardware.missing("brother_ql")
    if reason:
        return [
            Finding("printer", "brother_ql", False, reason, hardware.FEATURES["brother_ql"].advice)
        ]
    where = config.ql_connection
    findings = [
        Finding("printer", "brother_ql", True, f"{config.ql_model}, label {config.ql_label}")
    ]
    if where.startswith(("file://", "/dev/")):
        path = where.removeprefix("file://")
        if not os.path.exists(path):
            return [
                *findings,
                Finding(
                    "printer", path, False, "device does not exist", "is the QL on and plugged in?"
                ),
            ]
        if not os.access(path, os.R_OK | os.W_OK):
            return [
                *findings,
                Finding(
                    "printer", path, False, "no permission", "add the kiosk user to the 'lp' group"
                ),
            ]
    elif where.startswith("usb://"):
        reason = hardware.missing("usb")
        if reason:
            return [
                *findings,
                Finding("printer", where, False, reason, hardware.FEATURES["usb"].advice),
            ]
    elif where.startswith("tcp://"):
        if not probe_network:
            return [*findings, Finding("printer", where, True, "not probed (use --probe-network)")]
        host, _, port = where.removeprefix("tcp://").partition(":")
        reachable = probe_network_printer(host, int(port or 9100))
        if not reachable.ok:
            return [*findings, reachable]
    return [*findings, _status_finding(config)]


def _status_finding(config: PrinterConfig) -> Finding:
    """Ask the printer itself (a fake one is started and stopped for the question)."""
    from kiosk.devices.printers import open_printer

    printer = open_printer(config)
    try:
        status = printer.status()
    finally:
        from kiosk.devices.ql_printer import BrotherQLPrinter

        if isinstance(printer, BrotherQLPrinter) and printer.fake is not None:
            printer.fake.close()
    ok = status.level is StatusLevel.OK
    advice = "" if ok else "see the printer: labels, cover, the error light"
    return Finding("printer", printer.name, ok, status.detail, advice)
