"""A case's receipt slip (issue 19), drawn as pixels with the badge's Canvas, QR and fonts,
and encoded as the printer's own raster job (ESC/POS or Brother QL).

The slip shows the site's name, the case number, its kind, the promised response time in
the site's local time, the QR (the office's `/c/<token>` page, or the bare token) and how
to use it. Nothing the reporter typed is printed: what reaches the printer is a picture,
never text a command could hide in.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from kiosk.devices.escpos_codec import image_job
from kiosk.devices.fonts import FontBook
from kiosk.devices.protocols import Printer
from kiosk.devices.render import Canvas, qr_image

#: The slip's words in the kiosk's three languages (the UI's language codes).
SLIP_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "case": "Case {number}", "respond": "We will respond by {time}",
        "scan": "Scan this code at the kiosk to see your case",
        "complaint": "Complaint", "repair": "Repair request", "suggestion": "Suggestion",
        "inquiry": "Inquiry",
    },
    "zh_CN": {
        "case": "个案 {number}", "respond": "我们将于 {time} 前回复",
        "scan": "在自助机扫描此码即可查看个案进度",
        "complaint": "投诉", "repair": "报修", "suggestion": "建议", "inquiry": "咨询",
    },
    "zh_TW": {
        "case": "個案 {number}", "respond": "我們將於 {time} 前回覆",
        "scan": "在自助機掃描此碼即可查看個案進度",
        "complaint": "投訴", "repair": "報修", "suggestion": "建議", "inquiry": "諮詢",
    },
}  # fmt: skip


@dataclass(frozen=True)
class CaseSlip:
    site_name: str
    number: str
    kind: str
    #: The response time as the site's clock shows it ("14:30", or "12-08 09:00").
    respond_by: str
    qr_text: str
    language: str = "en"


def slip_words(language: str) -> dict[str, str]:
    return SLIP_WORDS.get(language, SLIP_WORDS["en"])


def render_case_slip(slip: CaseSlip, width: int, fonts: FontBook) -> Image.Image:
    """The slip as a 1-bit picture exactly `width` dots wide."""
    words = slip_words(slip.language)
    unit = width / 576
    canvas = Canvas(width, fonts)
    canvas.text(slip.site_name, int(28 * unit), bold=True, align="center")
    canvas.space(int(8 * unit))
    canvas.band(words["case"].format(number=slip.number), int(40 * unit), inverse=True)
    canvas.space(int(8 * unit))
    canvas.text(words.get(slip.kind, slip.kind), int(34 * unit), bold=True, align="center")
    canvas.text(words["respond"].format(time=slip.respond_by), int(30 * unit), align="center")
    canvas.space(int(12 * unit))
    code = qr_image(slip.qr_text, int(width * 0.7))
    canvas.paste(code, (width - code.width) // 2)
    canvas.y += code.height
    canvas.space(int(6 * unit))
    canvas.text(words["scan"], int(24 * unit), align="center")
    canvas.space(int(8 * unit))
    canvas.rule(2)
    return canvas.finish()


def case_slip_job(slip: CaseSlip, printer: Printer, fonts: FontBook, profile: str) -> bytes:
    """The slip as `printer`'s own job: QL raster for a Brother QL, else ESC/POS raster."""
    from kiosk.devices.ql_printer import BrotherQLPrinter

    image = render_case_slip(slip, printer.dot_width, fonts)
    if isinstance(printer, BrotherQLPrinter):
        return printer.image_job(image)
    return image_job(image, profile)
