"""The office web's staff accounts: adding them, switching them off and on, new passwords.
Every change is audited; an account switched off is signed out everywhere at once."""

from __future__ import annotations

import secrets

from kiosk.domain.errors import InvalidInput, NotFound
from kiosk.domain.text import check_optional
from kiosk.office.directory import host_of
from kiosk.office.models import Site, StaffSession, StaffUser
from kiosk.office.staff import Role, StaffDirectory, check_password_strength


def users_of(site_id: int) -> list[StaffUser]:
    return list(StaffUser.select().where(StaffUser.site == site_id).order_by(StaffUser.username))


def new_password() -> str:
    """A password to pass on once: 16 characters from an alphabet without look-alikes."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


def add_user(
    staff: StaffDirectory,
    site_id: int,
    actor: str,
    *,
    username: str,
    display_name: str,
    role: str,
    host_ref: str = "",
    password: str = "",
    language: str = "en",
) -> tuple[StaffUser, str]:
    """A new account and its first password (made up when none is given); its pages speak
    `language` until its owner picks another."""
    site = Site.get_by_id(site_id)
    try:
        role = Role(role)
    except ValueError as err:
        raise InvalidInput("role", "must be admin, reception, security or host") from err
    check_optional(display_name, "display_name", 200)
    if role is Role.HOST:
        host_of(site_id, host_ref)
    else:
        host_ref = ""
    password = password or new_password()
    check_password_strength(password)
    with staff.db.atomic():
        user = staff.add_user(
            site, username, password, role, display_name=display_name, host_ref=host_ref,
            language=language,
        )  # fmt: skip
        staff.audit(
            site,
            actor,
            "user.add",
            entity="user",
            ref=user.username,
            detail={"role": role.value, "host_ref": host_ref, "display_name": user.display_name},
        )
    return user, password


def user_of(site_id: int, user_id: int) -> StaffUser:
    user = StaffUser.get_or_none((StaffUser.id == user_id) & (StaffUser.site == site_id))
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def set_user_active(
    staff: StaffDirectory, site_id: int, actor: str, user_id: int, active: bool
) -> StaffUser:
    user = user_of(site_id, user_id)
    if not active and user.username == actor:
        raise InvalidInput("user", "you cannot deactivate your own account")
    with staff.db.atomic():
        StaffUser.update(active=active).where(StaffUser.id == user.id).execute()
        if not active:  # signed out everywhere at once
            StaffSession.delete().where(StaffSession.user == user.id).execute()
        staff.audit(
            site_id,
            actor,
            "user.reactivate" if active else "user.deactivate",
            entity="user",
            ref=user.username,
        )
    user.active = active
    return user


def reset_password(
    staff: StaffDirectory, site_id: int, actor: str, user_id: int
) -> tuple[StaffUser, str]:
    """A new password for the account, to pass on once; its sessions end."""
    user = user_of(site_id, user_id)
    password = new_password()
    with staff.db.atomic():
        staff.set_password(user, password)
        staff.audit(site_id, actor, "user.reset_password", entity="user", ref=user.username)
    return user, password
