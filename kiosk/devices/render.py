"""Badges, the evacuation roll call and a test page, drawn with Pillow at the printer's width.

Every output is a 1-bit image exactly `width` dots wide (the python-escpos profile's
`media.width.pixels`: 384 on 58 mm paper, 512 or 576 on 80 mm), which `escpos_codec` sends
as raster graphics; the same image saved as PNG is the on-screen preview. Text is drawn
anti-aliased on a grey canvas and thresholded (crisp on thermal paper); only the visitor's
photo is dithered (Floyd-Steinberg).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

import numpy as np
import segno
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from kiosk.devices.badge_words import BadgeLabels, badge_date, badge_labels
from kiosk.devices.errors import RenderError
from kiosk.devices.escpos_codec import strip_controls
from kiosk.devices.fonts import FontBook
from kiosk.domain.clock import local_time
from kiosk.domain.text import MISSING, shown, stored_text
from kiosk.domain.values import BadgeContent, OnSiteEntry

log = logging.getLogger(__name__)


FITTED_MAX_CHARS = 120


def ellipsize(text: str, font: object, max_width: float) -> str:
    get_length = font.getlength  # type: ignore[attr-defined]
    if get_length(text) <= max_width:
        return text
    # Cut a long text to about what fits before trimming one character at a time.
    size = getattr(font, "size", 0) or 1
    text = text[: max(1, int(3 * max_width / size)) + 1]
    while text and get_length(text + "…") > max_width:
        text = text[:-1]
    return text.rstrip() + "…"


def _wrap_two(text: str) -> list[tuple[str, str]]:
    """Ways to split `text` over two lines: at spaces, or anywhere between CJK characters."""
    splits = []
    words = text.split()
    for i in range(1, len(words)):
        splits.append((" ".join(words[:i]), " ".join(words[i:])))
    if len(words) <= 1 and len(text) > 1 and not text.isascii():
        for i in range(1, len(text)):
            splits.append((text[:i], text[i:]))
    return splits


class Canvas:
    """A growing grey canvas: blocks are appended top to bottom, then cropped and binarised."""

    def __init__(
        self, width: int, fonts: FontBook, max_height: int = 3000, *, coarse: bool = False
    ) -> None:
        self.width = width
        self.fonts = fonts
        self.margin = max(8, width // 36)
        self.image = Image.new("L", (width, max_height), 255)
        self.draw = ImageDraw.Draw(self.image)
        self.y = self.margin
        self.coarse_enabled = coarse
        self.coarse: list[tuple[int, int, int, int]] = []
        self.bands: list[tuple[int, int]] = []  # rows of each band, for a second ink colour

    def coarsen(self, left: int, top: int, right: int, bottom: int) -> None:
        """Draw this box at half density (2 x 2 dots a pixel), when the canvas allows it.

        For large text only (the name, the bands, the expiry time): at 203 dpi a 2-dot
        step is 0.25 mm, invisible at a badge's reading distance, and the encoder sends
        such rows as a quarter of the bytes (GS v 0 quadruple mode). The box is widened
        to even rows and columns; the canvas moves on below it.
        """
        if not self.coarse_enabled:
            return
        box = (left - left % 2, top - top % 2, right + right % 2, bottom + bottom % 2)
        self.coarse.append(box)
        if bottom >= self.y:
            self.y = box[3]

    def coarse_rows(self) -> tuple[tuple[int, int], ...]:
        """Row spans drawn wholly at half density, across the full width."""
        return tuple(
            (t, b) for left, t, right, b in self.coarse if left == 0 and right >= self.width
        )

    @property
    def inner(self) -> int:
        return self.width - 2 * self.margin

    def space(self, dots: int) -> None:
        self.y += dots

    def text(
        self,
        text: str,
        size: int,
        *,
        bold: bool = False,
        align: str = "left",
        fill: int = 0,
        x: int | None = None,
        max_width: int | None = None,
    ) -> int:
        """Draw one line (ellipsised to fit); returns its height. Control characters are
        dropped: they have no glyphs and break text shaping."""
        text = strip_controls(text)
        font = self.fonts.font(text, size, bold)
        limit = max_width if max_width is not None else self.inner
        line = ellipsize(text, font, limit)
        length = font.getlength(line)
        left: float = self.margin if x is None else x
        if align == "center":
            left = left + (limit - length) / 2
        elif align == "right":
            left = left + limit - length
        ascent, descent = font.getmetrics()
        self.draw.text((left, self.y), line, font=font, fill=fill)
        self.y += ascent + descent
        return ascent + descent

    def fitted(self, text: str, max_size: int, min_size: int, *, bold: bool = True) -> None:
        """`text` as large as fits: one line, else two lines, else ellipsised at `min_size`."""
        # No badge line holds more than a few dozen characters: cut a runaway name first,
        # or fitting it (a size search per way to split it) takes seconds.
        text = " ".join(strip_controls(text).split())[:FITTED_MAX_CHARS]
        best_one = self._largest([text], max_size, min_size, bold)
        if best_one >= max_size * 0.6 or not _wrap_two(text):
            size = best_one or min_size
            self.text(text, size, bold=bold, align="center")
            return
        best_two, lines = best_one, [text]
        for first, second in _wrap_two(text):
            size = self._largest([first, second], max_size, min_size, bold)
            if size > best_two:
                best_two, lines = size, [first, second]
        for line in lines:
            self.text(line, best_two or min_size, bold=bold, align="center")

    def _largest(self, lines: list[str], max_size: int, min_size: int, bold: bool) -> int:
        """The largest size in [min_size, max_size] at which every line fits; 0 if none."""
        low, high, best = min_size, max_size, 0
        while low <= high:
            middle = (low + high) // 2
            if all(self.fonts.font(t, middle, bold).getlength(t) <= self.inner for t in lines):
                best, low = middle, middle + 1
            else:
                high = middle - 1
        return best

    def band(self, text: str, size: int, *, inverse: bool) -> None:
        """A full-width band: white on black when `inverse`, else black on white between rules."""
        text = strip_controls(text)
        font = self.fonts.font(text, size, True)
        ascent, descent = font.getmetrics()
        height = ascent + descent + size // 2
        top = self.y
        if inverse:
            self.draw.rectangle((0, top, self.width - 1, top + height), fill=0)
        else:
            rule = max(3, size // 10)
            self.draw.rectangle((0, top, self.width - 1, top + rule), fill=0)
            self.draw.rectangle((0, top + height - rule, self.width - 1, top + height), fill=0)
        self.y = top + size // 4
        self.text(text, size, bold=True, align="center", fill=255 if inverse else 0)
        self.y = top + height + 1
        self.bands.append((top, self.y))

    def rule(self, thickness: int = 2) -> None:
        self.draw.rectangle(  # an even number of dots wide, from an even column
            (self.margin, self.y, self.width - self.margin - 1, self.y + thickness - 1), fill=0
        )
        self.y += thickness

    def paste(self, picture: Image.Image, x: int) -> None:
        self.image.paste(picture.convert("L"), (x, self.y))

    def finish(self) -> Image.Image:
        """Crop to what was drawn and threshold to 1 bit (no dithering: text stays crisp)."""
        height = min(self.image.height, self.y + self.margin)
        for left, top, right, bottom in self.coarse:
            right = min(right, self.width - self.width % 2)
            box = (left, top, right, bottom)
            half = self.image.crop(box).resize(
                ((right - left) // 2, (bottom - top) // 2), Image.Resampling.BOX
            )
            self.image.paste(
                half.resize((right - left, bottom - top), Image.Resampling.NEAREST), box
            )
        cropped = self.image.crop((0, 0, self.width, height))
        return cropped.point(lambda v: 255 if v >= 128 else 0).convert(
            "1", dither=Image.Dither.NONE
        )


def qr_image(token: str, max_width: int, max_scale: int = 4) -> Image.Image:
    """The token as a QR code (level M), the largest whole number of dots per module that fits.

    Four dots a module (0.5 mm at 203 dpi) read reliably at arm's length; more only costs
    paper and transfer time.
    """
    qr = segno.make(token, error="m", micro=False, boost_error=False)
    modules = qr.symbol_size(scale=1, border=4)[0]
    scale = max(2, min(max_scale, max_width // modules))
    border = 4 if modules * scale <= max_width else 2
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=scale, border=border)
    buffer.seek(0)
    return Image.open(buffer).convert("L")


def dither_photo(jpeg: bytes, size: tuple[int, int]) -> Image.Image:
    """A photo cropped to `size`, contrast-stretched and Floyd-Steinberg dithered, as L 0/255."""
    try:
        photo: Image.Image = ImageOps.exif_transpose(Image.open(io.BytesIO(jpeg))).convert("L")
    except (UnidentifiedImageError, OSError) as err:
        raise RenderError(f"visitor photo is not a readable image: {err}") from err
    photo = ImageOps.fit(photo, size, method=Image.Resampling.LANCZOS)
    photo = ImageOps.autocontrast(photo, cutoff=1)
    return photo.convert("1", dither=Image.Dither.FLOYDSTEINBERG).convert("L")


def photo_size(dpi: int) -> tuple[int, int]:
    """The photo's size in dots: 18 x 24 mm (a passport-like head and shoulders) at `dpi`.

    Enough for a guard to match a face at arm's length; larger only costs bytes (18 x 24 mm
    at 203 dpi is 144 x 192 dots, 3.5 KB of raster). The photo is dithered at this size,
    one pixel per printer dot, never scaled again after dithering.
    """
    return round(18 * dpi / 25.4), round(24 * dpi / 25.4)


@dataclass(frozen=True)
class QrPlacement:
    """Where the printer draws the QR itself (ESC/POS `GS ( k`): rows `top`..`top+size`."""

    token: str
    top: int
    left: int
    size: int
    module: int
    error: str = "m"  # QR error-correction level, l m q h


@dataclass(frozen=True)
class BadgeDrawing:
    """The badge picture (exactly what the paper shows) and, when the printer draws the
    QR natively, where it goes: those rows hold the symbol only, so an encoder can send
    the command instead of the pixels."""

    image: Image.Image
    qr: QrPlacement | None = None
    #: Row spans drawn at half density across the whole width (Canvas.coarsen).
    coarse_rows: tuple[tuple[int, int], ...] = ()
    #: The last line (visit reference and time: the kiosk's own ASCII), for a printer that
    #: has fonts to print in its own font from row `footer_top` on; empty: raster.
    footer: str = ""
    footer_top: int = 0
    #: Row spans of the bands (visitor type, ESCORT REQUIRED): red on two-colour labels.
    bands: tuple[tuple[int, int], ...] = ()


def native_qr_image(token: str, module: int, error: str = "m") -> Image.Image:
    """The symbol as a printer draws it for `GS ( k` model 2 at level `error`: no quiet
    zone (the layout leaves white around it), `module` dots a module."""
    # The printer chooses its own mask: any fixed one shows the same size and layout, and
    # spares segno its mask search (40 ms of a 60 ms badge on a Pi-class core).
    qr = segno.make(token, error=error, micro=False, boost_error=False, mask=0)
    dark = np.kron(np.array(qr.matrix, dtype=np.uint8), np.ones((module, module), np.uint8))
    return Image.fromarray(np.where(dark == 1, 0, 255).astype(np.uint8), "L")


def _even(x: int) -> int:
    """An even dot column: a raster QR's 4-dot modules then fall on dot pairs, which the
    encoder can send at half width (GS v 0 double-width mode)."""
    return x - x % 2


def _time(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def _roll_call_text(value: object) -> str:
    """A field of a roll-call row as it goes on paper: controls and invisible format
    characters dropped, lone surrogates replaced, runs of spaces made one; MISSING when
    nothing is left. The roll call prints every row, whatever the database holds."""
    text = strip_controls(stored_text(value))
    return " ".join(shown(text).split()) or MISSING


def _roll_call_time(moment: object, zone: tzinfo | None) -> str:
    """The time in, in the site's zone; a naive time is taken as UTC, as the kiosk stores
    times; MISSING when there is none or it cannot be shown."""
    return local_time(moment, zone, "%H:%M") or MISSING


def render_badge(
    content: BadgeContent, width: int, fonts: FontBook, labels: BadgeLabels | None = None
) -> Image.Image:
    """The badge as a 1-bit image `width` dots wide, QR included as pixels."""
    return draw_badge(content, width, fonts, labels).image


def draw_badge(
    content: BadgeContent,
    width: int,
    fonts: FontBook,
    labels: BadgeLabels | None = None,
    *,
    dpi: int = 203,
    native_qr_module: int | None = None,
    qr_error: str = "m",
    half_density_large_text: bool = False,
) -> BadgeDrawing:
    """The badge as a 1-bit image `width` dots wide at `dpi`.

    Top to bottom: site, visitor-type band, name (auto-fitted, large), company, host,
    date and the expiry time (large), ESCORT REQUIRED band when set, photo and QR side
    by side (QR alone and centred without a photo), visit reference. With
    `native_qr_module` the printer draws the QR (`GS ( k`, that many dots a module): it
    cannot share its rows with raster, so the photo goes above it and the QR is centred.
    With `half_density_large_text` the name, the bands and the expiry time are drawn at
    half density (`Canvas.coarsen`).
    """
    labels = labels or badge_labels(content.language)
    canvas = Canvas(width, fonts, coarse=half_density_large_text and width % 16 == 0)
    unit = width / 576  # sizes are designed at 80 mm / 576 dots and scaled
    _draw_who(canvas, content, labels, unit)
    _draw_until(canvas, content, labels, unit)
    placement = _draw_photo_and_code(canvas, content, unit, dpi, native_qr_module, qr_error)
    footer = f"{content.visit_ref}  {content.issued_at:%Y-%m-%d %H:%M}"
    footer_top = canvas.y
    canvas.text(footer, int(20 * unit), align="center")
    return BadgeDrawing(
        canvas.finish(),
        placement,
        canvas.coarse_rows(),
        footer=footer if native_qr_module else "",
        footer_top=footer_top,
        bands=tuple(canvas.bands),
    )


def _draw_who(canvas: Canvas, content: BadgeContent, labels: BadgeLabels, unit: float) -> None:
    """Site, visitor-type band, the name (large), company and host."""
    if content.site_name:
        canvas.text(content.site_name, int(26 * unit), align="center")
        canvas.space(int(6 * unit))
    top = canvas.y
    canvas.band(
        content.visitor_type_label or labels.visitor, int(40 * unit), inverse=content.inverse_band
    )
    canvas.coarsen(0, top, canvas.width, canvas.y)
    canvas.space(int(12 * unit))
    top = canvas.y
    canvas.fitted(content.visitor_name, max_size=int(92 * unit), min_size=int(30 * unit))
    canvas.coarsen(0, top, canvas.width, canvas.y)
    canvas.space(int(4 * unit))
    if content.company:
        canvas.text(content.company, int(34 * unit), align="center")
    canvas.text(f"{labels.host}{labels.colon}{content.host_name}", int(30 * unit), align="center")


def _draw_until(canvas: Canvas, content: BadgeContent, labels: BadgeLabels, unit: float) -> None:
    """A rule, the date and the expiry time (large), ESCORT REQUIRED when set."""
    canvas.space(int(10 * unit))
    # An even thickness on an even row: the encoder sends the rule at a quarter of its bytes.
    canvas.y += canvas.y % 2
    canvas.rule(max(2, 2 * round(2 * unit)))
    canvas.space(int(6 * unit))
    row_top = canvas.y
    canvas.text(
        badge_date(content.expires_at, content.language),
        int(28 * unit),
        max_width=canvas.inner // 2,
    )
    canvas.text(labels.valid_until, int(24 * unit), bold=True, max_width=canvas.inner // 2)
    left_bottom = canvas.y
    canvas.y = row_top
    canvas.text(
        _time(content.expires_at),
        int(96 * unit),
        bold=True,
        align="right",
        x=canvas.margin + canvas.inner // 2,
        max_width=canvas.inner - canvas.inner // 2,
    )
    canvas.coarsen(canvas.margin + canvas.inner // 2, row_top, canvas.width, canvas.y)
    if canvas.y > left_bottom + 2:  # below the date only the time: whole rows at half density
        canvas.coarsen(0, left_bottom + left_bottom % 2, canvas.width, canvas.y)
    canvas.y = max(canvas.y, left_bottom)
    canvas.space(int(8 * unit))
    if content.escort_required:
        top = canvas.y
        canvas.band(labels.escort_required, int(40 * unit), inverse=True)
        canvas.coarsen(0, top, canvas.width, canvas.y)
        canvas.space(int(10 * unit))


def _draw_photo_and_code(
    canvas: Canvas,
    content: BadgeContent,
    unit: float,
    dpi: int,
    native_qr_module: int | None,
    qr_error: str,
) -> QrPlacement | None:
    """The photo and the QR: stacked when the printer draws the QR or the paper is narrow,
    side by side otherwise. Returns where a native QR goes."""
    half = canvas.inner // 2 - canvas.margin // 2
    qr_scale = max(4, round(dpi / 50))  # 0.5 mm modules: 4 dots at 203 dpi, 6 at 300
    photo = None
    if content.photo_jpeg:
        wide, high = photo_size(dpi)
        try:
            photo = dither_photo(content.photo_jpeg, (min(half, wide), high))
        except RenderError:
            # A damaged photo must not cost the visitor a badge: print it without one.
            log.warning("badge %s: photo unreadable, printed without it", content.visit_ref)
    placement = None
    if native_qr_module:
        if photo is not None:
            canvas.paste(photo, (canvas.width - photo.width) // 2)
            canvas.y += photo.height + canvas.margin
        code = native_qr_image(content.token, native_qr_module, qr_error)
        left = (canvas.width - code.width) // 2
        placement = QrPlacement(
            content.token, canvas.y, left, code.width, native_qr_module, qr_error
        )
        canvas.paste(code, left)
        canvas.y += code.height + canvas.margin
    elif photo is not None and canvas.width >= 512:
        code = qr_image(content.token, half, max_scale=qr_scale)
        canvas.paste(photo, canvas.margin + (half - photo.width) // 2)
        canvas.paste(code, _even(canvas.width - canvas.margin - code.width))
        canvas.y += max(photo.height, code.height)
    else:
        # On narrow paper the photo goes above the QR: side by side both would be too small.
        if photo is not None:
            canvas.paste(photo, (canvas.width - photo.width) // 2)
            canvas.y += photo.height + canvas.margin // 2
        code = qr_image(content.token, min(canvas.inner, int(300 * unit)), max_scale=qr_scale)
        canvas.paste(code, _even((canvas.width - code.width) // 2))
        canvas.y += code.height
    return placement


def render_roll_call(
    entries: Sequence[OnSiteEntry],
    site_name: str,
    now: datetime,
    width: int,
    fonts: FontBook,
    labels: BadgeLabels | None = None,
) -> Image.Image:
    """Everyone on site, by name, for a fire warden's roll call: name, company, host, time in.

    Times are shown in `now`'s time zone (the site's), whatever zone the entries carry. A
    field a row lacks (no arrival time, no host, an empty name) is printed as MISSING: in an
    evacuation one odd row must not stop the list.
    """
    labels = labels or BadgeLabels()
    canvas = Canvas(width, fonts, max_height=200 + 110 * max(1, len(entries)))
    unit = width / 576
    canvas.band(labels.roll_call, int(38 * unit), inverse=True)
    canvas.text(site_name, int(30 * unit), bold=True, align="center")
    canvas.text(
        f"{now:%Y-%m-%d %H:%M}  ·  {len(entries)} {labels.on_site}", int(26 * unit), align="center"
    )
    canvas.space(int(8 * unit))
    canvas.rule(max(2, int(3 * unit)))
    box = max(14, int(24 * unit))
    rows = sorted(
        (
            (
                _roll_call_text(entry.visitor_name),
                _roll_call_text(entry.company),
                _roll_call_text(entry.host_name),
                _roll_call_time(entry.arrived_at, now.tzinfo),
            )
            for entry in entries
        ),
        key=lambda row: row[0].casefold(),
    )
    for name, company, host, arrived in rows:
        canvas.space(int(8 * unit))
        top = canvas.y
        canvas.draw.rectangle(
            (canvas.margin, top + 4, canvas.margin + box, top + 4 + box), outline=0, width=2
        )
        indent = canvas.margin + box + int(12 * unit)
        canvas.text(
            name,
            int(32 * unit),
            bold=True,
            x=indent,
            max_width=canvas.width - indent - canvas.margin,
        )
        detail_width = canvas.width - indent - canvas.margin
        detail_size = int(24 * unit)
        font = canvas.fonts.font(f"{company}{host}{labels.arrived}", detail_size)
        # A runaway company or host name is cut short so that the time in is always seen.
        time_in, separator = f"{labels.arrived} {arrived}", " · "
        room = detail_width - font.getlength(time_in) - 2 * font.getlength(separator) - 1
        company = ellipsize(company, font, room * 0.55)
        host = ellipsize(host, font, room - font.getlength(company))
        detail = separator.join((company, host, time_in))
        canvas.text(detail, detail_size, x=indent, max_width=detail_width)
        canvas.space(int(4 * unit))
        canvas.rule(1)
    return canvas.finish()


def render_test_page(width: int, fonts: FontBook, printer_name: str = "") -> Image.Image:
    """Edges, a grey ramp (dithered), text in three scripts and a QR: checks width and darkness."""
    canvas = Canvas(width, fonts)
    canvas.band("TEST PAGE", int(40 * width / 576), inverse=True)
    canvas.text(f"{printer_name}  {width} dots", int(26 * width / 576), align="center")
    canvas.space(8)
    top = canvas.y
    canvas.draw.rectangle((0, top, width - 1, top + 40), outline=0, width=2)  # both paper edges
    for x in range(0, width, 8):
        canvas.draw.line((x, top, x, top + (20 if x % 64 == 0 else 10)), fill=0)
    canvas.y = top + 48
    ramp = (
        Image.linear_gradient("L").rotate(90, expand=True).resize((width - 2 * canvas.margin, 48))
    )
    canvas.paste(ramp.convert("1"), canvas.margin)  # dithered grey ramp
    canvas.y += 56
    for line in (
        "ABCDEFGHIJ abcdefghij 0123456789",
        "访客登记 来访者 张伟 王芳",
        "Ελληνικά Кириллица Zoë",
    ):
        canvas.text(line, int(28 * width / 576), align="center")
    canvas.space(8)
    code = qr_image("KIOSK TEST PAGE", width // 2)
    canvas.paste(code, (width - code.width) // 2)
    canvas.y += code.height
    return canvas.finish()


def save_png(image: Image.Image, path: str | Path) -> None:
    """The preview: exactly what the paper shows, one pixel per dot."""
    image.save(Path(path), format="PNG", optimize=True)
