"""The office's staff: accounts with Argon2id password hashes, sessions, roles and the
audit of who changed what. No web imports: the CLI uses it too.

Roles, from most to least reach:

    admin       everything, including users and settings
    reception   hosts, appointments, the live list, the visit log and reports
    security    the watchlist, the live list and roll call, the visit log and its verification
    host        their own appointments and visits

Sign-in failures are counted before the password is checked, per account and address, per
address and per account (kiosk.office.throttle), and lock for LOCKOUT; the answer to a
wrong user name, a wrong password and a locked account is the same, and costs the same time.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from peewee import Database

from kiosk.domain.clock import Clock
from kiosk.domain.errors import InvalidInput, KioskError
from kiosk.office import throttle
from kiosk.office.models import AuditEntry, OfficeHost, Site, StaffSession, StaffUser

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()
# Verified against when the user name is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class Role(StrEnum):
    ADMIN = "admin"
    RECEPTION = "reception"
    SECURITY = "security"
    HOST = "host"


class SignInRefused(KioskError):
    """Wrong name or password, or a locked account. The message never says which."""


@dataclass(frozen=True)
class Staff:
    """The signed-in person, as the pages see them."""

    user_id: int
    username: str
    display_name: str
    role: Role
    site_id: int
    site_name: str
    host_ref: str
    language: str
    csrf_token: str

    def has(self, *roles: Role) -> bool:
        return self.role is Role.ADMIN or self.role in roles


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")


class StaffDirectory:
    def __init__(self, db: Database, clock: Clock, *, session_hours: float = 12.0) -> None:
        self.db = db
        self.clock = clock
        self.session_lifetime = timedelta(hours=session_hours)

    # ------------------------------------------------------------------ accounts

    def add_user(
        self,
        site: Site,
        username: str,
        password: str,
        role: Role | str,
        *,
        display_name: str = "",
        host_ref: str = "",
        language: str = "en",
    ) -> StaffUser:
        role = Role(role)
        username = username.strip().lower()
        if (
            not username
            or len(username) > 64
            or not username.replace(".", "")
            .replace("-", "")
            .replace("_", "")
            .replace("@", "")
            .isalnum()
        ):
            raise InvalidInput("username", "letters, digits and . - _ @ only, up to 64")
        if role is Role.HOST and not host_ref:
            raise InvalidInput("host_ref", "a host account must name its host")
        check_password_strength(password)
        with self.db.connection_context(), self.db.atomic():
            if StaffUser.get_or_none(StaffUser.username == username) is not None:
                raise InvalidInput("username", "is taken")
            # Whoever adds the account (the web form, the CLI), a host account sees the
            # visits of one host of its own site: never another site's.
            if host_ref and not OfficeHost.get_or_none(
                (OfficeHost.ref == host_ref) & (OfficeHost.site == site)
            ):
                raise InvalidInput("host", "is not a host of this site")
            return StaffUser.create(
                site=site,
                username=username,
                display_name=display_name or username,
                password_hash=_hasher.hash(password),
                role=role.value,
                host_ref=host_ref,
                language=language,
                created_at=self.clock.now(),
            )

    def set_password(self, user: StaffUser, password: str) -> None:
        check_password_strength(password)
        with self.db.connection_context(), self.db.atomic():
            StaffUser.update(
                password_hash=_hasher.hash(password), failed_logins=0, locked_until=None
            ).where(StaffUser.id == user.id).execute()
            # A changed password ends every session of the account.
            StaffSession.delete().where(StaffSession.user == user.id).execute()

    # ------------------------------------------------------------------ sessions

    def sign_in(self, username: str, password: str, address: str = "") -> str:
        """A new session token for the cookie; raises SignInRefused. `address` is the
        browser's, for the throttle (kiosk.office.throttle)."""
        now = self.clock.now()
        refused = SignInRefused("wrong user name or password, or the account is locked")
        with self.db.connection_context():
            found = StaffUser.get_or_none(StaffUser.username == username.strip().lower())
            user: StaffUser | None = found if found is not None and found.active else None
            attempt = throttle.reserve(self.db, user.id if user else None, address, now)
            if user is None or not attempt.allowed:
                _verify(_DUMMY_HASH, password)
                throttle.failed(self.db, attempt, now)
                raise refused
            if not _verify(user.password_hash, password):
                throttle.failed(self.db, attempt, now)
                raise refused
            throttle.succeeded(self.db, attempt, now)
            token = secrets.token_urlsafe(32)
            with self.db.atomic():
                updates: dict[Any, Any] = {StaffUser.last_login_at: now}
                if _hasher.check_needs_rehash(user.password_hash):
                    updates[StaffUser.password_hash] = _hasher.hash(password)
                StaffUser.update(updates).where(StaffUser.id == user.id).execute()
                StaffSession.delete().where(StaffSession.expires_at < now).execute()
                StaffSession.create(
                    token_hash=_token_hash(token),
                    user=user,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    expires_at=now + self.session_lifetime,
                )
        return token

    def session(self, token: str) -> Staff | None:
        """The person a session cookie belongs to, or None (unknown, expired, disabled)."""
        if not token:
            return None
        with self.db.connection_context():
            row = (
                StaffSession.select(StaffSession, StaffUser, Site)
                .join(StaffUser)
                .join(Site)
                .where(StaffSession.token_hash == _token_hash(token))
                .first()
            )
            if row is None or row.expires_at <= self.clock.now() or not row.user.active:
                return None
            user = row.user
            return Staff(
                user_id=user.id,
                username=user.username,
                display_name=user.display_name,
                role=Role(user.role),
                site_id=user.site.id,
                site_name=user.site.name,
                host_ref=user.host_ref,
                language=user.language,
                csrf_token=row.csrf_token,
            )

    def sign_out(self, token: str) -> None:
        with self.db.connection_context():
            StaffSession.delete().where(StaffSession.token_hash == _token_hash(token)).execute()

    # ------------------------------------------------------------------ the audit

    def audit(
        self,
        site: Site | int,
        actor: str,
        action: str,
        *,
        entity: str = "",
        ref: str = "",
        detail: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> None:
        """Record a change. Call inside the transaction that makes it, so neither lands alone."""
        AuditEntry.create(
            site=site,
            at=at or self.clock.now(),
            actor=actor,
            action=action,
            entity=entity,
            ref=ref,
            detail=json.dumps(detail or {}, ensure_ascii=False, default=str),
        )


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
