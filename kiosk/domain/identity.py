"""Document numbers are kept only as salted hashes (and their last four characters).

The salt is a per-site secret, so the same passport gives the same hash at every kiosk of
the site (for watchlist and appointment matching) and no hash can be reversed by trying all
numbers without it. HMAC-SHA256 is the keyed hash for exactly this use.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata


def normalise_document_number(number: str) -> str:
    """Upper case, no spaces, dashes or MRZ filler: how a number is compared."""
    folded = unicodedata.normalize("NFKC", number).upper()
    return "".join(char for char in folded if char.isalnum())


def hash_document_number(number: str, salt: bytes) -> str:
    """HMAC-SHA256 (hex) of the normalised number, keyed with the site's secret salt."""
    if not salt:
        raise ValueError("a non-empty salt is required to hash a document number")
    normalised = normalise_document_number(number)
    if not normalised:
        raise ValueError("empty document number")
    return hmac.new(salt, normalised.encode("utf-8"), hashlib.sha256).hexdigest()


def last_four(number: str) -> str:
    return normalise_document_number(number)[-4:]
