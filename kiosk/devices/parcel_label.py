"""The parcel label (issue 20), drawn as pixels with the badge's Canvas, fonts and QR: the
pickup code large, the recipient, the shelf, the kind and carrier, the date, and the QR of
the signed pickup token. Everything the courier typed is drawn as pixels, never sent to the
printer as text, so no typed byte can be a printer command.

`parcel_label_job` encodes it for the configured printer: ESC/POS raster on a receipt
printer, Brother QL raster on a label printer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PIL import Image

from kiosk.devices.config import PrinterConfig
from kiosk.devices.escpos_codec import dot_width, image_job
from kiosk.devices.fonts import FontBook
from kiosk.devices.render import Canvas, qr_image

#: The label's words by language (the site's default language, or the recipient's).
WORDS: dict[str, dict[str, str]] = {
    "en": {"code": "PICKUP CODE", "for": "For", "shelf": "Shelf", "items": "items",
           "left": "Recipient has left: see the desk"},
    "zh_Hans": {"code": "取件码", "for": "收件人", "shelf": "货架", "items": "件",
                "left": "收件人已离职：请联系前台"},
    "zh_Hant": {"code": "取件碼", "for": "收件人", "shelf": "貨架", "items": "件",
                "left": "收件人已離職：請聯絡前台"},
}  # fmt: skip
KIND_WORDS: dict[str, dict[str, str]] = {
    "en": {"parcel": "Parcel", "documents": "Documents", "food": "Food", "flowers": "Flowers",
           "other": "Other"},
    "zh_Hans": {"parcel": "包裹", "documents": "文件", "food": "外卖", "flowers": "鲜花",
                "other": "其他"},
    "zh_Hant": {"parcel": "包裹", "documents": "文件", "food": "外賣", "flowers": "鮮花",
                "other": "其他"},
}  # fmt: skip
CARRIER_NAMES: dict[str, dict[str, str]] = {
    "en": {"sf": "SF Express", "jd": "JD Logistics", "ems": "EMS", "zto": "ZTO", "yto": "YTO",
           "sto": "STO", "yunda": "Yunda", "meituan": "Meituan", "eleme": "Ele.me",
           "dhl": "DHL", "ups": "UPS", "fedex": "FedEx", "other": "Other"},
    "zh_Hans": {"sf": "顺丰", "jd": "京东", "ems": "EMS", "zto": "中通", "yto": "圆通",
                "sto": "申通", "yunda": "韵达", "meituan": "美团", "eleme": "饿了么",
                "dhl": "DHL", "ups": "UPS", "fedex": "联邦快递", "other": "其他"},
    "zh_Hant": {"sf": "順豐", "jd": "京東", "ems": "EMS", "zto": "中通", "yto": "圓通",
                "sto": "申通", "yunda": "韻達", "meituan": "美團", "eleme": "餓了麼",
                "dhl": "DHL", "ups": "UPS", "fedex": "聯邦快遞", "other": "其他"},
}  # fmt: skip


def carrier_name(key: str, language: str) -> str:
    return CARRIER_NAMES.get(language, CARRIER_NAMES["en"]).get(key, key)


def kind_name(key: str, language: str) -> str:
    return KIND_WORDS.get(language, KIND_WORDS["en"]).get(key, key)


@dataclass(frozen=True)
class ParcelLabel:
    """What the label shows, in plain values (the engine's ParcelView, as printed)."""

    pickup_code: str
    recipient: str
    shelf: str
    kind: str
    carrier: str
    items: int
    logged_at: datetime  # local time
    token: str
    recipient_left: bool = False
    language: str = "en"


def draw_parcel_label(label: ParcelLabel, width: int, fonts: FontBook) -> Image.Image:
    """The label as a 1-bit image `width` dots wide."""
    words = WORDS.get(label.language, WORDS["en"])
    unit = width / 576
    canvas = Canvas(width, fonts)
    canvas.band(words["code"], int(30 * unit), inverse=True)
    canvas.space(int(6 * unit))
    spaced = f"{label.pickup_code[:3]} {label.pickup_code[3:]}"
    canvas.text(spaced, int(112 * unit), bold=True, align="center")
    canvas.rule(2)
    canvas.space(int(6 * unit))
    canvas.text(words["for"], int(22 * unit))
    canvas.fitted(label.recipient or "-", int(56 * unit), int(24 * unit))
    if label.recipient_left:
        canvas.band(words["left"], int(24 * unit), inverse=False)
    if label.shelf:
        canvas.text(f"{words['shelf']}  {label.shelf}", int(48 * unit), bold=True, align="center")
    kind = kind_name(label.kind, label.language)
    carrier = carrier_name(label.carrier, label.language)
    canvas.text(f"{kind} · {carrier} · {label.items} {words['items']}", int(26 * unit))
    canvas.text(label.logged_at.strftime("%Y-%m-%d %H:%M"), int(26 * unit))
    canvas.space(int(8 * unit))
    code = qr_image(label.token, int(width * 0.6))
    canvas.paste(code, (width - code.width) // 2)
    canvas.y += code.height
    return canvas.finish()


def parcel_label_job(label: ParcelLabel, printer: PrinterConfig, fonts: FontBook) -> bytes:
    """The label's bytes for the configured printer (both kinds draw the same pixels)."""
    if printer.kind == "brother_ql":
        from kiosk.devices.ql_printer import LABELS, label_dots, ql_image_job

        roll = LABELS[printer.ql_label]
        image = draw_parcel_label(label, label_dots(roll)[0], fonts)
        return ql_image_job(image, printer.ql_model, roll, cut=printer.cut)
    width = dot_width(printer.profile, printer.width_pixels)
    return image_job(draw_parcel_label(label, width, fonts), printer.profile, cut=printer.cut)
