"""Helpers for the devices tests: AAMVA samples, badge content, a strict raster decoder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from PIL import Image

from kiosk.domain.tokens import TokenSigner, new_ref
from kiosk.domain.values import BadgeContent

NOW = datetime(2025, 3, 14, 9, 5, tzinfo=UTC)


def aamva_payload(
    elements: list[tuple[str, str]],
    *,
    iin: str = "636014",
    version: str = "10",
    jurisdiction_version: str = "00",
    subfile: str = "DL",
) -> bytes:
    """An AAMVA DL/ID-2016/2020 payload built byte by byte, offsets computed as the spec says.

    Header: "@" LF RS CR "ANSI " IIN(6) version(2) jurisdiction version(2) entries(2),
    then the subfile directory: type(2) offset(4) length(4); the subfile is its type,
    the elements separated by LF, terminated by CR.
    """
    body = subfile.encode() + b"\n".join(f"{k}{v}".encode("latin-1") for k, v in elements) + b"\r"
    header = (
        b"@\n\x1e\rANSI " + iin.encode() + version.encode() + jurisdiction_version.encode() + b"01"
    )
    offset = len(header) + 10
    return header + subfile.encode() + f"{offset:04d}{len(body):04d}".encode() + body


CALIFORNIA_ELEMENTS = [
    ("DCA", "C"),
    ("DCB", "NONE"),
    ("DCD", "NONE"),
    ("DBA", "08312029"),  # MMDDCCYY (USA)
    ("DCS", "MONTGOMERY"),
    ("DAC", "JANE"),
    ("DAD", "ELIZABETH"),
    ("DBD", "08312021"),
    ("DBB", "08311990"),
    ("DBC", "2"),
    ("DAY", "BRO"),
    ("DAU", "065 IN"),
    ("DAG", "1234 MAIN STREET"),
    ("DAI", "SACRAMENTO"),
    ("DAJ", "CA"),
    ("DAK", "958140000  "),
    ("DAQ", "D1234567"),
    ("DCF", "08/31/2021A1B2C/DDFD/29"),
    ("DCG", "USA"),
    ("DDE", "N"),
    ("DDF", "N"),
    ("DDG", "N"),
]


def make_badge(signer: TokenSigner, name: str = "张伟", **changes: object) -> BadgeContent:
    ref = new_ref()
    token, _ = signer.sign_badge(visit_ref=ref, not_before=NOW, not_after=NOW + timedelta(hours=8))
    local = datetime(2025, 3, 14, 9, 5)
    fields: dict[str, object] = {
        "visit_ref": ref,
        "visitor_name": name,
        "company": "Acme Widgets Ltd",
        "host_name": "王芳",
        "visitor_type_label": "CONTRACTOR",
        "issued_at": local,
        "expires_at": local + timedelta(hours=8, minutes=25),
        "escort_required": True,
        "token": token,
        "site_name": "Harbour Tower",
    }
    fields.update(changes)
    return BadgeContent(**fields)  # type: ignore[arg-type]


def decode_raster_job(job: bytes) -> tuple[Image.Image, list[bytes]]:
    """A strict decoder written for the tests, independent of kiosk.devices.paper.

    Returns the raster image (all GS v 0 blocks stacked) and every byte run found outside
    raster payloads. Fails on any GS v 0 whose mode is not 0 or whose width changes.
    """
    rows: list[np.ndarray] = []
    outside: list[bytes] = []
    i, run_start, width_bytes = 0, 0, None
    while i < len(job):
        if job[i : i + 3] == b"\x1dv0":
            outside.append(job[run_start:i])
            mode, xl, xh, yl, yh = job[i + 3 : i + 8]
            assert mode == 0, "normal density expected"
            wb, height = xl + 256 * xh, yl + 256 * yh
            assert width_bytes in (None, wb), "raster width changed inside a job"
            width_bytes = wb
            data = np.frombuffer(job[i + 8 : i + 8 + wb * height], np.uint8)
            assert data.size == wb * height, "truncated raster"
            rows.append(np.unpackbits(data.reshape(height, wb), axis=1))
            i = run_start = i + 8 + wb * height
        else:
            i += 1
    outside.append(job[run_start:])
    bits = np.vstack(rows)
    return Image.fromarray(np.where(bits == 1, 0, 255).astype(np.uint8), "L"), outside
