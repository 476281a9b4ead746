"""What travels between kiosk and office, shared by both ends.

Every request after enrolment is signed by the kiosk with its own Ed25519 key:

    X-Kiosk-Id:        the kiosk's id
    X-Kiosk-Time:      milliseconds since the epoch, on the office's clock as the kiosk
                       estimates it (its own clock corrected by the skew it measured)
    X-Kiosk-Nonce:     16 random bytes, hex; the office refuses a nonce it has seen
    X-Kiosk-Signature: base64 Ed25519 signature of signing_string(...)

The signed string covers the method, the path with its query, the time, the nonce and the
SHA-256 of the body, so a request can be neither altered nor replayed.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

HEADER_KIOSK = "X-Kiosk-Id"
HEADER_TIME = "X-Kiosk-Time"
HEADER_NONCE = "X-Kiosk-Nonce"
HEADER_SIGNATURE = "X-Kiosk-Signature"
#: How far a request's time may be from the office's clock.
MAX_REQUEST_AGE_MS = 5 * 60 * 1000

#: Event kinds a kiosk may send; anything else is rejected, event by event.
EVENT_KINDS = frozenset(
    {
        "visit.expected",
        "visit.checked_in",
        "visit.awaiting_host",
        "visit.host_acknowledged",
        "visit.checked_out",
        "visit.denied",
        "visit.no_show",
        "visit.rated",
        "notification.visitor_arrived",
        "notification.approval_request",
        "notification.vip_arrived",
        "notification.message_left",
        # A message the kiosk could not deliver, for the office to send (kiosk.notify).
        "notification.forward",
        "security.alert",
        "device.problem",
        "token.revoked",
    }
)


def signing_string(method: str, path: str, time_ms: int, nonce: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path}\n{time_ms}\n{nonce}\n{digest}".encode()


def sign_request(
    key: Ed25519PrivateKey, kiosk_id: str, method: str, path: str, body: bytes, time_ms: int
) -> dict[str, str]:
    nonce = secrets.token_hex(16)
    signature = key.sign(signing_string(method, path, time_ms, nonce, body))
    return {
        HEADER_KIOSK: kiosk_id,
        HEADER_TIME: str(time_ms),
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: base64.b64encode(signature).decode("ascii"),
    }


def signature_is_valid(
    public_key_hex: str,
    method: str,
    path: str,
    time_ms: int,
    nonce: str,
    body: bytes,
    signature: str,
) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(
            base64.b64decode(signature, validate=True),
            signing_string(method, path, time_ms, nonce, body),
        )
    except (InvalidSignature, ValueError):
        return False
    return True
