"""The audit chain and the outbox: the two records every state change writes.

Both are written in the caller's transaction, so a visit's new state, its audit entry and
its outbox event commit together or not at all.

Audit entries are hash-chained: each entry's hash covers its own fields and the previous
entry's hash, so editing or deleting any entry breaks every hash after it.

Outbox events are chained the same way, in seq order (the outbox id, which is the `seq` the
office receives): the office stores the chain and verifies each kiosk's log. The hash
covers a digest of the payload rather than the payload itself, so the office can anonymise
a payload after its retention period and keep the digest: the chain still verifies. The
newest link is kept in KioskState, so the chain goes on after sent events are purged.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peewee import fn

from kiosk.domain.event_chain import GENESIS, canonical_json, event_chain_hash, payload_digest
from kiosk.storage.models import AuditEntry, KioskState, OutboxEvent

#: The chain's hashing lives in kiosk.domain.event_chain (the office verifies it too); kept
#: importable from here for the kiosk's callers.
__all__ = ["AUDIT_ARCHIVE_HEAD", "CHAIN_HEAD", "GENESIS", "ChainReport", "append_audit",
           "audit_rows", "canonical_json", "chain_head", "check_chain",
           "enqueue_event", "event_chain_hash", "payload_digest", "verify_audit_chain"]  # fmt: skip

#: KioskState key of the outbox chain's newest link: "SEQ HASH".
CHAIN_HEAD = "outbox_chain_head"


def _entry_hash(
    prev_hash: str, at_ms: int, actor: str, action: str, subject: str, details: str
) -> str:
    material = canonical_json([prev_hash, at_ms, actor, action, subject, details])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def append_audit(
    at: datetime, actor: str, action: str, subject: str = "", details: dict[str, Any] | None = None
) -> AuditEntry:
    """Append one entry to the chain. Call inside the transaction of the change it records."""
    last = AuditEntry.select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).first()
    prev_hash = last.entry_hash if last else GENESIS
    details_text = canonical_json(details or {})
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
    archived: int = 0  # of the entries, those read from sealed files (kiosk.storage.audit_archive)
    last_hash: str = ""  # the newest entry's hash, where the chain goes on


#: KioskState key of the newest entry moved to a sealed file: "LAST_ID LAST_HASH FILE_NAME"
#: (kiosk.storage.audit_archive); the database's chain goes on from that hash.
AUDIT_ARCHIVE_HEAD = "audit_archive_head"


def check_chain(entries: Iterable[dict[str, Any]], prev_hash: str) -> ChainReport:
    """Walk entries (dicts of the audit columns, `at` in ms) in order from `prev_hash`, and
    report the first that does not verify."""
    count = 0
    for entry in entries:
        count += 1
        if entry["prev_hash"] != prev_hash:
            return ChainReport(
                count, False, entry["id"], "an entry before it was removed or changed"
            )
        expected = _entry_hash(
            prev_hash, entry["at"], entry["actor"], entry["action"], entry["subject"],
            entry["details"],
        )  # fmt: skip
        if expected != entry["entry_hash"]:
            return ChainReport(count, False, entry["id"], "its content was changed")
        prev_hash = entry["entry_hash"]
    return ChainReport(count, True, last_hash=prev_hash)


def audit_rows() -> Iterator[dict[str, Any]]:
    """The database's audit entries in chain order, as check_chain reads them."""
    columns = [field.name for field in AuditEntry._meta.sorted_fields]
    for row in AuditEntry.select().order_by(AuditEntry.id).tuples().iterator():
        entry = dict(zip(columns, row, strict=True))
        if not isinstance(entry["at"], int):
            entry["at"] = int(entry["at"].timestamp() * 1000)
        yield entry


def verify_audit_chain(start_hash: str | None = None) -> ChainReport:
    """Walk the database's chain, from `start_hash` (by default the hash of the newest
    archived entry, or GENESIS when nothing was archived), and report the first entry that
    does not verify. kiosk.storage.audit_archive.verify_with_archives checks the files too."""
    if start_hash is None:
        head = KioskState.get_or_none(KioskState.key == AUDIT_ARCHIVE_HEAD)
        start_hash = head.value.split(" ")[1] if head is not None else GENESIS
    return check_chain(audit_rows(), start_hash)


def chain_head() -> tuple[int, str]:
    """The seq and hash of the newest chained event (0 and GENESIS before the first)."""
    row = KioskState.get_or_none(KioskState.key == CHAIN_HEAD)
    if row is not None:
        seq, _, hash_ = row.value.partition(" ")
        return int(seq), hash_
    last = OutboxEvent.select(OutboxEvent.id).order_by(OutboxEvent.id.desc()).first()
    return (last.id if last else 0), GENESIS


def enqueue_event(
    at: datetime, kind: str, subject_ref: str, payload: dict[str, Any]
) -> OutboxEvent:
    """Queue one event for the office. Call inside the transaction of the change it reports.

    Its id (the seq) is given here, one after the chain's head (or after any row written
    around the chain), rather than left to SQLite, which would reuse the ids of purged
    events."""
    head_seq, prev_hash = chain_head()
    newest = OutboxEvent.select(fn.MAX(OutboxEvent.id)).scalar() or 0
    seq = max(head_seq, newest) + 1
    event_id = uuid.uuid4().hex
    text = canonical_json(payload)
    at_ms = int(at.timestamp() * 1000)
    event_hash = event_chain_hash(prev_hash, seq, event_id, kind, at_ms, payload_digest(text))
    event = OutboxEvent.create(
        id=seq,
        event_id=event_id,
        kind=kind,
        subject_ref=subject_ref,
        payload=text,
        occurred_at=at,
        prev_hash=prev_hash,
        event_hash=event_hash,
    )
    KioskState.insert(key=CHAIN_HEAD, value=f"{seq} {event_hash}").on_conflict_replace().execute()
    return event
