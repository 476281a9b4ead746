"""Counting failed sign-ins so that guessing is slow and cannot lock everyone out.

Each attempt is counted before its password is checked, in one UPDATE per counter (a row
lock on PostgreSQL, the write lock on SQLite), so attempts made in parallel cannot
overwrite each other's count: the sixth of 48 simultaneous guesses is refused unchecked.

Three counters judge an attempt; any one over its limit refuses it for LOCKOUT:

    one account from one address    MAX_FAILURES        a person mistyping, or a guesser
    one address, all accounts       MAX_ADDRESS_FAILURES one machine trying many names
    one account, all addresses      MAX_ACCOUNT_FAILURES guessing spread over many machines

So a guesser locks `admin` out for their own address only; reception's browser elsewhere
still signs in, unless guesses arrive from MAX_ACCOUNT_FAILURES / MAX_FAILURES addresses
at once. A count starts again once LOCKOUT has passed since its last failure. A correct
password clears the account's counts and takes back the address's reservation.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import Case, Database

from kiosk.office.models import SignInThrottle, StaffUser

MAX_FAILURES = 5
MAX_ADDRESS_FAILURES = 20
MAX_ACCOUNT_FAILURES = 50
LOCKOUT = timedelta(minutes=15)


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt's reserved places in its counters."""

    keys: dict[str, int]  # counter key -> its limit
    user_id: int | None
    allowed: bool


def _pair_key(user_id: int, address: str) -> str:
    return f"account:{user_id}@{address}"


def _address_key(address: str) -> str:
    return f"address:{address}"


def reserve(db: Database, user_id: int | None, address: str, now: datetime) -> Attempt:
    """Count this attempt in each of its counters, atomically, and say whether it may
    check a password at all."""
    keys = {_address_key(address): MAX_ADDRESS_FAILURES}
    if user_id is not None:
        keys[_pair_key(user_id, address)] = MAX_FAILURES
    allowed = True
    with db.atomic():
        for key in keys:
            restart = (SignInThrottle.locked_until <= now) | (
                SignInThrottle.locked_until.is_null() & (SignInThrottle.updated_at < now - LOCKOUT)
            )
            SignInThrottle.insert(key=key, failures=1, updated_at=now).on_conflict(
                conflict_target=[SignInThrottle.key],
                update={
                    SignInThrottle.failures: Case(
                        None, [(restart, 1)], SignInThrottle.failures + 1
                    ),
                    SignInThrottle.locked_until: Case(
                        None, [(restart, None)], SignInThrottle.locked_until
                    ),
                    SignInThrottle.updated_at: now,
                },
            ).execute()
        for row in SignInThrottle.select().where(SignInThrottle.key.in_(list(keys))):
            if row.failures > keys[row.key] or (row.locked_until and row.locked_until > now):
                allowed = False
        if user_id is not None:
            expired = StaffUser.locked_until <= now
            StaffUser.update(
                failed_logins=Case(None, [(expired, 1)], StaffUser.failed_logins + 1),
                locked_until=Case(None, [(expired, None)], StaffUser.locked_until),
            ).where(StaffUser.id == user_id).execute()
            user = StaffUser.get_by_id(user_id)
            if user.failed_logins > MAX_ACCOUNT_FAILURES or (
                user.locked_until and user.locked_until > now
            ):
                allowed = False
    return Attempt(keys, user_id, allowed)


def failed(db: Database, attempt: Attempt, now: datetime) -> None:
    """The password was wrong (or never checked): lock each counter at its limit."""
    with db.atomic():
        for key, limit in attempt.keys.items():
            SignInThrottle.update(locked_until=now + LOCKOUT).where(
                (SignInThrottle.key == key)
                & (SignInThrottle.failures >= limit)
                & SignInThrottle.locked_until.is_null()
            ).execute()
        if attempt.user_id is not None:
            StaffUser.update(locked_until=now + LOCKOUT).where(
                (StaffUser.id == attempt.user_id)
                & (StaffUser.failed_logins >= MAX_ACCOUNT_FAILURES)
                & StaffUser.locked_until.is_null()
            ).execute()


def succeeded(db: Database, attempt: Attempt, now: datetime) -> None:
    """The right password: the account's counts start again, and the address gets back
    the place this attempt reserved."""
    assert attempt.user_id is not None
    with db.atomic():
        address_keys = [key for key in attempt.keys if key.startswith("address:")]
        SignInThrottle.update(failures=SignInThrottle.failures - 1).where(
            SignInThrottle.key.in_(address_keys) & (SignInThrottle.failures > 0)
        ).execute()
        SignInThrottle.delete().where(
            SignInThrottle.key.in_([k for k in attempt.keys if k not in address_keys])
        ).execute()
        StaffUser.update(failed_logins=0, locked_until=None).where(
            StaffUser.id == attempt.user_id
        ).execute()
        if secrets.randbelow(50) == 0:  # now and then, forget counts too old to matter
            SignInThrottle.delete().where(
                (SignInThrottle.updated_at < now - 4 * LOCKOUT)
                & (SignInThrottle.locked_until.is_null() | (SignInThrottle.locked_until < now))
            ).execute()
