"""The office's own signing keys: what it signs its answers to kiosks with (kiosk.sync.wire).

The first key is made on first use. `rotate` adds a new key; answers are then signed with
every key not retired, so a kiosk that pinned only the old one still verifies them, and
learns the new one from the feed (entity "office_key") in an answer the old key signed.
`retire` stops signing with a key once every kiosk has synced since the rotation.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from peewee import Database

from kiosk.office.models import OfficeKey

#: How long a process keeps the keys before reading them again (another process may
#: have rotated them).
CACHE_SECONDS = 60.0


class OfficeKeys:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._cached: list[Ed25519PrivateKey] = []
        self._read_at = 0.0

    def signing(self, now: datetime) -> list[Ed25519PrivateKey]:
        """The keys answers are signed with, newest first (one made if there is none)."""
        with self._lock:
            if self._cached and time.monotonic() - self._read_at < CACHE_SECONDS:
                return self._cached
            with self._db.connection_context():
                rows = self._active()
                if not rows:
                    self._create(now)
                    rows = self._active()
            self._cached = [
                load_pem_private_key(row.private_key_pem.encode(), None)  # type: ignore[misc]
                for row in rows
            ]
            self._read_at = time.monotonic()
            return self._cached

    def public(self, now: datetime) -> list[str]:
        return [key.public_key().public_bytes_raw().hex() for key in self.signing(now)]

    def rotate(self, now: datetime) -> str:
        """Add a new key; returns its public half (hex)."""
        with self._db.connection_context():
            public = self._create(now)
        self._forget()
        return public

    def retire(self, public_key_hex: str, now: datetime) -> None:
        with self._db.connection_context():
            OfficeKey.update(retired_at=now).where(
                (OfficeKey.public_key == public_key_hex) & OfficeKey.retired_at.is_null()
            ).execute()
        self._forget()

    def _forget(self) -> None:
        with self._lock:
            self._cached, self._read_at = [], 0.0

    @staticmethod
    def _active() -> list[OfficeKey]:
        return list(
            OfficeKey.select().where(OfficeKey.retired_at.is_null()).order_by(OfficeKey.id.desc())
        )

    @staticmethod
    def _create(now: datetime) -> str:
        key = Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes_raw().hex()
        OfficeKey.create(
            public_key=public,
            private_key_pem=key.private_bytes(
                Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
            ).decode(),
            created_at=now,
        )
        return public
