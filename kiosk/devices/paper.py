"""What the paper would show: a tiny interpreter for the ESC/POS subset the kiosk sends.

The fake printer uses it to write a PNG of each job, so a demo or a test sees the badge
exactly as printed. It is strict: a byte sequence it does not know is an error, because
the kiosk should never send one (see `escpos_codec`, `escpos_compact`, `escpos_text`).

Subset: ESC @, ESC a n, ESC J n, ESC d n, ESC E n, ESC M n, GS v 0 (modes 0-3), GS ( k (QR model
2: module, level, store, print; drawn as the preview draws it), GS V, GS ! n, GS B n, FS & / FS .
(GB18030 text), LF and printable text.
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


_FIXED = {  # command prefix -> (name, total length)
    b"\x1b@": ("init", 2),
    b"\x1ba": ("align", 3),
    b"\x1bJ": ("feed_dots", 3),
    b"\x1bd": ("feed_lines", 3),
    b"\x1bE": ("bold", 3),
    b"\x1bM": ("font", 3),
    b"\x1d!": ("size", 3),
    b"\x1dB": ("reverse", 3),
    b"\x1c&": ("chinese_on", 2),
    b"\x1c.": ("chinese_off", 2),
}


def parse_job(job: bytes) -> list[Command]:
    """Split a job into commands; raises ValueError on anything outside the kiosk's subset."""
    commands: list[Command] = []
    i = 0
    while i < len(job):
        byte = job[i]
        fixed = _FIXED.get(job[i : i + 2])
        if fixed is not None:
            name, length = fixed
            if i + length > len(job):
                raise ValueError(f"truncated {name} at {i}")
            commands.append(Command(name, i, tuple(job[i + 2 : i + length])))
            i += length
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
        elif job.startswith(b"\x1d(k", i) and i + 7 <= len(job):
            end = i + 5 + job[i + 3] + 256 * job[i + 4]
            if end > len(job) or job[i + 5] != 49:
                raise ValueError(f"bad 2-D code command at {i}")
            commands.append(Command("qr", i, (job[i + 6],), job[i + 7 : end]))
            i = end
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
        elif byte >= 0x20 and byte != 0x7F:
            end = i
            while end < len(job) and job[end] >= 0x20 and job[end] != 0x7F:
                end += 1
            commands.append(Command("text", i, payload=job[i:end]))
            i = end
        else:
            raise ValueError(f"unexpected byte {byte:#04x} at offset {i}")
    return commands


def raster_to_image(width_bytes: int, rows: int, payload: bytes, mode: int = 0) -> Image.Image:
    bits = np.unpackbits(np.frombuffer(payload, np.uint8).reshape(rows, width_bytes), axis=1)
    if mode & 1:
        bits = np.repeat(bits, 2, axis=1)
    if mode & 2:
        bits = np.repeat(bits, 2, axis=0)
    return Image.fromarray(np.where(bits == 1, 0, 255).astype(np.uint8), "L")


class _Paper:
    """The printer's state while a job is drawn: alignment, text mode, pieces of paper."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.pieces: list[tuple[Image.Image, int]] = []  # (strip, x)
        self.align = 0
        self.chinese = False
        self.size = 1
        self.text: list[bytes] = []
        self.qr: dict[int, bytes] = {}

    def place(self, piece: Image.Image) -> None:
        x = {0: 0, 1: (self.width - piece.width) // 2, 2: self.width - piece.width}
        self.pieces.append((piece, x.get(self.align % 48, 0)))

    def blank(self, dots: int) -> None:
        if dots > 0:
            self.pieces.append((Image.new("L", (self.width, dots), 255), 0))

    def flush_text(self) -> None:
        from PIL import ImageDraw

        if not self.text:
            return
        raw = b"".join(self.text)
        line = raw.decode("gb18030" if self.chinese else "ascii", errors="replace")
        strip = Image.new("L", (self.width, 24 * self.size), 255)
        draw = ImageDraw.Draw(strip)
        length = draw.textlength(line, font_size=20 * self.size)
        left = {0: 2, 1: (self.width - length) / 2, 2: self.width - length - 2}[self.align % 48]
        draw.text((left, 4), line, fill=0, font_size=20 * self.size)
        self.pieces.append((strip, 0))
        self.text.clear()

    def symbol(self, function: int, body: bytes) -> None:
        from kiosk.devices.render import native_qr_image

        self.qr[function] = body
        if function != 81:
            return
        levels = {48: "l", 49: "m", 50: "q", 51: "h"}
        module = self.qr.get(67, b"\x03")[0]
        level = levels.get(self.qr.get(69, b"1")[0], "m")
        data = self.qr.get(80, b"0")[1:].decode("ascii")
        self.place(native_qr_image(data, module, level))  # as the badge's preview shows it

    def finish(self) -> Image.Image:
        self.flush_text()
        height = sum(p.height for p, _ in self.pieces) or 1
        paper = Image.new("L", (self.width, height), 255)
        y = 0
        for piece, x in self.pieces:
            paper.paste(piece, (x, y))
            y += piece.height
        return paper


def render_paper(job: bytes, width: int) -> Image.Image:
    """The printed strip as an L image `width` dots wide (white paper, black dots)."""
    from PIL import ImageDraw

    paper = _Paper(width)
    for command in parse_job(job):
        name = command.name
        if name == "raster":
            paper.flush_text()
            mode, width_bytes, rows = command.args
            paper.place(raster_to_image(width_bytes, rows, command.payload, mode % 48))
        elif name == "qr":
            paper.flush_text()
            paper.symbol(command.args[0], command.payload)
        elif name == "text":
            paper.text.append(command.payload)
        elif name == "lf":
            if paper.text:
                paper.flush_text()
            else:
                paper.blank(LINE_FEED_DOTS)
        elif name in ("feed_lines", "feed_dots"):
            paper.flush_text()
            unit = LINE_FEED_DOTS if name == "feed_lines" else 1
            paper.blank(unit * command.args[0])
        elif name == "align":
            paper.align = command.args[0]
        elif name in ("chinese_on", "chinese_off"):
            paper.flush_text()
            paper.chinese = name == "chinese_on"
        elif name == "size":
            paper.size = (command.args[0] & 0x0F) + 1
        elif name == "init":
            paper.align, paper.chinese, paper.size = 0, False, 1
        elif name == "cut":
            paper.flush_text()
            cut = Image.new("L", (width, 9), 255)
            ImageDraw.Draw(cut).line((0, 4, width, 4), fill=128)
            paper.pieces.append((cut, 0))
    return paper.finish()
