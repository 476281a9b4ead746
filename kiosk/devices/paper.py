"""What the paper would show: a tiny interpreter for the ESC/POS subset the kiosk sends.

The fake printer uses it to write a PNG of each job, so a demo or a test sees the badge
exactly as printed. It is strict: a byte sequence it does not know is an error, because
the kiosk should never send one (see `escpos_codec`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

LINE_FEED_DOTS = 30  # ESC d n feeds n lines of the default 1/6 inch at 203 dpi (approx.)


@dataclass(frozen=True)
class Command:
    name: str  # "init", "raster", "feed_lines", "cut", "text", "lf"
    offset: int
    args: tuple[int, ...] = ()
    payload: bytes = b""


def parse_job(job: bytes) -> list[Command]:
    """Split a job into commands; raises ValueError on anything outside the kiosk's subset."""
    commands: list[Command] = []
    i = 0
    while i < len(job):
        byte = job[i]
        if job.startswith(b"\x1b@", i):
            commands.append(Command("init", i))
            i += 2
        elif job.startswith(b"\x1dv0", i):
            if i + 8 > len(job):
                raise ValueError(f"truncated raster header at {i}")
            mode, xl, xh, yl, yh = job[i + 3 : i + 8]
            width_bytes, rows = xl + 256 * xh, yl + 256 * yh
            end = i + 8 + width_bytes * rows
            if end > len(job):
                raise ValueError(
                    f"truncated raster data at {i}: {len(job) - i - 8} of {end - i - 8}"
                )
            commands.append(Command("raster", i, (mode, width_bytes, rows), job[i + 8 : end]))
            i = end
        elif job.startswith(b"\x1bd", i) and i + 2 < len(job):
            commands.append(Command("feed_lines", i, (job[i + 2],)))
            i += 3
        elif job.startswith(b"\x1dV", i) and i + 2 < len(job):
            mode = job[i + 2]
            if mode in (65, 66):
                commands.append(Command("cut", i, (mode, job[i + 3])))
                i += 4
            else:
                commands.append(Command("cut", i, (mode,)))
                i += 3
        elif byte == 0x0A:
            commands.append(Command("lf", i))
            i += 1
        elif 0x20 <= byte < 0x7F:
            end = i
            while end < len(job) and 0x20 <= job[end] < 0x7F:
                end += 1
            commands.append(Command("text", i, payload=job[i:end]))
            i = end
        else:
            raise ValueError(f"unexpected byte {byte:#04x} at offset {i}")
    return commands


def raster_to_image(width_bytes: int, rows: int, payload: bytes) -> Image.Image:
    bits = np.unpackbits(np.frombuffer(payload, np.uint8).reshape(rows, width_bytes), axis=1)
    return Image.fromarray(np.where(bits == 1, 0, 255).astype(np.uint8), "L")


def render_paper(job: bytes, width: int) -> Image.Image:
    """The printed strip as an L image `width` dots wide (white paper, black dots)."""
    from PIL import ImageDraw

    pieces: list[Image.Image] = []
    text_row: list[bytes] = []

    def flush_text() -> None:
        if text_row:
            strip = Image.new("L", (width, 24), 255)
            ImageDraw.Draw(strip).text((2, 4), b"".join(text_row).decode("ascii"), fill=0)
            pieces.append(strip)
            text_row.clear()

    for command in parse_job(job):
        if command.name == "raster":
            flush_text()
            _mode, width_bytes, rows = command.args
            pieces.append(raster_to_image(width_bytes, rows, command.payload))
        elif command.name == "text":
            text_row.append(command.payload)
        elif command.name == "lf":
            if text_row:
                flush_text()
            else:
                pieces.append(Image.new("L", (width, LINE_FEED_DOTS), 255))
        elif command.name == "feed_lines":
            flush_text()
            pieces.append(Image.new("L", (width, LINE_FEED_DOTS * command.args[0]), 255))
        elif command.name == "cut":
            flush_text()
            cut = Image.new("L", (width, 9), 255)
            ImageDraw.Draw(cut).line((0, 4, width, 4), fill=128)
            pieces.append(cut)
    flush_text()
    height = sum(p.height for p in pieces) or 1
    paper = Image.new("L", (width, height), 255)
    y = 0
    for piece in pieces:
        paper.paste(piece, (0, y))
        y += piece.height
    return paper
