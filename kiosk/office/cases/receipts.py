"""The case receipt's QR at the office: a CASE_RECEIPT token (kiosk.domain.tokens), signed
by the badge key of the kiosk that opened the case, checked here with that kiosk's
registered public key. Only a genuine token of an enrolled, unrevoked kiosk, naming a case
of that kiosk's site, opens the public status page; anything else is None (a plain 404)."""

from __future__ import annotations

from datetime import datetime

from kiosk.domain.errors import TokenRejected
from kiosk.domain.tokens import KeyRing, TokenKind, TokenVerifier, decode, key_id_for, parse
from kiosk.office.cases.models import Case
from kiosk.office.models import Kiosk


def case_of_receipt(token_text: str, now: datetime) -> Case | None:
    """The case a receipt's token names, or None if the token is not genuine."""
    text = token_text.rsplit("/c/", 1)[-1].strip()
    if not text or len(text) > 400:
        return None
    try:
        claimed, _body, _signature = parse(decode(text))
    except (TokenRejected, ValueError):
        return None
    signer = next(
        (
            kiosk
            for kiosk in Kiosk.select(Kiosk.id, Kiosk.site, Kiosk.badge_public_key).where(
                Kiosk.revoked_at.is_null()
            )
            if key_id_for(bytes.fromhex(kiosk.badge_public_key)) == claimed.key_id
        ),
        None,
    )
    if signer is None:
        return None
    keys = KeyRing()
    keys.trust(TokenKind.CASE_RECEIPT, bytes.fromhex(signer.badge_public_key))
    try:
        token = TokenVerifier(keys, lambda: now).verify(text, TokenKind.CASE_RECEIPT)
    except (TokenRejected, ValueError):
        return None
    return Case.get_or_none((Case.ref == token.subject_ref) & (Case.site == signer.site_id))
