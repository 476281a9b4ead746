"""Badge bytes and print time (issue 17), against the full-width encoder in the same run.

    python benchmarks/run.py badges

Rows: bytes per badge with today's full-width raster job (`legacy_badge_job`) and with the
compact job, as ratios, on 80 mm (TM-T20II, native QR) and 58 mm (POS-5890, raster QR)
paper, with and without a photo, and in the printer-font mode; render + encode time; and
the time from "check-in committed" to "last byte received" through the real serial driver
(python-escpos Serial over pyserial) into a printer simulated on a pseudo-terminal at
115,200 baud (kiosk.devices.serial_sim); and a Brother QL-820NWB badge (render, encode,
send to the fake QL until it reports the label printed).
Targets: 80 mm with photo <= 20 KB, without <= 8 KB, 58 mm with photo <= 12 KB,
printer-font without photo <= 3 KB, render + encode <= 60 ms, check-in to last byte <= 2 s.
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image, ImageDraw

from kiosk.app import BadgePrinting, build_kiosk, init_kiosk
from kiosk.config import load_config
from kiosk.devices.commands import badge_job, legacy_badge_job, open_printer
from kiosk.devices.config import PrinterConfig
from kiosk.devices.ql_printer import BrotherQLPrinter
from kiosk.devices.serial_sim import SerialPrinterSimulator
from kiosk.domain.clock import ManualClock
from kiosk.domain.tokens import TokenSigner, new_ref
from kiosk.domain.values import BadgeContent
from kiosk.services.checkin import Collected, VisitorDetails, WalkIn
from kiosk.storage.db import open_database

BAUD = 115_200
KB = 1024


def face_jpeg() -> bytes:
    """A synthetic head and shoulders, 480 x 640 like a camera still."""
    image = Image.new("L", (480, 640), 200)
    draw = ImageDraw.Draw(image)
    draw.ellipse((140, 90, 340, 350), fill=150)  # face
    draw.ellipse((185, 180, 215, 200), fill=40)  # eyes
    draw.ellipse((265, 180, 295, 200), fill=40)
    draw.arc((200, 240, 280, 300), 20, 160, fill=60, width=6)
    draw.pieslice((60, 380, 420, 800), 180, 360, fill=90)  # shoulders
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def badge(photo: bytes | None) -> BadgeContent:
    signer = TokenSigner(Ed25519PrivateKey.generate())
    now = datetime(2025, 3, 14, 9, 5, tzinfo=UTC)
    ref = new_ref()
    token, _ = signer.sign_badge(visit_ref=ref, not_before=now, not_after=now + timedelta(hours=8))
    return BadgeContent(
        visit_ref=ref,
        visitor_name="张伟 Zhang Wei",
        company="Acme Widgets Ltd",
        host_name="王芳",
        visitor_type_label="CONTRACTOR",
        issued_at=now,
        expires_at=now + timedelta(hours=8),
        escort_required=True,
        token=token,
        photo_jpeg=photo,
        site_name="Harbour Tower",
    )


def _median_ms(action: Callable[[], object], repeat: int = 9) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def byte_rows() -> list[dict[str, Any]]:
    photo = face_jpeg()
    cases = [
        ("80 mm with photo", "TM-T20II", photo, {}, 20 * KB),
        ("80 mm without photo", "TM-T20II", None, {}, 8 * KB),
        ("58 mm with photo", "POS-5890", photo, {}, 12 * KB),
        ("58 mm without photo", "POS-5890", None, {}, None),
        (
            "80 mm printer font (GB18030), without photo",
            "TM-T20II",
            None,
            {"native_text": True},
            3 * KB,
        ),
    ]
    rows = []
    for label, profile, jpeg, options, target in cases:
        content = badge(jpeg)
        today = len(legacy_badge_job(content, PrinterConfig(profile=profile)))
        size = len(badge_job(content, PrinterConfig(profile=profile, **options)))
        row: dict[str, Any] = {
            "name": f"badge bytes, {label}",
            "median_ms": None,
            "bytes": size,
            "today_bytes": today,
            "ratio_today_over_new": round(today / size, 1),
            "seconds_at_115200_baud": round(size / (BAUD / 10), 2),
        }
        if target is not None:
            row["target"] = f"<= {target // KB} KB"
            row["ok"] = size <= target
        rows.append(row)
    return rows


def timing_rows() -> list[dict[str, Any]]:
    content = badge(face_jpeg())
    config = PrinterConfig(profile="TM-T20II")
    badge_job(content, config)  # fonts loaded once, as in a running kiosk
    legacy_badge_job(content, config)
    new_ms = _median_ms(lambda: badge_job(content, config))
    old_ms = _median_ms(lambda: legacy_badge_job(content, config))
    return [
        {
            "name": "badge rendered + encoded, 80 mm with photo (compact job)",
            "median_ms": round(new_ms, 1),
            "today_ms": round(old_ms, 1),
            "ratio_today_over_new": round(old_ms / new_ms, 2),
            "target": "<= 60 ms",
            "ok": new_ms <= 60,
        }
    ]


def serial_rows() -> list[dict[str, Any]]:
    """A walk-in checked in on a real kiosk database, then its badge printed through the
    serial driver at 115,200 baud: from the check-in's return to the last byte."""
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "kiosk.toml"
        path.write_text('[site]\nname = "Harbour Tower"\nafter_hours = "open"\n', "utf-8")
        init_kiosk(path)
        config = load_config(path)
        clock = ManualClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
        kiosk = build_kiosk(config, open_database(config.database_path), clock)
        host, _ = kiosk.directory.add_host("王芳", email="wang.fang@example.com")
        simulator = SerialPrinterSimulator(baud=BAUD)
        try:
            settings = PrinterConfig(kind="serial", serial_device=simulator.path, timeout_s=2)
            printer = open_printer(settings)
            printing = BadgePrinting(kiosk, printer)
            printing.settings = settings
            printing.print_badge(_check_in(kiosk, host))
            printing.queue.run_pending()  # warm: fonts, the serial port opened
            simulator.wait_for(len(printing.queue.jobs()[-1].payload))
            simulator.reset_clock()
            visit_ref = _check_in(kiosk, host)
            committed = time.perf_counter()
            job = printing.print_badge(visit_ref)
            printing.queue.run_pending()
            payload = printing.queue.get(job.job_id).payload
            simulator.wait_for(len(payload))
            last = simulator.last_byte_at or time.perf_counter()
            today = legacy_badge_job(kiosk.engine.badge_content(visit_ref), settings)
            first = simulator.first_byte_at or last
            rows.append(
                {
                    "name": "check-in committed -> last byte, 80 mm with photo, serial 115200",
                    "median_ms": round((last - committed) * 1000, 1),
                    "first_byte_ms": round((first - committed) * 1000, 1),
                    "bytes": len(payload),
                    "today_seconds_at_115200": round(len(today) / (BAUD / 10), 2),
                    "target": "<= 2 s",
                    "ok": last - committed <= 2.0,
                }
            )
            printer.close()
        finally:
            simulator.close()
            kiosk.close()
    return rows


def _check_in(kiosk: Any, host: Any) -> str:
    result = kiosk.engine.check_in_walk_in(
        WalkIn(VisitorDetails("张伟 Zhang Wei", company="Acme Widgets Ltd"), host.ref),
        Collected(photo_jpeg=face_jpeg()),
    )
    return str(result.visit_ref)


def ql_rows() -> list[dict[str, Any]]:
    """A Brother QL-820NWB badge on 62 mm tape, black and black/red: bytes, render + encode,
    and the job through brother_ql's linux_kernel backend into the fake QL (no line speed:
    USB moves these bytes in milliseconds; the printer's own speed is not simulated)."""
    rows = []
    content = badge(face_jpeg())
    for label in ("62", "62red"):
        config = PrinterConfig(kind="brother_ql", ql_label=label, timeout_s=5)
        badge_job(content, config)
        encode_ms = _median_ms(lambda config=config: badge_job(content, config), repeat=3)
        printer = open_printer(config)
        try:
            job = badge_job(content, config)
            started = time.perf_counter()
            printer.send(job)
            sent_ms = (time.perf_counter() - started) * 1000
        finally:
            if isinstance(printer, BrotherQLPrinter) and printer.fake:
                printer.fake.close()
        rows.append(
            {
                "name": f"QL-820NWB badge, label {label}: render + encode",
                "median_ms": round(encode_ms, 1),
                "bytes": len(job),
                "send_until_printing_completed_ms": round(sent_ms, 1),
            }
        )
    return rows


def run() -> list[dict[str, Any]]:
    return byte_rows() + timing_rows() + serial_rows() + ql_rows()
