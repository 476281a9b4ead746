"""Synthetic passport and ID-card data pages, as a lobby camera sees them, for MRZ tests.

`random_mrz(kind, rng)` makes a valid ICAO 9303 MRZ (TD3, TD2 or TD1) with seeded random
names, numbers and dates, every check digit computed. `render_data_page(mrz, rng)` draws it
in OCR-B (Debian's `fonts-ocr-b`) at the bottom of a page with a photo box and printed
fields, then puts the page under a camera: rotation up to 10°, perspective, blur, uneven
light, sensor noise and JPEG compression. Everything is seeded, so a failing frame can be
replayed. Used by tests/devices/test_mrz_ocr.py and benchmarks/bench_mrz.py; nothing of it
runs in the kiosk.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kiosk.devices.identity import mrz_check_digit
from kiosk.devices.protocols import Frame

OCR_B_FONT = Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf")
MRZ_KINDS = ("TD3", "TD2", "TD1")

#: (lines, characters a line) of each format, ICAO 9303 parts 4, 6 and 5.
MRZ_SHAPES = {"TD3": (2, 44), "TD2": (2, 36), "TD1": (3, 30)}

_SURNAMES = (
    "ERIKSSON",
    "MUSTERMANN",
    "ZHANG",
    "OKONKWO",
    "GARCIA",
    "DUBOIS",
    "ROSSI",
    "NGUYEN",
    "OBRIEN",
    "KOWALSKI",
    "SILVA",
    "TANAKA",
    "HAMALAINEN",
    "VAN DER BERG",
)
_GIVEN = (
    "ANNA",
    "MARIA",
    "WEI",
    "CHIDI",
    "LUIS",
    "CLAIRE",
    "MARCO",
    "LINH",
    "SEAN",
    "PIOTR",
    "JOAO",
    "YUKI",
    "AINO",
    "PIETER",
    "ANNA MARIA",
    "JEAN LUC",
)
_STATES = ("UTO", "D<<", "GBR", "FRA", "CHN", "USA", "NLD", "SWE", "ITA", "JPN", "BRA")
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"


@dataclass(frozen=True)
class SyntheticMrz:
    kind: str  # "TD3", "TD2" or "TD1"
    lines: tuple[str, ...]
    number: str  # the document number as printed, for the test's comparison

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _field(text: str, width: int) -> str:
    return text.replace(" ", "<")[:width].ljust(width, "<")


def _name_field(family: str, given: str, width: int) -> str:
    return _field(f"{family}<<{given}", width)


def _yymmdd(day: date) -> str:
    return day.strftime("%y%m%d")


def random_mrz(kind: str, rng: random.Random) -> SyntheticMrz:
    """A valid MRZ of `kind` with random contents; every check digit is right."""
    family, given = rng.choice(_SURNAMES), rng.choice(_GIVEN)
    state, nationality = rng.choice(_STATES), rng.choice(_STATES)
    number = "".join(rng.choice(_LETTERS + _DIGITS) for _ in range(rng.choice((8, 9))))
    birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 65))
    expiry = date(2026, 1, 1) + timedelta(days=rng.randrange(0, 365 * 10))
    sex = rng.choice("MF<")
    born, expires = _yymmdd(birth), _yymmdd(expiry)
    cd = lambda text: str(mrz_check_digit(text))  # noqa: E731
    num = _field(number, 9)
    if kind == "TD3":
        personal = _field("".join(rng.choice(_DIGITS) for _ in range(rng.choice((0, 8)))), 14)
        personal_cd = cd(personal) if personal.strip("<") else "<"
        one = "P<" + state + _name_field(family, given, 39)
        two = num + cd(num) + nationality + born + cd(born) + sex + expires + cd(expires)
        two += personal + personal_cd
        two += cd(two[0:10] + two[13:20] + two[21:43])
        lines: tuple[str, ...] = (one, two)
    elif kind == "TD2":
        one = rng.choice(("I<", "V<", "AC")) + state + _name_field(family, given, 31)
        two = num + cd(num) + nationality + born + cd(born) + sex + expires + cd(expires)
        two += "<" * 7
        two += cd(two[0:10] + two[13:20] + two[21:35])
        lines = (one, two)
    else:
        optional = _field("".join(rng.choice(_DIGITS) for _ in range(rng.choice((0, 6)))), 15)
        one = rng.choice(("I<", "ID", "AC")) + state + num + cd(num) + optional
        two = born + cd(born) + sex + expires + cd(expires) + nationality + "<" * 11
        two += cd(one[5:30] + two[0:7] + two[8:15] + two[18:29])
        three = _name_field(family, given, 30)
        lines = (one, two, three)
    shape = MRZ_SHAPES[kind]
    assert len(lines) == shape[0] and all(len(line) == shape[1] for line in lines)
    return SyntheticMrz(kind, lines, number)


def _draw_page(mrz: SyntheticMrz, rng: random.Random) -> Image.Image:
    """The data page, flat and clean: a tinted background, a photo box, fields, the MRZ."""
    count, width = MRZ_SHAPES[mrz.kind]
    char_px = 22  # OCR-B at the MRZ's pitch: 2.54 mm a character, ~8.7 px/mm
    font = ImageFont.truetype(str(OCR_B_FONT), int(char_px * 1.62))
    advance = font.getlength("M")
    page_w = int(advance * width + 2 * 60)
    page_h = int(page_w * (0.70 if mrz.kind == "TD3" else 0.63))
    tint = (rng.randint(215, 245), rng.randint(215, 245), rng.randint(215, 245))
    page = Image.new("RGB", (page_w, page_h), tint)
    draw = ImageDraw.Draw(page)
    # Guilloche-like background lines, which a real page has and the locator must ignore.
    for _ in range(14):
        y = rng.randint(0, page_h)
        shade = rng.randint(15, 35)
        colour = (tint[0] - shade, tint[1] - shade, tint[2] - shade)
        draw.line([(0, y), (page_w, y + rng.randint(-80, 80))], fill=colour, width=2)
    draw.rectangle([60, 60, 60 + page_w // 4, 60 + page_h // 2], fill=(150, 140, 135))
    label = ImageFont.truetype(str(OCR_B_FONT), 20)
    value = ImageFont.truetype(str(OCR_B_FONT), 28)
    x = 100 + page_w // 4
    for row, (name, text) in enumerate(
        (
            ("Surname", mrz.lines[-1][:12].replace("<", " ")),
            ("Given names", "..."),
            ("Nationality", "UTOPIA"),
            ("Date of birth", "01 JAN 1980"),
            ("Document no", mrz.number),
        )
    ):
        y = 60 + row * 62
        draw.text((x, y), name, font=label, fill=(90, 90, 110))
        draw.text((x, y + 22), text, font=value, fill=(20, 20, 30))
    line_h = int(char_px * 2.0)
    top = page_h - 40 - count * line_h
    for index, line in enumerate(mrz.lines):
        draw.text((60, top + index * line_h), line, font=font, fill=(15, 15, 20))
    return page


def render_data_page(mrz: SyntheticMrz, rng: random.Random, frame_size: int = 1280) -> Frame:
    """A BGR camera frame of the data page: rotated, in perspective, blurred, unevenly lit,
    noisy and JPEG-compressed, on a dark desk."""
    page = np.asarray(_draw_page(mrz, rng))[:, :, ::-1].copy()
    page_h, page_w = page.shape[:2]
    frame_w, frame_h = frame_size, frame_size * 3 // 4
    scale = frame_w * rng.uniform(0.70, 0.86) / page_w
    angle = np.deg2rad(rng.uniform(-10.0, 10.0))
    corners = np.array([[0, 0], [page_w, 0], [page_w, page_h], [0, page_h]], np.float32)
    centre = np.array(
        [frame_w / 2 + rng.uniform(-30, 30), frame_h / 2 + rng.uniform(-20, 20)], np.float32
    )
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32
    )
    placed = (corners - [page_w / 2, page_h / 2]) * scale @ rotation.T + centre
    pull = 0.06 * page_w * scale  # perspective: corners pulled up to 6 % of the width
    placed += np.array(
        [[rng.uniform(-pull, pull), rng.uniform(-pull, pull)] for _ in range(4)], np.float32
    )
    warp = cv2.getPerspectiveTransform(corners, placed.astype(np.float32))
    desk = np.full((frame_h, frame_w, 3), rng.randint(40, 90), np.uint8)
    frame = cv2.warpPerspective(
        page,
        warp,
        (frame_w, frame_h),
        dst=desk,
        borderMode=cv2.BORDER_TRANSPARENT,
        flags=cv2.INTER_AREA,
    )
    # Uneven light: a gradient across the frame and a soft bright spot.
    ys, xs = np.mgrid[0:frame_h, 0:frame_w].astype(np.float32)
    direction = rng.uniform(0, 2 * np.pi)
    gradient = (xs * np.cos(direction) + ys * np.sin(direction)) / frame_w
    light = 1.0 - rng.uniform(0.15, 0.40) * (gradient - gradient.min())
    spot_x, spot_y = rng.uniform(0, frame_w), rng.uniform(0, frame_h)
    light += rng.uniform(0.0, 0.25) * np.exp(
        -((xs - spot_x) ** 2 + (ys - spot_y) ** 2) / (2 * (frame_w / 5) ** 2)
    )
    lit = frame.astype(np.float32) * light[:, :, None]
    lit = cv2.GaussianBlur(lit, (0, 0), rng.uniform(0.6, 1.6))
    np_rng = np.random.default_rng(rng.randrange(2**32))
    lit += np_rng.normal(0.0, rng.uniform(2.0, 7.0), lit.shape).astype(np.float32)
    noisy = np.clip(lit, 0, 255).astype(np.uint8)
    quality = rng.randint(55, 85)
    ok, jpeg = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return np.asarray(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), dtype=np.uint8)


def sample_frames(count: int, seed: int = 9303) -> list[tuple[SyntheticMrz, Frame]]:
    """`count` (MRZ, frame) pairs, the three kinds in turn, all from one seed."""
    rng = random.Random(seed)
    out = []
    for index in range(count):
        mrz = random_mrz(MRZ_KINDS[index % len(MRZ_KINDS)], rng)
        out.append((mrz, render_data_page(mrz, rng)))
    return out
