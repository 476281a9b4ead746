"""Signed, single-use, expiring links: "I'm on my way", "approve" and "deny".

A link's token is `v2.<claim>.<signature>`, both parts URL-safe base64 without padding:

    claim      kiosk id | link id | action | visit | party | expiry (epoch seconds), UTF-8
    signature  Ed25519 over  b"lobby-kiosk link v2\\n" + the claim's base64 text

**Anything a kiosk signs can be verified by others.** The signing key is the kiosk's own
sync key (`office-auth.key`), whose public half the office received at enrolment and keeps
in `Kiosk.auth_public_key`; the claim names the kiosk, so the office's link page
(kiosk.office.web.links) finds the key, and refuses the link once the kiosk is revoked.
No enrolment change was needed, and a stolen office database lets nobody forge a link.

The same key signs sync requests, so the two kinds of message are kept apart by their
first bytes: a request's signed string starts with its HTTP method and a newline
(kiosk.sync.wire.signing_string), a link's with the prefix above; neither can ever be
taken for the other.

A kiosk with no office signs with a key of its own (`notify-link-ed25519.key`); enrolment
makes that key its sync key (kiosk.sync.client), so links sent before enrolment still
verify at the office afterwards. Either way the kiosk verifies its own links, with no
database; using a link records its id (`Notifier.redeem_link`, and the office's table of
used links), so a second use is refused.

Version 1 links (an HMAC only the kiosk could check) are no longer accepted: they pointed
at an office page that never existed, so no host could have used one.

A link is about 180 characters: fine for e-mail and chat; a text message gets a short link
of at most 40 instead (kiosk.notify.short_links).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.dbkit.key_files import create_private_key, load_private_key
from kiosk.domain.errors import KioskError
from kiosk.domain.tokens import raw_public_key

VERSION = "v2"
#: Domain separation: see the module's docstring.
SIGNING_PREFIX = b"lobby-kiosk link v2\n"
#: The key a kiosk without an office signs its links with (becomes its sync key on enrolment).
STANDALONE_LINK_KEY = "notify-link-ed25519.key"
#: The sync key (kiosk.sync.client.AUTH_KEY; named here to keep this module import-light).
AUTH_KEY = "office-auth.key"


class LinkAction(StrEnum):
    ACKNOWLEDGE = "ack"
    APPROVE = "approve"
    DENY = "deny"


class LinkRefusal(StrEnum):
    MALFORMED = "malformed"
    FORGED = "forged"
    REVOKED = "revoked"  # the kiosk that signed it has been revoked at the office
    EXPIRED = "expired"
    USED = "used"
    TOO_LATE = "too_late"  # the visit has moved on (acknowledged, decided, gone)
    NOT_YET = "not_yet"  # the office has not heard of the visit yet (its kiosk is behind)
    FOREIGN = "foreign"  # the visit is of another site than the kiosk that signed the link


class LinkRefused(KioskError):
    """A link that does nothing; `reason` says why (shown to the person who opened it)."""

    def __init__(self, reason: LinkRefusal, message: str) -> None:
        self.reason = reason
        super().__init__(f"{reason.value}: {message}")


@dataclass(frozen=True)
class LinkClaim:
    kiosk_id: str
    link_id: str
    action: LinkAction
    visit_ref: str
    party: str  # who the link was sent to: host | delegate | reception
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def read_link(token: str) -> tuple[LinkClaim, str, bytes]:
    """The claim of a token, NOT yet verified, with the signed text and the signature.
    Raises LinkRefused: MALFORMED for anything not shaped like a v2 link, FORGED for one
    whose claim cannot be read (no kiosk signs such a claim)."""
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[0] != VERSION or len(token) > 600:
        raise LinkRefused(LinkRefusal.MALFORMED, "not a kiosk link")
    _, claim_text, signature_text = parts
    try:
        signature = _unb64(signature_text)
    except (ValueError, binascii.Error) as err:
        raise LinkRefused(LinkRefusal.MALFORMED, "unreadable link") from err
    if len(signature) != 64:
        raise LinkRefused(LinkRefusal.MALFORMED, "unreadable link")
    try:
        fields = _unb64(claim_text).decode("utf-8").split("|")
        kiosk_id, link_id, action, visit_ref, party, expires = fields
        claim = LinkClaim(
            kiosk_id,
            link_id,
            LinkAction(action),
            visit_ref,
            party,
            datetime.fromtimestamp(int(expires), UTC),
        )
    except (ValueError, UnicodeDecodeError, binascii.Error, OverflowError, OSError) as err:
        # A kiosk never signs an unreadable claim: this one was altered.
        raise LinkRefused(LinkRefusal.FORGED, "the link's contents were altered") from err
    if not (kiosk_id and link_id and visit_ref):
        raise LinkRefused(LinkRefusal.FORGED, "the link's contents were altered")
    return claim, claim_text, signature


def verify_link(token: str, public_key: Ed25519PublicKey | str, now: datetime) -> LinkClaim:
    """The claim of a genuine, unexpired token signed by `public_key` (raw hex or a key);
    raises LinkRefused otherwise. Says nothing about earlier use: that is in a database."""
    claim, claim_text, signature = read_link(token)
    try:
        key = (
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
            if isinstance(public_key, str)
            else public_key
        )
        key.verify(signature, SIGNING_PREFIX + claim_text.encode("ascii"))
    except (InvalidSignature, ValueError) as err:
        raise LinkRefused(LinkRefusal.FORGED, "the link's signature does not match") from err
    if now >= claim.expires_at:
        raise LinkRefused(LinkRefusal.EXPIRED, "the link has expired")
    return claim


def load_link_key(keys_dir: Path) -> Ed25519PrivateKey:
    """The key links are signed with: the sync key once enrolled, else the kiosk's own
    link key (created on first use, 0600)."""
    auth = keys_dir / AUTH_KEY
    if auth.exists():
        return load_private_key(auth)
    standalone = keys_dir / STANDALONE_LINK_KEY
    create_private_key(standalone)
    return load_private_key(standalone)


class LinkSigner:
    """Issues this kiosk's link tokens and verifies them; `now` is the kiosk's clock."""

    def __init__(self, key: Ed25519PrivateKey, kiosk_id: str, now: Callable[[], datetime]) -> None:
        if "|" in kiosk_id or not kiosk_id:
            raise ValueError("a kiosk id may not be empty or contain '|'")
        self._key = key
        self.kiosk_id = kiosk_id
        self.public_key_hex = raw_public_key(key.public_key()).hex()
        self._now = now

    def issue(self, action: LinkAction, visit_ref: str, party: str, ttl: timedelta) -> str:
        expires = int((self._now() + ttl).timestamp())
        link_id = secrets.token_hex(8)
        fields = (self.kiosk_id, link_id, action.value, visit_ref, party, str(expires))
        claim = _b64("|".join(fields).encode("utf-8"))
        signature = self._key.sign(SIGNING_PREFIX + claim.encode("ascii"))
        return f"{VERSION}.{claim}.{_b64(signature)}"

    def verify(self, token: str) -> LinkClaim:
        """The claim of a genuine, unexpired link of this kiosk; LinkRefused otherwise."""
        claim = verify_link(token, self._key.public_key(), self._now())
        if claim.kiosk_id != self.kiosk_id:  # signed with our key but naming another kiosk
            raise LinkRefused(LinkRefusal.FORGED, "the link names another kiosk")
        return claim
