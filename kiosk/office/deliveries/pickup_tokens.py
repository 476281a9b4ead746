"""The pickup tokens the office forwards (issue 20; contract amendment of 2026-12-07,
deliv2): a kiosk's `delivery.logged` carries the parcel's signed pickup token
(`pickup_token`), so that the office's reminders show the same pickup QR as the first
message did.

The office never makes one: it holds no kiosk's private key, and this module only
VERIFIES what a kiosk sent, with that kiosk's own badge public key (the key the kiosk
registered, which also signs its badges). A token that is not that kiosk's signature,
names another parcel or another token id, or is not a pickup token, refuses the event
with the reason; the QR image is drawn from the token's text as it came (segno).

A token is a bearer credential for one parcel: the office keeps it only while the
parcel waits (the intake blanks it on collection, the ledger on return) and no page or
API shows it.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import segno

from kiosk.domain.errors import TokenRejected
from kiosk.domain.tokens import KeyRing, TokenKind, TokenVerifier

#: Longer than any token the kiosk signs (~120 characters of base32), short of abuse.
PICKUP_TOKEN_MAX = 400
FIELD = "payload.pickup_token"


def pickup_token_problem(
    payload: dict[str, Any], badge_public_key_hex: str, logged_at: datetime
) -> str:
    """Why `payload["pickup_token"]` is not this kiosk's pickup token for this parcel
    ("" when it is, or when there is none: a kiosk of before the amendment sends none)."""
    token = payload.get("pickup_token", "")
    if token == "":
        return ""
    if not isinstance(token, str) or len(token) > PICKUP_TOKEN_MAX or not token.isascii():
        return f"{FIELD}: must be the pickup token's text (ASCII, at most {PICKUP_TOKEN_MAX})"
    keys = KeyRing()
    keys.trust(TokenKind.PARCEL_PICKUP, bytes.fromhex(badge_public_key_hex))
    # Checked as of the logging: an event pushed after days offline is not "expired".
    verifier = TokenVerifier(keys, lambda: logged_at)
    try:
        claims = verifier.verify(token, TokenKind.PARCEL_PICKUP, allow_expired=True)
    except TokenRejected as err:
        return f"{FIELD}: not a pickup token signed by this kiosk ({err.reason.value})"
    if claims.subject_ref != payload.get("parcel_ref"):
        return f"{FIELD}: names another parcel ({claims.subject_ref})"
    if claims.token_id != payload.get("token_id"):
        return f"{FIELD}: its id {claims.token_id} is not the payload's token_id"
    return ""


def pickup_qr_png(token: str) -> bytes:
    """The pickup QR as the kiosk's first message draws it (kiosk.notify.parcels)."""
    buffer = io.BytesIO()
    segno.make(token, error="m", micro=False).save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()
