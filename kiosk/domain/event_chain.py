"""The hashing of a kiosk's event chain, the same at the kiosk that writes it
(kiosk.storage.journal) and at the office that verifies it (kiosk.office.reporting).

Each outbox event's link hashes the previous link, its seq, id, kind, time and a digest of
its canonical payload text (not the payload itself, so the office can anonymise a payload
after its retention period and the chain still verifies).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

#: The previous hash of a chain's first link.
GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """The one text of a JSON value that both the kiosk and the office hash."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def payload_digest(payload_text: str) -> str:
    """SHA-256 of an event's canonical payload text."""
    return hashlib.sha256(payload_text.encode("utf-8")).hexdigest()


def event_chain_hash(
    prev_hash: str, seq: int, event_id: str, kind: str, occurred_at_ms: int, digest: str
) -> str:
    """The hash of one outbox event's link in the chain."""
    material = canonical_json([prev_hash, seq, event_id, kind, occurred_at_ms, digest])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()
