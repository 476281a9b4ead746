"""One line of `kiosk doctor`'s device report (`Finding`), and the network printer probe
that both the receipt printers' and the label printers' checks use."""

from __future__ import annotations

import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One device or capability: `ok` or not, and what to do about it."""

    kind: str  # "camera", "printer", "decoder", "ocr", "font"
    name: str
    ok: bool
    detail: str = ""
    advice: str = ""


def probe_network_printer(host: str, port: int, timeout_s: float = 2.0) -> Finding:
    name = f"{host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return Finding("printer", name, True, "accepts connections")
    except OSError as err:
        return Finding(
            "printer",
            name,
            False,
            f"not reachable: {err}",
            "check the address and that port 9100 is open",
        )
