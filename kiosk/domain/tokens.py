"""Signed QR tokens: invitations and badges, verified offline with Ed25519.

Wire format (version 1), big-endian, then RFC 4648 base32 without padding. Base32 uses only
characters of the QR alphanumeric mode, so a QR code carries it at 5.5 bits a character,
and a person can read it aloud or paste it on a command line.

    offset size  field
    0      1     version (1)
    1      1     kind (1 invitation, 2 badge, 3 case receipt, 4 parcel pickup)
    2      4     key id: first 4 bytes of SHA-256 of the signer's raw public key
    6      8     token id: random; the unit of replay records and revocation
    14     8     subject: the appointment ref (invitation), the visit ref (badge), the case
                 ref (case receipt) or the parcel ref (parcel pickup)
    22     4     not before, Unix seconds
    26     4     not after, Unix seconds
    -- invitations only --
    30     8     host ref
    38     1     n, bytes of the visitor's name (at most 48, cut on a character boundary)
    39     n     visitor name, UTF-8
    -- always --
    ...    64    Ed25519 signature of every byte before it

An invitation is at most 151 bytes (242 characters) and a badge 94 bytes (151 characters):
both fit a version-10 QR code at error-correction level M (311 alphanumeric characters).

Keys are trusted per kind: a kiosk's badge key can never sign an acceptable invitation,
so a stolen kiosk cannot mint invitations once the invitation key lives at the office.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from kiosk.domain.errors import RejectReason, TokenRejected

VERSION = 1
SIGNATURE_SIZE = 64
MAX_NAME_BYTES = 48
_HEADER = struct.Struct(">BB4s8s8sII")
_INVITATION_EXTRA = struct.Struct(">8sB")
_BASE32_TEXT = re.compile(r"[A-Z2-7]+")

#: Clock skew tolerated at both ends of a validity window.
DEFAULT_LEEWAY = timedelta(minutes=5)


class TokenKind(IntEnum):
    INVITATION = 1
    BADGE = 2
    #: The QR on a case's receipt slip: opens the case's status and its follow-up.
    CASE_RECEIPT = 3
    #: The QR on a parcel's label and in its recipient's message: collects the parcel.
    PARCEL_PICKUP = 4


@dataclass(frozen=True)
class Token:
    """The verified (or about to be signed) content of a token. Refs are 16 hex digits."""

    kind: TokenKind
    key_id: str
    token_id: str
    subject_ref: str
    not_before: datetime
    not_after: datetime
    host_ref: str | None = None
    visitor_name: str | None = None


def new_ref() -> str:
    """A fresh 64-bit identifier as 16 hex digits: refs of visits, appointments and tokens."""
    return secrets.token_hex(8)


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id_for(public_key: Ed25519PublicKey | bytes) -> str:
    raw = public_key if isinstance(public_key, bytes) else raw_public_key(public_key)
    return hashlib.sha256(raw).digest()[:4].hex()


def _cut_utf8(text: str, limit: int) -> bytes:
    """The longest prefix of `text` that encodes to at most `limit` bytes."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return encoded
    return encoded[:limit].decode("utf-8", errors="ignore").encode("utf-8")


def _seconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("token times must be timezone-aware")
    return int(moment.timestamp())


class TokenSigner:
    """Signs tokens with one private key; the key id is derived from its public half."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id_for(self.public_key)

    def sign_invitation(
        self,
        *,
        appointment_ref: str,
        host_ref: str,
        visitor_name: str,
        not_before: datetime,
        not_after: datetime,
        token_id: str | None = None,
    ) -> tuple[str, Token]:
        name = _cut_utf8(visitor_name, MAX_NAME_BYTES)
        token = Token(
            kind=TokenKind.INVITATION,
            key_id=self.key_id,
            token_id=token_id or new_ref(),
            subject_ref=appointment_ref,
            not_before=not_before,
            not_after=not_after,
            host_ref=host_ref,
            visitor_name=name.decode("utf-8"),
        )
        body = self._header(token) + _INVITATION_EXTRA.pack(bytes.fromhex(host_ref), len(name))
        return self._finish(body + name), token

    def sign_badge(
        self,
        *,
        visit_ref: str,
        not_before: datetime,
        not_after: datetime,
        token_id: str | None = None,
    ) -> tuple[str, Token]:
        return self.sign_subject(
            TokenKind.BADGE,
            subject_ref=visit_ref,
            not_before=not_before,
            not_after=not_after,
            token_id=token_id,
        )

    def sign_subject(
        self,
        kind: TokenKind,
        *,
        subject_ref: str,
        not_before: datetime,
        not_after: datetime,
        token_id: str | None = None,
    ) -> tuple[str, Token]:
        """A token that names one subject and nothing more: a badge, a case receipt or a
        parcel pickup (an invitation carries more: see sign_invitation)."""
        if kind is TokenKind.INVITATION:
            raise ValueError("an invitation names its host and visitor: use sign_invitation")
        token = Token(
            kind=kind,
            key_id=self.key_id,
            token_id=token_id or new_ref(),
            subject_ref=subject_ref,
            not_before=not_before,
            not_after=not_after,
        )
        return self._finish(self._header(token)), token

    def _header(self, token: Token) -> bytes:
        return _HEADER.pack(
            VERSION,
            token.kind,
            bytes.fromhex(token.key_id),
            bytes.fromhex(token.token_id),
            bytes.fromhex(token.subject_ref),
            _seconds(token.not_before),
            _seconds(token.not_after),
        )

    def _finish(self, body: bytes) -> str:
        signed = body + self._private_key.sign(body)
        return base64.b32encode(signed).decode("ascii").rstrip("=")


@dataclass
class _TrustedKey:
    # Verification goes through libsodium (PyNaCl): measured here, it checks Ed25519 twice
    # as fast as OpenSSL does through `cryptography`, which keeps the keys and signs.
    public_key: VerifyKey
    revoked: bool


class KeyRing:
    """The public keys a kiosk trusts, each for one kind of token only."""

    def __init__(self) -> None:
        self._keys: dict[tuple[TokenKind, str], _TrustedKey] = {}

    def trust(
        self, kind: TokenKind, public_key: Ed25519PublicKey | bytes, *, revoked: bool = False
    ) -> str:
        raw = public_key if isinstance(public_key, bytes) else raw_public_key(public_key)
        key_id = key_id_for(raw)
        self._keys[(kind, key_id)] = _TrustedKey(VerifyKey(raw), revoked)
        return key_id

    def revoke(self, kind: TokenKind, key_id: str) -> None:
        self._keys[(kind, key_id)].revoked = True

    def lookup(self, kind: TokenKind, key_id: str) -> _TrustedKey | None:
        return self._keys.get((kind, key_id))

    def __len__(self) -> int:
        return len(self._keys)


def decode(text: str) -> bytes:
    """Base32 text to bytes; raises TokenRejected(MALFORMED) for anything else."""
    cleaned = "".join(text.split()).upper().rstrip("=")
    if not cleaned or not _BASE32_TEXT.fullmatch(cleaned):
        raise TokenRejected(RejectReason.MALFORMED, "not a kiosk code")
    if len(cleaned) % 8 in (1, 3, 6):  # lengths base32 can never produce
        raise TokenRejected(RejectReason.MALFORMED, "impossible length")
    try:
        return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except binascii.Error as err:
        raise TokenRejected(RejectReason.MALFORMED, "not a kiosk code") from err


def parse(raw: bytes) -> tuple[Token, bytes, bytes]:
    """Split raw token bytes into (claims, signed body, signature), checking structure only."""
    if not raw:
        raise TokenRejected(RejectReason.MALFORMED, "empty")
    if raw[0] != VERSION:
        if 1 < raw[0] < 16:
            raise TokenRejected(RejectReason.UNSUPPORTED_VERSION, f"version {raw[0]}")
        raise TokenRejected(RejectReason.MALFORMED, "not a kiosk code")
    if len(raw) < _HEADER.size + SIGNATURE_SIZE:
        raise TokenRejected(RejectReason.TRUNCATED, f"{len(raw)} bytes")
    _version, kind_byte, key_id, token_id, subject, not_before, not_after = _HEADER.unpack_from(raw)
    try:
        kind = TokenKind(kind_byte)
    except ValueError as err:
        raise TokenRejected(RejectReason.MALFORMED, f"unknown kind {kind_byte}") from err
    host_ref = visitor_name = None
    end = _HEADER.size
    if kind is TokenKind.INVITATION:
        if len(raw) < end + _INVITATION_EXTRA.size + SIGNATURE_SIZE:
            raise TokenRejected(RejectReason.TRUNCATED, f"{len(raw)} bytes")
        host_bytes, name_size = _INVITATION_EXTRA.unpack_from(raw, end)
        end += _INVITATION_EXTRA.size
        if name_size > MAX_NAME_BYTES:
            raise TokenRejected(RejectReason.MALFORMED, "name field too long")
        name_bytes = raw[end : end + name_size]
        end += name_size
        host_ref = host_bytes.hex()
        try:
            visitor_name = name_bytes.decode("utf-8")
        except UnicodeDecodeError as err:
            # Could be a cut-off token too; the length check below tells which.
            if len(raw) < end + SIGNATURE_SIZE:
                raise TokenRejected(RejectReason.TRUNCATED, f"{len(raw)} bytes") from err
            raise TokenRejected(RejectReason.MALFORMED, "name is not UTF-8") from err
    if len(raw) < end + SIGNATURE_SIZE:
        raise TokenRejected(RejectReason.TRUNCATED, f"{len(raw)} bytes")
    if len(raw) > end + SIGNATURE_SIZE:
        raise TokenRejected(RejectReason.MALFORMED, "trailing bytes")
    token = Token(
        kind=kind,
        key_id=key_id.hex(),
        token_id=token_id.hex(),
        subject_ref=subject.hex(),
        not_before=datetime.fromtimestamp(not_before, UTC),
        not_after=datetime.fromtimestamp(not_after, UTC),
        host_ref=host_ref,
        visitor_name=visitor_name,
    )
    return token, raw[:end], raw[end:]


class TokenVerifier:
    """Checks structure, signature and validity window; stateless about replays.

    Replays, revocations and checked-out visits need the database and are checked by the
    check-in engine after this passes.
    """

    def __init__(
        self,
        keyring: KeyRing,
        now: Callable[[], datetime],
        leeway: timedelta = DEFAULT_LEEWAY,
    ) -> None:
        self._keyring = keyring
        self._now = now
        self._leeway = leeway

    def verify(self, text: str, expected: TokenKind, *, allow_expired: bool = False) -> Token:
        """Return the token's claims or raise TokenRejected with the reason.

        `allow_expired` still checks everything but the end of the window: a visitor whose
        badge ran out must still be able to check out with it.
        """
        token, body, signature = parse(decode(text))
        trusted = self._keyring.lookup(token.kind, token.key_id)
        if trusted is None:
            raise TokenRejected(RejectReason.UNKNOWN_KEY, f"key {token.key_id}")
        try:
            trusted.public_key.verify(body, signature)
        except BadSignatureError as err:
            raise TokenRejected(RejectReason.BAD_SIGNATURE, "altered or forged") from err
        if trusted.revoked:
            raise TokenRejected(RejectReason.KEY_REVOKED, f"key {token.key_id}")
        if token.kind is not expected:
            raise TokenRejected(
                RejectReason.WRONG_KIND,
                f"a {token.kind.name.lower()}, not a {expected.name.lower()}",
            )
        now = self._now()
        if now + self._leeway < token.not_before:
            raise TokenRejected(
                RejectReason.NOT_YET_VALID, f"valid from {token.not_before.isoformat()}"
            )
        if now - self._leeway > token.not_after and not allow_expired:
            raise TokenRejected(RejectReason.EXPIRED, f"expired {token.not_after.isoformat()}")
        return token
