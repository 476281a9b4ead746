"""Synthetic camera frames: a code as a camera would see it.

Used by the fake camera (codes pushed by a test or a demo), the decode-rate tests and the
benchmark. Conditions model what a lobby camera meets: a code held at an angle
(perspective), out of focus (blur), sensor noise, a glare spot from the ceiling lights and a
washed-out, low-contrast print. Everything is seeded, so a failing frame can be replayed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import cv2
import numpy as np
import segno
import zxingcpp

from kiosk.devices.protocols import Frame

SynthFormat = Literal["qr", "pdf417"]


def render_code(payload: bytes | str, fmt: SynthFormat = "qr", module_px: int = 4) -> Frame:
    """A clean grayscale picture of `payload` as a QR (level M) or PDF417 code, with quiet zone.

    A str QR payload uses the most compact QR mode for it (base32 tokens: alphanumeric);
    bytes are encoded in byte mode exactly.
    """
    if fmt == "qr":
        qr = segno.make(payload, error="m", micro=False, boost_error=False)
        matrix = np.array(list(qr.matrix_iter(scale=1, border=4)), dtype=np.uint8)
        image = np.where(matrix == 1, 0, 255).astype(np.uint8)
        return np.kron(image, np.ones((module_px, module_px), np.uint8)).astype(np.uint8)
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    # Error correction level 5, as on North American driving licences.
    barcode = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.PDF417, ec_level="5")
    image = np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=1, add_quiet_zones=True))
    # zxing draws one pixel per module and three per row (the usual 3:1 row height).
    return np.kron(image, np.ones((module_px, module_px), np.uint8)).astype(np.uint8)


@dataclass(frozen=True)
class Conditions:
    """How bad the picture is. Zero everywhere is a flat, sharp, evenly lit code."""

    name: str = "clean"
    code_fraction: float = 0.45  # code width as a fraction of frame width
    rotation_deg: float = 0.0
    perspective: float = 0.0  # 0..0.3: how far the corners are pulled
    blur_sigma: float = 0.0
    noise_sigma: float = 0.0
    glare: float = 0.0  # 0..1 strength of a bright spot over the code
    contrast: float = 1.0  # 1 = black on white; 0.25 = grey on light grey
    brightness: float = 0.0  # added after contrast, -1..1


STANDARD_CONDITIONS: tuple[Conditions, ...] = (
    Conditions("clean"),
    Conditions("rotated", rotation_deg=25.0),
    Conditions("perspective", perspective=0.18, rotation_deg=8.0),
    Conditions("blur", blur_sigma=1.6),
    Conditions("noise", noise_sigma=22.0),
    Conditions("glare", glare=0.75),
    Conditions("low_contrast", contrast=0.28, brightness=0.2),
    Conditions(
        "combined",
        perspective=0.1,
        rotation_deg=12.0,
        blur_sigma=1.0,
        noise_sigma=10.0,
        glare=0.4,
        contrast=0.6,
    ),
)


def synth_frame(
    code: Frame,
    conditions: Conditions = Conditions(),
    size: tuple[int, int] = (640, 480),
    seed: int = 0,
    color: bool = False,
) -> Frame:
    """Place `code` in a `size` = (width, height) frame under `conditions`.

    Per-frame jitter (position, exact angle, which corner moves) comes from `seed`.
    """
    rng = np.random.default_rng(seed)
    width, height = size
    c = conditions
    # Background: a smooth, slightly textured grey like a counter top.
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    background = 120 + 30 * np.sin(xx / 90.0 + rng.uniform(0, 6)) * np.cos(yy / 70.0)
    src_h, src_w = code.shape[:2]
    target_w = c.code_fraction * width * rng.uniform(0.92, 1.08)
    scale = target_w / src_w
    if src_h * scale > 0.85 * height:
        scale = 0.85 * height / src_h
    out_w, out_h = src_w * scale, src_h * scale
    cx = width / 2 + rng.uniform(-0.15, 0.15) * (width - out_w)
    cy = height / 2 + rng.uniform(-0.15, 0.15) * (height - out_h)
    corners = np.array(
        [
            [-out_w / 2, -out_h / 2],
            [out_w / 2, -out_h / 2],
            [out_w / 2, out_h / 2],
            [-out_w / 2, out_h / 2],
        ],
        dtype=np.float32,
    )
    if c.perspective:
        # Keystone: one edge is farther from the camera, so it looks shorter.
        pull = c.perspective * rng.uniform(0.7, 1.0)
        side = int(rng.integers(0, 4))
        a, b = side, (side + 1) % 4
        middle = (corners[a] + corners[b]) / 2
        corners[a] += (middle - corners[a]) * pull
        corners[b] += (middle - corners[b]) * pull
    angle = np.deg2rad(c.rotation_deg * rng.choice([-1, 1]) * rng.uniform(0.8, 1.2))
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32
    )
    corners = corners @ rotation.T + np.array([cx, cy], np.float32)
    source = np.array([[0, 0], [src_w, 0], [src_w, src_h], [0, src_h]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(source, corners.astype(np.float32))
    paper = np.full((src_h, src_w), 255, np.uint8)
    warped_code = cv2.warpPerspective(
        code, matrix, (width, height), flags=cv2.INTER_AREA, borderValue=255
    )
    mask = cv2.warpPerspective(
        paper, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=0
    )
    alpha = mask.astype(np.float32) / 255.0
    # Print: dark modules are not pure black, paper not pure white; contrast squeezes both.
    ink = warped_code.astype(np.float32) / 255.0
    ink = 0.5 + (ink - 0.5) * c.contrast + c.brightness * 0.5
    printed = np.clip(ink, 0, 1) * 225 + 15
    frame = background * (1 - alpha) + printed * alpha
    if c.glare:
        gx = cx + rng.uniform(-0.25, 0.25) * out_w
        gy = cy + rng.uniform(-0.25, 0.25) * out_h
        radius = 0.22 * max(out_w, out_h)
        spot = np.exp(-(((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * radius**2)))
        frame = frame + c.glare * spot * (255 - frame)
    if c.blur_sigma:
        frame = cv2.GaussianBlur(frame, (0, 0), c.blur_sigma)
    if c.noise_sigma:
        frame = frame + rng.normal(0, c.noise_sigma, frame.shape)
    gray = np.clip(frame, 0, 255).astype(np.uint8)
    if color:
        bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
        return np.asarray(bgr, dtype=np.uint8)
    return gray


def empty_frame(size: tuple[int, int] = (640, 480), seed: int = 0, color: bool = False) -> Frame:
    """A frame with no code: textured background plus sensor noise (decoders' worst case)."""
    blank = np.full((8, 8), 255, np.uint8)
    return synth_frame(
        blank, replace(Conditions("empty"), code_fraction=0.01, noise_sigma=6.0), size, seed, color
    )
