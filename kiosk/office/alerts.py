"""Security alerts the office raises itself, from what kiosks send or links attempt.

An alert is kept as an event of kind `security.alert` (seq 0: it is the office's, not in
any kiosk's hash chain), attributed to the kiosk it concerns, so it shows in the visit log
and `kiosk office visits` beside the kiosks' own alerts; and it is queued for every channel
on the site's security list, sent by the office's notifier (kiosk.office.forwarding) with
the same retries as a forwarded alert. Call inside the transaction of the change it is
about, so the alert and the refusal commit together.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from enum import StrEnum
from typing import Any

from kiosk.notify.channels import channel_hash
from kiosk.office.models import Event, ForwardedNotification, Kiosk, Site
from kiosk.office.settings import load_site_settings
from kiosk.sync.wire import EventKind


class OfficeAlert(StrEnum):
    """Why the office raised an alert (the `reason` of its payload)."""

    INVITATION_USED_TWICE = "invitation_used_twice"
    #: A kiosk sent an event, or signed a link, about another site's visit, host or
    #: appointment: a stolen or misconfigured kiosk trying its luck.
    FOREIGN_SITE = "foreign_site_ref"
    #: A kiosk sent an event id again with different content: never a kiosk's own doing.
    EVENT_CONFLICT = "event_conflict"


TITLES = {
    OfficeAlert.INVITATION_USED_TWICE: (
        "安全警报：邀请码被使用两次 / Security alert: invitation used twice"
    ),
    OfficeAlert.FOREIGN_SITE: (
        "安全警报：访客机涉及其他场所的数据 / Security alert: a kiosk sent another site's data"
    ),
    OfficeAlert.EVENT_CONFLICT: (
        "安全警报：事件内容被改写 / Security alert: an event was sent again altered"
    ),
}


def raise_alert(
    kiosk: Kiosk, reason: OfficeAlert, subject_ref: str, details: dict[str, Any], at: datetime,
    now: datetime, *, also: Site | None = None,
) -> None:  # fmt: skip
    """Record the alert and queue it for the security channels of the kiosk's site, and of
    `also` (the site whose data the kiosk reached for), so both sites' guards hear of it."""
    event_id = secrets.token_hex(16)
    payload = {"reason": reason.value, "kiosk": kiosk.kiosk_id, **details}
    Event.create(
        event_id=event_id, kiosk=kiosk, seq=0, kind=EventKind.SECURITY_ALERT,
        subject_ref=subject_ref, payload=json.dumps(payload, ensure_ascii=False),
        occurred_at=at, received_at=now,
    )  # fmt: skip
    body = "\n".join(f"{name}: {value}" for name, value in payload.items())
    sites = [kiosk.site] + ([also] if also is not None and also.id != kiosk.site_id else [])
    channels = [(site, url) for site in sites for url in load_site_settings(site).security]
    for site, url in channels:
        digest = channel_hash(url.get_secret_value())
        ForwardedNotification.insert(
            site=site.id, kiosk=kiosk.id, event_id=event_id,
            delivery_key=f"office-alert:{event_id}", kind=EventKind.SECURITY_ALERT,
            audience="security", channel_hash=digest, title=TITLES[reason], body=body,
            next_attempt_at=now, created_at=now,
        ).on_conflict_ignore().execute()  # fmt: skip
