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
import hmac
import json
import secrets
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.domain.values import VisitState

HEADER_KIOSK = "X-Kiosk-Id"
HEADER_TIME = "X-Kiosk-Time"
HEADER_NONCE = "X-Kiosk-Nonce"
HEADER_SIGNATURE = "X-Kiosk-Signature"
#: How far a request's time may be from the office's clock.
MAX_REQUEST_AGE_MS = 5 * 60 * 1000


class EventKind(StrEnum):
    """Every kind of event a kiosk sends, named once: the code everywhere uses these members
    (a StrEnum, so they are stored, hashed and compared as their strings)."""

    VISIT_EXPECTED = "visit.expected"
    VISIT_CHECKED_IN = "visit.checked_in"
    VISIT_AWAITING_HOST = "visit.awaiting_host"
    VISIT_HOST_ACKNOWLEDGED = "visit.host_acknowledged"
    VISIT_CHECKED_OUT = "visit.checked_out"
    VISIT_DENIED = "visit.denied"
    VISIT_NO_SHOW = "visit.no_show"
    VISIT_RATED = "visit.rated"
    NOTIFICATION_VISITOR_ARRIVED = "notification.visitor_arrived"
    NOTIFICATION_APPROVAL_REQUEST = "notification.approval_request"
    NOTIFICATION_VIP_ARRIVED = "notification.vip_arrived"
    NOTIFICATION_MESSAGE_LEFT = "notification.message_left"
    #: A message the kiosk could not deliver, for the office to send (kiosk.notify).
    NOTIFICATION_FORWARD = "notification.forward"
    #: A short link's code and the link it names, for text messages (kiosk.notify).
    LINK_SHORT = "link.short"
    SECURITY_ALERT = "security.alert"
    DEVICE_PROBLEM = "device.problem"
    TOKEN_REVOKED = "token.revoked"
    #: A case (complaint, repair, suggestion, inquiry) reported at a kiosk (issue 19).
    CASE_OPENED = "case.opened"
    #: The reporter's answer to a case's follow-up, given at a kiosk.
    CASE_FOLLOWED_UP = "case.followed_up"
    #: The duty staff told of a new case (kiosk.notify).
    NOTIFICATION_CASE_OPENED = "notification.case_opened"
    #: A parcel left at a kiosk for a recipient (issue 20).
    DELIVERY_LOGGED = "delivery.logged"
    #: A parcel collected at a kiosk, by its recipient or someone they named.
    DELIVERY_COLLECTED = "delivery.collected"
    #: A recipient told a parcel waits for them (kiosk.notify).
    NOTIFICATION_DELIVERY_WAITING = "notification.delivery_waiting"


#: Event kinds a kiosk may send; anything else is rejected, event by event.
EVENT_KINDS = frozenset(EventKind)


def visit_event_kind(state: VisitState) -> EventKind:
    """The event that reports a visit's move into `state`: `visit.<state>`."""
    return EventKind(f"visit.{state.value}")


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


# ---------------------------------------------------------------- the office's side of it
#
# Every answer of the office to a signed request is signed too, with the office's own
# Ed25519 key(s), which the kiosk pinned at enrolment:
#
#     X-Office-Keys:      the office's current public keys, hex, comma-separated
#     X-Office-Signature: one base64 signature of answer_signing_string(...) per key
#
# The string covers the status, the nonce of the request answered (so an answer cannot be
# replayed to another request), the office's time header and the SHA-256 of the body.
#
# Enrolment comes first and has no keys to check yet: the one-time code is the shared
# secret. Both sides derive a key from it with scrypt; the kiosk sends an id derived from
# that key and an HMAC over its request, never the code, and the office answers with an
# HMAC over its answer (the office's keys included). A proxy that does not know the code
# can neither alter the request nor substitute its own office key.

HEADER_OFFICE_KEYS = "X-Office-Keys"
HEADER_OFFICE_SIGNATURE = "X-Office-Signature"
HEADER_OFFICE_TIME = "X-Office-Time"


def answer_signing_string(status: int, nonce: str, office_time: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return f"{status}\n{nonce}\n{office_time}\n{digest}".encode()


def sign_answer(
    keys: list[Ed25519PrivateKey], status: int, nonce: str, office_time: str, body: bytes
) -> dict[str, str]:
    """The headers that sign an answer with each of the office's current keys."""
    message = answer_signing_string(status, nonce, office_time, body)
    publics = [key.public_key().public_bytes_raw().hex() for key in keys]
    signatures = [base64.b64encode(key.sign(message)).decode("ascii") for key in keys]
    return {HEADER_OFFICE_KEYS: ",".join(publics), HEADER_OFFICE_SIGNATURE: ",".join(signatures)}


def answer_signed_by(
    pinned: set[str], headers: dict[str, str], status: int, nonce: str, body: bytes
) -> str | None:
    """The pinned office key (hex) whose signature of this answer verifies, or None."""
    publics = headers.get(HEADER_OFFICE_KEYS.lower(), "").split(",")
    signatures = headers.get(HEADER_OFFICE_SIGNATURE.lower(), "").split(",")
    message = answer_signing_string(
        status, nonce, headers.get(HEADER_OFFICE_TIME.lower(), ""), body
    )
    for public, signature in zip(publics, signatures, strict=False):
        if public not in pinned:
            continue
        try:
            key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public))
            key.verify(base64.b64decode(signature, validate=True), message)
        except (InvalidSignature, ValueError):
            continue
        return public
    return None


def enrolment_key(code: str) -> bytes:
    """The key both ends derive from a one-time enrolment code (scrypt: slow on purpose, so
    that the code cannot be found from what crosses the network while it is still unused)."""
    normalised = code.strip().upper().encode()
    return hashlib.scrypt(normalised, salt=b"lobby-kiosk enrolment", n=2**14, r=8, p=1, dklen=32)


def enrolment_code_id(key: bytes) -> str:
    """How the kiosk names its code to the office without sending it."""
    return hmac.new(key, b"code id", hashlib.sha256).hexdigest()[:32]


def enrolment_mac(key: bytes, purpose: str, fields: dict[str, object]) -> str:
    """An HMAC over the fields of an enrolment request or answer (`purpose` tells which)."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, f"{purpose}\n{text}".encode(), hashlib.sha256).hexdigest()


def fingerprint(public_key_hex: str) -> str:
    """A key as a person compares it (kiosk doctor, the office's settings): the first 16
    hex digits of the public key, in groups of four."""
    head = public_key_hex[:16]
    return " ".join(head[i : i + 4] for i in range(0, 16, 4))
