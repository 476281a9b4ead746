"""The kiosk's keys on disk and the public keys it trusts in the database.

Files under the configured keys folder, each readable by the kiosk user only (0600):

    badge.key          this kiosk's Ed25519 key for signing badges
    invitation.key     the site's invitation key: ONLY on a standalone kiosk; with an office
                       configured it lives at the office and the kiosk holds the public half
    document-salt      the site's secret salt for hashing document numbers

A stolen kiosk of an office-run site therefore has nothing that signs an invitation, and
its badge key can be revoked at the office, after which other kiosks refuse its badges.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from peewee import fn

# The key files' helpers live below (kiosk.notify.links and the office use them); kept
# importable from here for the kiosk's callers.
from kiosk.dbkit.key_files import create_private_key as create_private_key
from kiosk.dbkit.key_files import load_private_key as load_private_key
from kiosk.dbkit.private_files import tighten, write_private_bytes
from kiosk.domain.errors import NotFound
from kiosk.domain.tokens import KeyRing, TokenKind, TokenSigner, key_id_for, raw_public_key
from kiosk.storage.models import TrustedKey

BADGE_KEY = "badge.key"
INVITATION_KEY = "invitation.key"
DOCUMENT_SALT = "document-salt"


def create_salt(path: Path) -> bool:
    if path.exists():
        return False
    write_private_bytes(path, secrets.token_hex(32).encode("ascii"))
    return True


def replace_salt(path: Path, salt: bytes) -> None:
    """Put the site's salt (received at enrolment) in place of the kiosk's own."""
    write_private_bytes(path, salt.hex().encode("ascii"))


def load_salt(path: Path) -> bytes:
    try:
        tighten(path)
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError as err:
        raise NotFound(f"no document salt at {path}; run `kiosk init`") from err


def trust_key(kind: TokenKind, public_raw: bytes, owner: str, at: datetime) -> str:
    """Record a public key as trusted for one kind of token (idempotent)."""
    key_id = key_id_for(public_raw)
    TrustedKey.insert(
        key_id=key_id, kind=kind.name.lower(), public_key=public_raw.hex(), owner=owner, added_at=at
    ).on_conflict_ignore().execute()
    return key_id


def load_keyring(ring: KeyRing | None = None) -> KeyRing:
    ring = ring if ring is not None else KeyRing()
    for row in TrustedKey.select():
        ring.trust(
            TokenKind[row.kind.upper()],
            bytes.fromhex(row.public_key),
            revoked=row.revoked_at is not None,
        )
    return ring


class DatabaseKeyRing(KeyRing):
    """The trusted keys as the database holds them, re-read when they may have changed.

    The sync process adds keys (another kiosk enrolled) and revokes them (a kiosk was
    stolen) in the shared database. This ring re-reads them every `max_age` seconds, and
    at once when a token names a key it does not know and the table has changed since
    (a one-row query, so garbage codes cannot make it reload on every scan)."""

    def __init__(self, max_age: float = 60.0) -> None:
        super().__init__()
        self._max_age = max_age
        self._loaded_at = 0.0
        self._fingerprint: tuple[Any, ...] = ()
        self.reload()

    @staticmethod
    def _table_fingerprint() -> tuple[Any, ...]:
        row = TrustedKey.select(
            fn.COUNT(TrustedKey.id), fn.MAX(TrustedKey.id), fn.COUNT(TrustedKey.revoked_at)
        ).tuples()
        return tuple(next(iter(row)))

    def reload(self) -> None:
        self._fingerprint = self._table_fingerprint()
        self._keys = load_keyring()._keys
        self._loaded_at = time.monotonic()

    def lookup(self, kind: TokenKind, key_id: str) -> Any:
        if time.monotonic() - self._loaded_at >= self._max_age:
            self.reload()
        found = super().lookup(kind, key_id)
        if found is None and self._table_fingerprint() != self._fingerprint:
            self.reload()
            found = super().lookup(kind, key_id)
        return found


class KeyStore:
    """The key files of one kiosk."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def ensure(self, *, standalone: bool) -> list[str]:
        """Create what is missing; return the names created. Safe to run again."""
        created = []
        if create_private_key(self.directory / BADGE_KEY):
            created.append(BADGE_KEY)
        if standalone and create_private_key(self.directory / INVITATION_KEY):
            created.append(INVITATION_KEY)
        if create_salt(self.directory / DOCUMENT_SALT):
            created.append(DOCUMENT_SALT)
        return created

    def badge_signer(self) -> TokenSigner:
        return TokenSigner(load_private_key(self.directory / BADGE_KEY))

    def invitation_signer(self) -> TokenSigner:
        path = self.directory / INVITATION_KEY
        if not path.exists():
            raise NotFound(
                "this kiosk holds no invitation key: invitations are signed at the office"
            )
        return TokenSigner(load_private_key(path))

    def has_invitation_key(self) -> bool:
        return (self.directory / INVITATION_KEY).exists()

    def document_salt(self) -> bytes:
        return load_salt(self.directory / DOCUMENT_SALT)

    def register_own_keys(self, kiosk_id: str, at: datetime) -> None:
        """Trust this kiosk's badge key and, when standalone, its invitation key."""
        trust_key(TokenKind.BADGE, raw_public_key(self.badge_signer().public_key), kiosk_id, at)
        if self.has_invitation_key():
            trust_key(
                TokenKind.INVITATION,
                raw_public_key(self.invitation_signer().public_key),
                "site",
                at,
            )
