"""Staff PINs for guard and admin mode, stored only as Argon2id hashes.

`kiosk admin set-pin` keeps the hash in the kiosk database (so a PIN can be changed without
editing the configuration file); a hash in the configuration's [admin] section is used when
none was set that way.
"""

from __future__ import annotations

from typing import Literal

from argon2 import PasswordHasher

from kiosk.config import KioskConfig
from kiosk.domain.errors import InvalidInput
from kiosk.storage.models import KioskState

Role = Literal["guard", "admin"]
MIN_PIN_DIGITS = 4


def _key(role: Role) -> str:
    return f"{role}_pin_hash"


def set_pin(role: Role, pin: str) -> None:
    if not (pin.isdigit() and MIN_PIN_DIGITS <= len(pin) <= 12):
        raise InvalidInput("pin", f"must be {MIN_PIN_DIGITS} to 12 digits")
    digest = PasswordHasher().hash(pin)
    KioskState.insert(key=_key(role), value=digest).on_conflict_replace().execute()


def stored_pin_hash(role: Role, config: KioskConfig) -> str:
    """The Argon2 hash to check a PIN against; empty when no PIN was ever set."""
    row = KioskState.get_or_none(KioskState.key == _key(role))
    if row is not None:
        return str(row.value)
    secret = config.admin.pin_hash if role == "admin" else config.admin.guard_pin_hash
    return secret.get_secret_value()
