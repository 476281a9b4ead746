"""Sealed archives of the audit chain: entries older than `[retention]
audit_in_database_days` leave the database for compressed files beside it, whole and still
chained, so that the database, and each night's backup of it, stops growing with the years
(a year's kiosk held 790,000 audit entries, 250 MB of its 611 MB: make growth).

- Each run moves the oldest entries, at most BATCH at a time, to
  `audit-archive/audit-<first id>.jsonl.gz` beside the database: one JSON object a line,
  every column as stored, hashes included. The file is written under a temporary name,
  flushed to the card, renamed and its folder flushed; then it is read back and its chain
  checked (each entry links to the one before, each hash recomputes) before any entry
  leaves the database.
- The entries are then deleted in one transaction with the new archive head (KioskState:
  the last archived id, its hash and its file). Only this transaction lifts the
  append-only trigger, and puts it back before it commits.
- A power cut between the file and that transaction leaves a file beyond the head: it is
  ignored by verification and written again, whole, by the next run (same first id, same
  name). Nothing is deleted that is not already in a checked file on the card.

`verify_with_archives` walks the sealed files in order and then the database, as one
chain from GENESIS (`kiosk audit verify`); kiosk.storage.journal's verify_audit_chain, for
the database alone, starts from the head's hash.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from peewee import Database, fn

from kiosk.domain.errors import KioskError
from kiosk.storage.journal import (
    AUDIT_ARCHIVE_HEAD,
    GENESIS,
    ChainReport,
    audit_rows,
    check_chain,
    verify_audit_chain,
)
from kiosk.storage.models import AuditEntry, KioskState

ARCHIVE_DIR_NAME = "audit-archive"
#: Entries a file holds at most (about 8 MB of JSON, 1.5 MB compressed).
BATCH = 50_000
#: The append-only guard on deletion, as migration v1 made it.
_NO_DELETE_TRIGGER = (
    'CREATE TRIGGER "audit_entry_no_delete" BEFORE DELETE ON "audit_entry" '
    "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;"
)


class ArchiveError(KioskError):
    """The archive could not be written or does not check; the database was left as it was."""


@dataclass
class ArchiveReport:
    archived: int = 0
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class ArchiveHead:
    last_id: int
    last_hash: str
    file_name: str


def archive_dir(database_path: Path) -> Path:
    return database_path.parent / ARCHIVE_DIR_NAME


def archive_head() -> ArchiveHead | None:
    row = KioskState.get_or_none(KioskState.key == AUDIT_ARCHIVE_HEAD)
    if row is None:
        return None
    last_id, last_hash, file_name = row.value.split(" ", 2)
    return ArchiveHead(int(last_id), last_hash, file_name)


def archive_audit(db: Database, folder: Path, before: datetime) -> ArchiveReport:
    """Move the audit entries recorded before `before` into sealed files in `folder`."""
    report = ArchiveReport()
    cutoff_ms = int(before.timestamp() * 1000)
    while True:
        rows = _oldest_rows(cutoff_ms)
        if not rows:
            return report
        head = archive_head()
        expected_prev = head.last_hash if head else GENESIS
        chain = check_chain(rows, expected_prev)
        if not chain.intact:  # a broken chain is kept where `kiosk audit verify` shows it
            raise ArchiveError(
                f"the audit chain is broken at entry {chain.first_broken_id} "
                f"({chain.problem}); nothing was archived"
            )
        path = folder / f"audit-{rows[0]['id']:010d}.jsonl.gz"
        _write_sealed(path, rows)
        try:
            checked = check_chain(read_archive(path), expected_prev)
        except (OSError, EOFError, ValueError, KeyError) as err:  # the card gave back garbage
            raise ArchiveError(
                f"{path.name} cannot be read back ({err}); nothing was removed"
            ) from err
        if checked.entries != len(rows) or not checked.intact:
            raise ArchiveError(f"{path.name} does not read back as written; nothing was removed")
        _remove_archived(db, rows[-1], path.name)
        report.archived += len(rows)
        report.files.append(path.name)


def _oldest_rows(cutoff_ms: int) -> list[dict[str, Any]]:
    """The chain's oldest entries up to the first recorded at or after the cutoff: always a
    prefix of the chain (a clock set back must not leave a hole that the deletion by id
    would take with it). The newest entry always stays: the next one chains from it, and
    SQLite would give an emptied table's next entry the id 1 again."""
    newest = AuditEntry.select(fn.MAX(AuditEntry.id)).scalar() or 0
    older = itertools.takewhile(
        lambda entry: entry["at"] < cutoff_ms and entry["id"] < newest, audit_rows()
    )
    return list(itertools.islice(older, BATCH))


def _write_sealed(path: Path, rows: list[dict[str, Any]]) -> None:
    temporary = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Readable by the kiosk user alone, as its database is, whatever the umask.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed:
                for row in rows:
                    line = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
                    packed.write(line.encode("utf-8") + b"\n")
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, path)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError as err:
        temporary.unlink(missing_ok=True)
        raise ArchiveError(
            f"the audit archive could not be written ({err}); nothing was removed"
        ) from err


def _remove_archived(db: Database, last: dict[str, Any], file_name: str) -> None:
    with db.atomic():
        db.execute_sql('DROP TRIGGER "audit_entry_no_delete"')
        db.execute_sql('DELETE FROM "audit_entry" WHERE "id" <= ?', (last["id"],))
        db.execute_sql(_NO_DELETE_TRIGGER)
        value = f"{last['id']} {last['entry_hash']} {file_name}"
        KioskState.insert(key=AUDIT_ARCHIVE_HEAD, value=value).on_conflict_replace().execute()


def archived_files(folder: Path, head: ArchiveHead | None) -> list[Path]:
    """The sealed files, oldest first, up to the head (a file beyond it is a leftover of a
    run cut short, written again by the next)."""
    if head is None or not folder.is_dir():
        return []
    files = sorted(folder.glob("audit-*.jsonl.gz"))
    return [path for path in files if path.name <= head.file_name]


def read_archive(path: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def verify_with_archives(folder: Path) -> ChainReport:
    """The whole chain: each sealed file in order from GENESIS, then the database."""
    head = archive_head()
    prev_hash, archived = GENESIS, 0
    for path in archived_files(folder, head):
        try:
            part = check_chain(read_archive(path), prev_hash)
        except (OSError, EOFError, ValueError, KeyError) as err:  # cut, garbled or not ours
            return ChainReport(archived, False, None, f"{path.name} cannot be read ({err})")
        archived += part.entries
        if not part.intact:
            return ChainReport(
                archived, False, part.first_broken_id, f"{path.name}: {part.problem}",
                archived=archived,
            )  # fmt: skip
        prev_hash = part.last_hash
    if head is not None and prev_hash != head.last_hash:
        return ChainReport(
            archived, False, head.last_id + 1,
            f"archived entries up to {head.last_id} are missing from {folder}",
            archived=archived,
        )  # fmt: skip
    rest = verify_audit_chain(prev_hash)
    return ChainReport(
        archived + rest.entries, rest.intact, rest.first_broken_id, rest.problem,
        archived=archived, last_hash=rest.last_hash,
    )  # fmt: skip
