"""The office's settings: the process's (where it listens, how it sends mail) from the
environment, and each site's (address, channels, retention) from the database, where an
admin edits them in the office web.

    KIOSK_OFFICE_DB           database URL (postgresql://...) or SQLite path
    KIOSK_OFFICE_PUBLIC_URL   the address people and kiosks reach the office at
    KIOSK_OFFICE_SMTP_URL     smtp://user:password@host:port (smtps:// for TLS, ?starttls=1)
    KIOSK_OFFICE_MAIL_FROM    the sender of invitation e-mails
    KIOSK_OFFICE_COOKIE_SECURE  1 (default) marks the session cookie Secure; 0 for plain http

systemd reads them from /etc/kiosk/office.env (0600), so no secret sits in a unit or in git.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field, SecretStr

from kiosk.office.models import Site, SiteSettingsRow


@dataclass(frozen=True)
class OfficeSettings:
    database_url: str = ""
    public_url: str = "http://127.0.0.1:8470"
    smtp_url: str = ""
    mail_from: str = "reception@localhost"
    cookie_secure: bool = True
    session_hours: float = 12.0
    # Channels on the office's own network (a mail relay, a chat server): refused unless
    # allowed (kiosk.office.channel_policy).
    allow_private_channels: bool = False
    # The API's documentation (/docs, /openapi.json): for developers and the demo, not for
    # a production office on the internet.
    api_docs: bool = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> OfficeSettings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("KIOSK_OFFICE_DB", ""),
            public_url=env.get("KIOSK_OFFICE_PUBLIC_URL", cls.public_url).rstrip("/"),
            smtp_url=env.get("KIOSK_OFFICE_SMTP_URL", ""),
            mail_from=env.get("KIOSK_OFFICE_MAIL_FROM", cls.mail_from),
            cookie_secure=env.get("KIOSK_OFFICE_COOKIE_SECURE", "1") not in ("0", "false", "no"),
            allow_private_channels=env.get("KIOSK_OFFICE_ALLOW_PRIVATE_CHANNELS", "0")
            in ("1", "true", "yes"),
            api_docs=env.get("KIOSK_OFFICE_API_DOCS", "0") in ("1", "true", "yes"),
        )


class SiteSettings(BaseModel):
    """One site's settings. Unknown keys in the stored JSON are ignored, so an older office
    reads a newer one's row."""

    timezone: str = "UTC"
    address: str = ""
    what_to_bring: str = "Please bring a photo ID."
    # Apprise URLs: who hears of visitors when no host can, of security alerts, of VIPs.
    reception: list[SecretStr] = Field(default_factory=list)
    security: list[SecretStr] = Field(default_factory=list)
    vip: list[SecretStr] = Field(default_factory=list)
    # Days after a visit ends before its personal data is anonymised (the counts stay).
    visitor_details_days: int = Field(default=90, ge=1, le=3650)
    events_days: int = Field(default=365, ge=1, le=3650)
    audit_days: int = Field(default=730, ge=30, le=3650)


def load_site_settings(site: Site) -> SiteSettings:
    row = SiteSettingsRow.get_or_none(SiteSettingsRow.site == site)
    return SiteSettings.model_validate(json.loads(row.data)) if row else SiteSettings()


def save_site_settings(site: Site, settings: SiteSettings, now: datetime) -> None:
    data = settings.model_dump(mode="json")
    for name in ("reception", "security", "vip"):  # SecretStr dumps masked; keep the values
        data[name] = [secret.get_secret_value() for secret in getattr(settings, name)]
    text = json.dumps(data, ensure_ascii=False)
    SiteSettingsRow.insert(site=site, data=text, updated_at=now).on_conflict(
        conflict_target=[SiteSettingsRow.site],
        update={SiteSettingsRow.data: text, SiteSettingsRow.updated_at: now},
    ).execute()
