"""The words of the deliveries' messages (a recipient's reminder, the desk's daily list)
in the three languages, chosen by the reader's language: a recipient's office account's,
else the site's delivery language (kiosk.office.deliveries.rules.DeliveryRules.language).

The words live in one table here rather than in the office pages' catalogue: they are
mail, read outside the office web, and each message is built from a few fixed sentences.
Free text (a company's name, a shelf) is put in as it is; a code (kind, carrier) through
its words below, or as it is for a code the table does not know.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

LANGUAGES = ("zh_Hans", "zh_Hant", "en")

WORDS: Mapping[str, Mapping[str, str]] = {
    "reminder_title": {
        "zh_Hans": "提醒：您有 %(count)s 件快递待领取",
        "zh_Hant": "提醒：您有 %(count)s 件包裹待領取",
        "en": "Reminder: deliveries waiting for you at the desk (%(count)s)",
    },
    "reminder_intro": {
        "zh_Hans": "%(site)s 前台有以下物品等您领取，请尽快来取：",
        "zh_Hant": "%(site)s 前台有以下物品等您領取，請盡快來取：",
        "en": "These are waiting for you at the front desk of %(site)s; please collect them soon:",
    },
    "line": {
        "zh_Hans": (
            "· %(kind)s（%(carrier)s，%(items)s 件），%(logged)s 送达，"
            "取件码 %(code)s，位置 %(shelf)s"
        ),
        "zh_Hant": (
            "· %(kind)s（%(carrier)s，%(items)s 件），%(logged)s 送達，"
            "取件碼 %(code)s，位置 %(shelf)s"
        ),
        "en": (
            "· %(kind)s ×%(items)s (%(carrier)s), left %(logged)s,"
            " pickup code %(code)s, shelf %(shelf)s"
        ),
    },
    "reminder_outro": {
        "zh_Hans": "在访客机上扫描通知中的二维码或输入取件码即可领取。",
        "zh_Hant": "在訪客機上掃描通知中的二維碼或輸入取件碼即可領取。",
        "en": "Scan the QR code from your first message at the kiosk, or type the pickup code.",
    },
    "reminder_outro_qr": {
        "zh_Hans": "在访客机上扫描附件中的二维码（每件一个），或输入取件码即可领取。",
        "zh_Hant": "在訪客機上掃描附件中的二維碼（每件一個），或輸入取件碼即可領取。",
        "en": "Scan the attached QR code (one a parcel) at the kiosk, or type the pickup code.",
    },
    "desk_title": {
        "zh_Hans": "%(site)s 前台：%(count)s 件快递仍待领取（%(day)s）",
        "zh_Hant": "%(site)s 前台：%(count)s 件包裹仍待領取（%(day)s）",
        "en": "%(site)s desk: still on the shelf on %(day)s (%(count)s)",
    },
    "desk_line": {
        "zh_Hans": (
            "· %(recipient)s：%(kind)s（%(carrier)s，%(items)s "
            "件），位置 %(shelf)s，已等待 %(days)s 天%(note)s"
        ),
        "zh_Hant": (
            "· %(recipient)s：%(kind)s（%(carrier)s，%(items)s "
            "件），位置 %(shelf)s，已等待 %(days)s 天%(note)s"
        ),
        "en": (
            "· %(recipient)s: %(kind)s ×%(items)s (%(carrier)s),"
            " shelf %(shelf)s, waiting %(days)s d%(note)s"
        ),
    },
    "left_note": {
        "zh_Hans": "（收件人已离职，请前台处理）",
        "zh_Hant": "（收件人已離職，請前台處理）",
        "en": " (the recipient has left: the desk handles it)",
    },
    "no_channel_note": {
        "zh_Hans": "（无法通知收件人，请电话联系）",
        "zh_Hant": "（無法通知收件人，請電話聯絡）",
        "en": " (the recipient cannot be messaged: please call)",
    },
    "no_shelf": {"zh_Hans": "前台", "zh_Hant": "前台", "en": "desk"},
    "kind:parcel": {"zh_Hans": "包裹", "zh_Hant": "包裹", "en": "Parcel"},
    "kind:documents": {"zh_Hans": "文件", "zh_Hant": "文件", "en": "Documents"},
    "kind:food": {"zh_Hans": "外卖", "zh_Hant": "外賣", "en": "Food"},
    "kind:flowers": {"zh_Hans": "鲜花", "zh_Hant": "鮮花", "en": "Flowers"},
    "kind:other": {"zh_Hans": "其他物品", "zh_Hant": "其他物品", "en": "Other"},
    "carrier:sf": {"zh_Hans": "顺丰", "zh_Hant": "順豐", "en": "SF Express"},
    "carrier:jd": {"zh_Hans": "京东", "zh_Hant": "京東", "en": "JD Logistics"},
    "carrier:ems": {"zh_Hans": "EMS", "zh_Hant": "EMS", "en": "EMS"},
    "carrier:zto": {"zh_Hans": "中通", "zh_Hant": "中通", "en": "ZTO"},
    "carrier:yto": {"zh_Hans": "圆通", "zh_Hant": "圓通", "en": "YTO"},
    "carrier:sto": {"zh_Hans": "申通", "zh_Hant": "申通", "en": "STO"},
    "carrier:yunda": {"zh_Hans": "韵达", "zh_Hant": "韻達", "en": "Yunda"},
    "carrier:meituan": {"zh_Hans": "美团", "zh_Hant": "美團", "en": "Meituan"},
    "carrier:eleme": {"zh_Hans": "饿了么", "zh_Hant": "餓了麼", "en": "Ele.me"},
    "carrier:dhl": {"zh_Hans": "DHL", "zh_Hant": "DHL", "en": "DHL"},
    "carrier:ups": {"zh_Hans": "UPS", "zh_Hant": "UPS", "en": "UPS"},
    "carrier:fedex": {"zh_Hans": "联邦快递", "zh_Hant": "聯邦快遞", "en": "FedEx"},
    "carrier:other": {"zh_Hans": "其他", "zh_Hant": "其他", "en": "other"},
}


def say(language: str, key: str, **values: object) -> str:
    words = WORDS[key]
    text = words.get(language) or words["en"]
    return text % values if values else text


def code_words(language: str, kind: str, code: str) -> str:
    """The words for a stored code (`kind` "kind" or "carrier"), or the code itself."""
    key = f"{kind}:{code}"
    return say(language, key) if key in WORDS else code


@dataclass(frozen=True)
class WaitingLine:
    """One waiting parcel, as a message lists it."""

    recipient: str
    kind: str
    carrier: str
    items: int
    pickup_code: str
    shelf: str
    logged_at: datetime
    recipient_left: bool = False
    reachable: bool = True
    pickup_token: str = ""  # the kiosk's signed token: its QR goes with a reminder


def reminder(
    language: str, site: str, lines: Sequence[WaitingLine], zone: ZoneInfo
) -> tuple[str, str]:
    """A recipient's reminder: (title, body)."""
    body = [say(language, "reminder_intro", site=site), ""]
    for line in lines:
        body.append(
            say(
                language,
                "line",
                kind=code_words(language, "kind", line.kind),
                carrier=code_words(language, "carrier", line.carrier),
                items=line.items,
                logged=line.logged_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                code=line.pickup_code,
                shelf=line.shelf or say(language, "no_shelf"),
            )
        )
    with_qr = any(line.pickup_token for line in lines)
    body += ["", say(language, "reminder_outro_qr" if with_qr else "reminder_outro")]
    return say(language, "reminder_title", count=len(lines)), "\n".join(body)


def desk_list(
    language: str, site: str, day: str, lines: Sequence[WaitingLine], now: datetime
) -> tuple[str, str]:
    """The desk's daily list of what is still on the shelf, oldest first: (title, body)."""
    body = []
    for line in lines:
        note = ""
        if line.recipient_left:
            note = say(language, "left_note")
        elif not line.reachable:
            note = say(language, "no_channel_note")
        body.append(
            say(
                language,
                "desk_line",
                recipient=line.recipient,
                kind=code_words(language, "kind", line.kind),
                carrier=code_words(language, "carrier", line.carrier),
                items=line.items,
                shelf=line.shelf or say(language, "no_shelf"),
                days=(now - line.logged_at).days,
                note=note,
            )
        )
    return say(language, "desk_title", site=site, count=len(lines), day=day), "\n".join(body)
