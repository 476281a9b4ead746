"""Signed, single-use, expiring links: "I'm on my way", "approve" and "deny".

A link's token is `v1.<claim>.<mac>`: the claim (link id, action, visit, party, expiry)
in URL-safe base64, and an HMAC-SHA256 over it with a secret that never leaves the kiosk
(`notify-link.key` in the keys folder, 0600). Verifying needs no database; using a link
records its id, so a second use is refused (`Notifier.redeem_link`).

A symmetric key, not Ed25519 as the badges use: only the kiosk that issued a link ever
verifies it, and an HMAC keeps the link short enough for an SMS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from kiosk.domain.errors import KioskError
from kiosk.services.keys import create_salt, load_salt

LINK_KEY = "notify-link.key"
_VERSION = "v1"


class LinkAction(StrEnum):
    ACKNOWLEDGE = "ack"
    APPROVE = "approve"
    DENY = "deny"


class LinkRefusal(StrEnum):
    MALFORMED = "malformed"
    FORGED = "forged"
    EXPIRED = "expired"
    USED = "used"
    TOO_LATE = "too_late"  # the visit has moved on (acknowledged, decided, gone)


class LinkRefused(KioskError):
    """A link that does nothing; `reason` says why (shown to the person who opened it)."""

    def __init__(self, reason: LinkRefusal, message: str) -> None:
        self.reason = reason
        super().__init__(f"{reason.value}: {message}")


@dataclass(frozen=True)
class LinkClaim:
    link_id: str
    action: LinkAction
    visit_ref: str
    party: str  # who the link was sent to: host | delegate | reception
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_link_key(keys_dir: Path) -> bytes:
    """The kiosk's link secret, created on first use."""
    path = keys_dir / LINK_KEY
    create_salt(path)
    return load_salt(path)


class LinkSigner:
    """Issues and verifies link tokens; `now` is the kiosk's clock."""

    def __init__(self, secret: bytes, now: Callable[[], datetime]) -> None:
        if len(secret) < 16:
            raise ValueError("the link secret is too short")
        self._secret = secret
        self._now = now

    def _mac(self, claim: str) -> str:
        digest = hmac.new(self._secret, f"{_VERSION}.{claim}".encode("ascii"), hashlib.sha256)
        return _b64(digest.digest()[:20])

    def issue(self, action: LinkAction, visit_ref: str, party: str, ttl: timedelta) -> str:
        expires = int((self._now() + ttl).timestamp())
        link_id = secrets.token_hex(8)
        claim = _b64(f"{link_id}|{action.value}|{visit_ref}|{party}|{expires}".encode())
        return f"{_VERSION}.{claim}.{self._mac(claim)}"

    def verify(self, token: str) -> LinkClaim:
        """The claim of a genuine, unexpired token; raises LinkRefused otherwise.
        Says nothing about earlier use: that is in the database."""
        parts = token.strip().split(".")
        if len(parts) != 3 or parts[0] != _VERSION:
            raise LinkRefused(LinkRefusal.MALFORMED, "not a kiosk link")
        _, claim, mac = parts
        if not hmac.compare_digest(mac.encode("ascii", "replace"), self._mac(claim).encode()):
            raise LinkRefused(LinkRefusal.FORGED, "the link's signature does not match")
        try:
            link_id, action, visit_ref, party, expires = _unb64(claim).decode().split("|")
            claim_obj = LinkClaim(
                link_id,
                LinkAction(action),
                visit_ref,
                party,
                datetime.fromtimestamp(int(expires), UTC),
            )
        except (ValueError, UnicodeDecodeError) as err:  # signed by us, so never expected
            raise LinkRefused(LinkRefusal.MALFORMED, "unreadable link") from err
        if self._now() >= claim_obj.expires_at:
            raise LinkRefused(LinkRefusal.EXPIRED, "the link has expired")
        return claim_obj
