"""The audit chain and the outbox: the two records every state change writes.

Both are written in the caller's transaction, so a visit's new state, its audit entry and
its outbox event commit together or not at all.

Audit entries are hash-chained: each entry's hash covers its own fields and the previous
entry's hash, so editing or deleting any entry breaks every hash after it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiosk.storage.models import AuditEntry, OutboxEvent

GENESIS = "0" * 64


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _entry_hash(
    prev_hash: str, at_ms: int, actor: str, action: str, subject: str, details: str
) -> str:
    material = _canonical([prev_hash, at_ms, actor, action, subject, details])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def append_audit(
    at: datetime, actor: str, action: str, subject: str = "", details: dict[str, Any] | None = None
) -> AuditEntry:
    """Append one entry to the chain. Call inside the transaction of the change it records."""
    last = AuditEntry.select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).first()
    prev_hash = last.entry_hash if last else GENESIS
    details_text = _canonical(details or {})
    at_ms = int(at.timestamp() * 1000)
    entry_hash = _entry_hash(prev_hash, at_ms, actor, action, subject, details_text)
    return AuditEntry.create(
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        details=details_text,
        prev_hash=prev_hash,
        entry_hash=entry_hash,
    )


@dataclass(frozen=True)
class ChainReport:
    entries: int
    intact: bool
    first_broken_id: int | None = None
    problem: str = ""


def verify_audit_chain() -> ChainReport:
    """Walk the whole chain and report the first entry that does not verify."""
    prev_hash = GENESIS
    count = 0
    query = AuditEntry.select().order_by(AuditEntry.id).tuples().iterator()
    columns = [field.name for field in AuditEntry._meta.sorted_fields]
    for row in query:
        entry = dict(zip(columns, row, strict=True))
        count += 1
        if entry["prev_hash"] != prev_hash:
            return ChainReport(
                count, False, entry["id"], "an entry before it was removed or changed"
            )
        expected = _entry_hash(
            prev_hash,
            entry["at"] if isinstance(entry["at"], int) else int(entry["at"].timestamp() * 1000),
            entry["actor"],
            entry["action"],
            entry["subject"],
            entry["details"],
        )
        if expected != entry["entry_hash"]:
            return ChainReport(count, False, entry["id"], "its content was changed")
        prev_hash = entry["entry_hash"]
    return ChainReport(count, True)


def enqueue_event(
    at: datetime, kind: str, subject_ref: str, payload: dict[str, Any]
) -> OutboxEvent:
    """Queue one event for the office. Call inside the transaction of the change it reports."""
    return OutboxEvent.create(
        event_id=uuid.uuid4().hex,
        kind=kind,
        subject_ref=subject_ref,
        payload=_canonical(payload),
        occurred_at=at,
    )
