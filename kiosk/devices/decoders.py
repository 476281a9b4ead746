"""Code readers behind one protocol: `decode(frame) -> list[DecodedCode]`.

    ZxingReader   zxing-cpp; QR, PDF417 and 1-D; raw bytes exactly as encoded (`Barcode.bytes`)
    PyzbarReader  zbar; QR and 1-D, no PDF417. zbar transcodes byte-mode QR text to UTF-8,
                  so its "raw" bytes are exact only for ASCII payloads (our tokens are ASCII)
    FastReader    the default, chosen by measurement (benchmarks/bench_devices.py): grayscale,
                  zxing-cpp restricted to QR + PDF417 without the rotate/downscale/invert
                  passes, then, only when a barcode-like region is present, a deskewed crop
                  for PDF417 (zxing-cpp's PDF417 detector gives up beyond a few degrees of
                  rotation, and a licence held under a camera is rarely square to it).

Measured on a 640x480 frame (2-core x86, see the benchmark): FastReader finds a badge QR in
well under a millisecond and spends ~2 ms on an empty frame; pyzbar spends ~13 ms and ~45 ms.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import cv2
import numpy as np

from kiosk.devices import hardware
from kiosk.devices.protocols import CodeReader, DecodedCode, Frame

_ZXING_NAMES = {
    "QRCode": "qr",
    "MicroQRCode": "microqr",
    "RMQRCode": "rmqr",
    "PDF417": "pdf417",
    "CompactPDF417": "pdf417",
    "MicroPDF417": "micropdf417",
    "DataMatrix": "datamatrix",
    "Aztec": "aztec",
    "Code128": "code128",
    "Code39": "code39",
    "Code93": "code93",
    "EAN13": "ean13",
    "EAN8": "ean8",
    "UPCA": "upca",
    "UPCE": "upce",
    "ITF": "itf",
    "Codabar": "codabar",
}
_ZBAR_NAMES = {"QRCODE": "qr", "PDF417": "pdf417", "I25": "itf"}


def format_name_zxing(fmt: object) -> str:
    text = str(getattr(fmt, "name", fmt))  # "QRCode"; str() gives "QR Code" in zxing-cpp 3
    return _ZXING_NAMES.get(text, text.lower())


def to_gray(frame: Frame) -> Frame:
    """A 2-D uint8 view of `frame`; BGR and BGRA are converted, gray is returned as is."""
    if frame.ndim == 2:
        return frame
    if frame.shape[2] == 4:
        return np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY), dtype=np.uint8)
    return np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def _position_zxing(barcode: Any) -> tuple[tuple[int, int], ...]:
    p = barcode.position
    return tuple(
        (int(pt.x), int(pt.y)) for pt in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
    )


class ZxingReader:
    """zxing-cpp with chosen formats and search passes. `formats` are our lower-case names."""

    def __init__(
        self,
        formats: Sequence[str] = ("qr", "pdf417"),
        *,
        try_rotate: bool = True,
        try_downscale: bool = True,
        try_invert: bool = True,
        name: str = "zxing",
    ) -> None:
        zxingcpp = hardware.require("zxing-cpp")
        assert zxingcpp is not None
        self._zx = zxingcpp
        by_name = {v: k for k, v in _ZXING_NAMES.items() if k != "CompactPDF417"}
        try:
            self._formats = [getattr(zxingcpp.BarcodeFormat, by_name[f]) for f in formats]
        except KeyError as err:
            raise ValueError(f"unknown code format {err.args[0]!r}") from err
        self._options = {
            "try_rotate": try_rotate,
            "try_downscale": try_downscale,
            "try_invert": try_invert,
        }
        self.name = name

    def decode(self, frame: Frame) -> list[DecodedCode]:
        gray = to_gray(frame)
        found = self._zx.read_barcodes(gray, formats=self._formats, **self._options)
        return [
            DecodedCode(bytes(b.bytes), format_name_zxing(b.format), self.name, _position_zxing(b))
            for b in found
        ]


class PyzbarReader:
    """zbar through pyzbar; QR and 1-D codes (zbar has no PDF417 reader)."""

    def __init__(self, symbols: Iterable[str] | None = None, name: str = "pyzbar") -> None:
        module = hardware.require("pyzbar")
        assert module is not None
        self._pyzbar = module
        self._symbols = (
            [getattr(module.ZBarSymbol, s.upper()) for s in symbols]
            if symbols is not None
            else None
        )
        self.name = name

    def decode(self, frame: Frame) -> list[DecodedCode]:
        gray = to_gray(frame)
        found = self._pyzbar.decode(gray, symbols=self._symbols)
        codes = []
        for symbol in found:
            kind = _ZBAR_NAMES.get(symbol.type, symbol.type.lower())
            polygon = tuple((int(p.x), int(p.y)) for p in symbol.polygon)
            codes.append(DecodedCode(bytes(symbol.data), kind, self.name, polygon))
        return codes


def barcode_regions(gray: Frame, max_regions: int = 2) -> list[Frame]:
    """Upright crops of the wide, high-gradient regions of `gray` (candidate PDF417 codes).

    Works on a quarter-size copy, so it costs about a millisecond at 640x480: gradient
    magnitude, Otsu threshold, morphological closing, then the rotated bounding box of the
    biggest blobs whose aspect ratio looks like a stacked barcode.
    """
    height, width = gray.shape
    factor = 4 if width >= 960 else 2
    small = cv2.resize(gray, (width // factor, height // factor), interpolation=cv2.INTER_AREA)
    gx = cv2.convertScaleAbs(cv2.Sobel(small, cv2.CV_16S, 1, 0, ksize=3))
    gy = cv2.convertScaleAbs(cv2.Sobel(small, cv2.CV_16S, 0, 1, ksize=3))
    gradient = cv2.blur(cv2.addWeighted(gx, 0.5, gy, 0.5, 0), (5, 5))
    _, mask = cv2.threshold(gradient, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if float(gradient.mean()) < 4.0:  # nearly uniform frame: nothing to look at
        return []
    mask = cv2.morphologyEx(
        mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7))
    )
    kernel = np.ones((3, 3), np.uint8)
    mask = cv2.dilate(cv2.erode(mask, kernel, iterations=2), kernel, iterations=2)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    crops: list[Frame] = []
    min_area = 0.01 * small.shape[0] * small.shape[1]
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:max_regions]:
        if cv2.contourArea(contour) < min_area:
            break
        (cx, cy), (w, h), angle = cv2.minAreaRect(contour)
        if w < h:
            w, h, angle = h, w, angle + 90
        if h <= 0 or w / h < 1.6:  # a PDF417 is at least ~2:1; squares are QR (done already)
            continue
        cx, cy = cx * factor, cy * factor
        out_w, out_h = int(w * factor * 1.15 + 16), int(h * factor * 1.3 + 16)
        matrix = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
        matrix[0, 2] += out_w / 2 - cx
        matrix[1, 2] += out_h / 2 - cy
        crop = cv2.warpAffine(gray, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=255)
        crops.append(np.asarray(crop, dtype=np.uint8))
    return crops


class FastReader:
    """The default pipeline: cheap zxing pass over the whole frame, PDF417 rescue on demand."""

    def __init__(self, name: str = "fast") -> None:
        self.name = name
        self._whole = ZxingReader(
            ("qr", "pdf417"), try_rotate=False, try_downscale=False, try_invert=False, name=name
        )
        self._pdf417 = ZxingReader(
            ("pdf417",), try_rotate=False, try_downscale=False, try_invert=False, name=name
        )

    def decode(self, frame: Frame) -> list[DecodedCode]:
        gray = to_gray(frame)
        found = self._whole.decode(gray)
        if found:
            return found
        for crop in barcode_regions(gray):
            found = self._pdf417.decode(crop)
            if not found:  # sensor noise breaks the row detector; a light blur repairs it
                found = self._pdf417.decode(
                    np.asarray(cv2.GaussianBlur(crop, (0, 0), 1.0), np.uint8)
                )
            if found:  # positions are in crop coordinates: drop them rather than mislead
                return [DecodedCode(c.raw, c.format, c.decoder) for c in found]
        return []


def make_reader(name: str = "auto") -> CodeReader:
    """The reader named in `CameraConfig.decoder`; "auto" is the measured default, FastReader."""
    if name in ("auto", "fast"):
        return FastReader()
    if name == "zxing":
        return ZxingReader(("qr", "pdf417", "code128", "code39", "ean13", "datamatrix"))
    if name == "pyzbar":
        return PyzbarReader()
    raise ValueError(f"unknown decoder {name!r}; use auto, fast, zxing or pyzbar")
