"""An ESC/POS interpreter for the tests, written from Epson's command reference and sharing
no code with the kiosk's encoder (kiosk.devices.escpos_*) or its fake paper (paper.py).

It plays the printer: a paper `width` dots wide, a print position that moves down, and
for each command what the reference says the printer does:

    ESC @                 initialise (alignment left, text size 1, Chinese mode off)
    ESC M n               font A (12 x 24) or B (9 x 17)
    ESC a n               justification 0 left, 1 centre, 2 right (also for raster)
    ESC J n               feed n dots;   ESC d n   feed n lines (30 dots each)
    GS v 0 m xL xH yL yH  raster: m 0 normal, 1 double width, 2 double height, 3 both
    GS ( k pL pH cn fn    2-D symbol, cn 49 (QR): fn 65 model, 67 module, 69 level,
                          80 store (m = 48), 81 print: drawn here with the `qrcode` library
    GS V m [n]            cut;  GS ! n  character size;  GS B n  reverse;  ESC E n  bold
    FS &  /  FS .         Chinese (GB18030) character mode on / off
    LF                    print the text line and feed
    0x20.. text           characters, GB18030 when Chinese mode is on, else ASCII only

Anything else is an error naming the offset: the kiosk must never send it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import qrcode
from PIL import Image, ImageDraw

_QR_LEVELS = {
    48: qrcode.constants.ERROR_CORRECT_L,
    49: qrcode.constants.ERROR_CORRECT_M,
    50: qrcode.constants.ERROR_CORRECT_Q,
    51: qrcode.constants.ERROR_CORRECT_H,
}
LINE_DOTS = 30


class UnknownCommand(ValueError):
    pass


@dataclass
class Printout:
    """What came out: the paper, the text lines printed in the printer's font (decoded),
    each QR's stored data, and the cut count."""

    paper: Image.Image
    text_lines: list[str] = field(default_factory=list)
    qr_data: list[bytes] = field(default_factory=list)
    qr_boxes: list[tuple[int, int, int, int]] = field(default_factory=list)
    cuts: int = 0
    raster_payload_bytes: int = 0


class EscposReader:
    def __init__(self, width: int, font_path: str | None = None) -> None:
        self.width = width
        self.font_path = font_path
        self.rows: list[np.ndarray] = []  # one bool row per dot line, True = black
        self.align = 0
        self.size = (1, 1)
        self.chinese = False
        self.reverse = False
        self.font_b = False
        self.text = bytearray()
        self.qr: dict[str, object] = {"module": 3, "level": 48, "data": b""}
        self.out = Printout(Image.new("L", (width, 1), 255))

    # -- paper --------------------------------------------------------------------------
    def _feed(self, dots: int) -> None:
        self.rows.extend(np.zeros(self.width, bool) for _ in range(dots))

    def _place(self, block: np.ndarray) -> None:
        _height, wide = block.shape
        if wide > self.width:
            raise UnknownCommand(f"raster {wide} dots wide on {self.width}-dot paper")
        x = {0: 0, 1: (self.width - wide) // 2, 2: self.width - wide}[self.align]
        for row in block:
            line = np.zeros(self.width, bool)
            line[x : x + wide] = row
            self.rows.append(line)

    def _print_text(self) -> None:
        data = bytes(self.text)
        self.text.clear()
        text = data.decode("gb18030") if self.chinese else data.decode("ascii")
        self.out.text_lines.append(text)
        font_height = (17 if self.font_b else 24) * self.size[1]
        strip = Image.new("L", (self.width, font_height), 0 if self.reverse else 255)
        if text:
            from PIL import ImageFont

            font = (
                ImageFont.truetype(self.font_path, int(font_height * 0.7))
                if self.font_path
                else ImageFont.load_default()
            )
            draw = ImageDraw.Draw(strip)
            length = draw.textlength(text, font=font)
            x = {0: 0, 1: (self.width - length) / 2, 2: self.width - length}[self.align]
            draw.text((x, 0), text, font=font, fill=255 if self.reverse else 0)
        self._place(np.asarray(strip) < 128)

    # -- commands -----------------------------------------------------------------------
    def read(self, job: bytes) -> Printout:
        i = 0
        while i < len(job):
            b = job[i]
            two = job[i : i + 2]
            if two == b"\x1b@":
                self.align, self.size, self.chinese, self.reverse = 0, (1, 1), False, False
                self.font_b = False
                i += 2
            elif two == b"\x1ba":
                self.align = {0: 0, 1: 1, 2: 2, 48: 0, 49: 1, 50: 2}[job[i + 2]]
                i += 3
            elif two == b"\x1bJ":
                self._feed(job[i + 2])
                i += 3
            elif two == b"\x1bd":
                self._feed(LINE_DOTS * job[i + 2])
                i += 3
            elif two == b"\x1bE":
                i += 3
            elif two == b"\x1bM":
                self.font_b = job[i + 2] in (1, 49)
                i += 3
            elif two == b"\x1d!":
                n = job[i + 2]
                self.size = ((n >> 4) + 1, (n & 0x0F) + 1)
                i += 3
            elif two == b"\x1dB":
                self.reverse = bool(job[i + 2] & 1)
                i += 3
            elif two == b"\x1c&":
                self.chinese = True
                i += 2
            elif two == b"\x1c.":
                self.chinese = False
                i += 2
            elif two == b"\x1dV":
                self.out.cuts += 1
                i += 4 if job[i + 2] in (65, 66) else 3
            elif job[i : i + 3] == b"\x1dv0":
                i = self._raster(job, i)
            elif job[i : i + 3] == b"\x1d(k":
                i = self._symbol(job, i)
            elif b == 0x0A:
                self._print_text()
                i += 1
            elif b >= 0x20 and b != 0x7F:
                self.text.append(b)
                i += 1
            else:
                raise UnknownCommand(f"byte {b:#04x} at offset {i} is not in the kiosk's subset")
        if self.text:
            raise UnknownCommand("text left in the buffer without LF: it would never print")
        bits = np.array(self.rows) if self.rows else np.zeros((1, self.width), bool)
        self.out.paper = Image.fromarray(np.where(bits, 0, 255).astype(np.uint8), "L")
        return self.out

    def _raster(self, job: bytes, i: int) -> int:
        mode, xl, xh, yl, yh = job[i + 3 : i + 8]
        if mode not in (0, 1, 2, 3, 48, 49, 50, 51):
            raise UnknownCommand(f"raster mode {mode} at {i}")
        wide, high = xl + 256 * xh, yl + 256 * yh
        data = job[i + 8 : i + 8 + wide * high]
        if len(data) != wide * high:
            raise UnknownCommand(f"truncated raster at {i}")
        self.out.raster_payload_bytes += len(data)
        bits = np.unpackbits(np.frombuffer(data, np.uint8).reshape(high, wide), axis=1) == 1
        if mode & 1:
            bits = np.repeat(bits, 2, axis=1)
        if mode & 2:
            bits = np.repeat(bits, 2, axis=0)
        self._place(bits)
        return i + 8 + wide * high

    def _symbol(self, job: bytes, i: int) -> int:
        length = job[i + 3] + 256 * job[i + 4]
        cn, fn, body = job[i + 5], job[i + 6], job[i + 7 : i + 5 + length]
        if cn != 49:
            raise UnknownCommand(f"2-D symbol type {cn} at {i}: only QR (49) is expected")
        if fn == 65:
            if body[0] != 50:
                raise UnknownCommand("QR model 2 expected")
        elif fn == 67:
            self.qr["module"] = body[0]
        elif fn == 69:
            self.qr["level"] = body[0]
        elif fn == 80:
            if body[0] != 48:
                raise UnknownCommand("QR store with m != 48")
            self.qr["data"] = bytes(body[1:])
        elif fn == 81:
            self._print_qr()
        else:
            raise UnknownCommand(f"QR function {fn} at {i}")
        return i + 5 + length

    def _print_qr(self) -> None:
        data = self.qr["data"]
        assert isinstance(data, bytes)
        code = qrcode.QRCode(
            box_size=int(self.qr["module"]),  # type: ignore[call-overload]
            border=0,
            error_correction=_QR_LEVELS[int(self.qr["level"])],  # type: ignore[call-overload]
        )
        code.add_data(data.decode("ascii"))
        code.make(fit=True)
        matrix = np.array(code.get_matrix(), bool)
        module = int(self.qr["module"])  # type: ignore[call-overload]
        picture = np.repeat(np.repeat(matrix, module, axis=0), module, axis=1)
        top = len(self.rows)
        self._place(picture)
        x = {0: 0, 1: (self.width - picture.shape[1]) // 2, 2: self.width - picture.shape[1]}[
            self.align
        ]
        self.out.qr_data.append(data)
        self.out.qr_boxes.append((x, top, picture.shape[1], picture.shape[0]))


def read_job(job: bytes, width: int, font_path: str | None = None) -> Printout:
    return EscposReader(width, font_path).read(job)
