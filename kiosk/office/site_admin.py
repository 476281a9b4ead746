"""A site's settings and kiosks as the office web's admins change them: the time zone, the
address and the channel lists (shown only masked, see kiosk.office.directory), enrolment
codes and revocation. Every change is audited."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import SecretStr, ValidationError

from kiosk.domain.errors import InvalidInput, NotFound
from kiosk.domain.text import check_text
from kiosk.office.channel_policy import ChannelPolicy
from kiosk.office.directory import changed_fields, mask_url, parse_channels
from kiosk.office.models import Kiosk, Site
from kiosk.office.settings import SiteSettings, load_site_settings, save_site_settings
from kiosk.office.staff import StaffDirectory
from kiosk.office.store import OfficeStore

SECRET_LISTS = ("reception", "security", "vip")


def site_timezone(site_id: int) -> str:
    return load_site_settings(Site.get_by_id(site_id)).timezone


def masked_settings(settings: SiteSettings) -> dict[str, list[str]]:
    return {
        name: [mask_url(secret.get_secret_value()) for secret in getattr(settings, name)]
        for name in SECRET_LISTS
    }


def update_site_settings(
    staff: StaffDirectory,
    site_id: int,
    actor: str,
    values: dict[str, Any],
    channel_lines: dict[str, list[str]],
    clear: Iterable[str] = (),
    policy: ChannelPolicy | None = None,
) -> SiteSettings:
    """Change the site's settings. A channel list sent back empty keeps its URLs (the form
    never shows them unmasked); `clear` names the lists to empty."""
    site = Site.get_by_id(site_id)
    with staff.db.atomic():
        current = load_site_settings(site)
        timezone = str(values.get("timezone", current.timezone)).strip()
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise InvalidInput("timezone", f"{timezone!r} is not a time zone name") from err
        check_text(str(values.get("address", "")), "address", max_length=500, multiline=True)
        check_text(
            str(values.get("what_to_bring", "")), "what_to_bring", max_length=1000, multiline=True
        )
        data = current.model_dump()
        data.update(values, timezone=timezone)
        for name in SECRET_LISTS:
            stored = [secret.get_secret_value() for secret in getattr(current, name)]
            lines = [line for line in channel_lines.get(name, []) if line.strip()]
            if name in clear:
                chosen: list[str] = []
            elif not lines:
                chosen = stored
            else:
                chosen = parse_channels(lines, stored, name, policy)
            data[name] = [SecretStr(url) for url in chosen]
        try:
            updated = SiteSettings.model_validate(data)
        except ValidationError as err:
            problem = err.errors()[0]
            raise InvalidInput(str(problem["loc"][0]), str(problem["msg"])) from err
        before = {**current.model_dump(mode="json"), **masked_settings(current)}
        after = {**updated.model_dump(mode="json"), **masked_settings(updated)}
        save_site_settings(site, updated, staff.clock.now())
        staff.audit(
            site, actor, "settings.update", entity="settings", detail=changed_fields(before, after)
        )
    return updated


def kiosks_of(site_id: int) -> list[Kiosk]:
    return list(Kiosk.select().where(Kiosk.site == site_id).order_by(Kiosk.name, Kiosk.kiosk_id))


def kiosk_of(site_id: int, kiosk_id: str) -> Kiosk:
    kiosk = Kiosk.get_or_none((Kiosk.kiosk_id == kiosk_id) & (Kiosk.site == site_id))
    if kiosk is None:
        raise NotFound(f"no kiosk {kiosk_id}")
    return kiosk


def new_enrolment_code(store: OfficeStore, staff: StaffDirectory, site_id: int, actor: str) -> str:
    site = Site.get_by_id(site_id)
    with store.site_change(site):
        code = store.enrolment_code(site.name)
        staff.audit(site, actor, "kiosk.enrolment_code", entity="kiosk")
    return code


def revoke_kiosk(
    store: OfficeStore, staff: StaffDirectory, site_id: int, actor: str, kiosk_id: str
) -> None:
    site = Site.get_by_id(site_id)
    kiosk = kiosk_of(site_id, kiosk_id)
    if kiosk.revoked_at is not None:
        raise InvalidInput("kiosk", "is already revoked")
    with store.site_change(site):
        store.revoke_kiosk(kiosk_id)
        staff.audit(
            site, actor, "kiosk.revoke", entity="kiosk", ref=kiosk_id, detail={"name": kiosk.name}
        )
