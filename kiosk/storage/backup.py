"""Online backups of the kiosk database, checked and rotated.

`backup_database` copies the database through SQLite's online backup API, so it is safe
while the kiosk writes: in WAL mode the copy reads one consistent snapshot and never blocks
the check-in writer. Each copy is written under a temporary name, checked with
`PRAGMA integrity_check`, flushed to the card and only then renamed into place, so a power
cut leaves either the previous set of backups or the new one, never a torn file. The newest
`keep` backups are kept; older ones are deleted after the new one is safe.

Backups hold personal data: they are created with mode 0600 in a folder of mode 0700.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from kiosk.domain.errors import StorageError

#: kiosk-20261122T023000Z.sqlite3, with -1, -2 ... when two are made in the same second.
BACKUP_NAME = re.compile(r"^kiosk-(\d{8}T\d{6}Z)(?:-(\d+))?\.sqlite3$")
#: Pages copied per step: small steps let a busy writer in between them.
PAGES_PER_STEP = 256


def list_backups(backup_dir: Path | str) -> list[Path]:
    """The finished backups in `backup_dir`, oldest first."""
    folder = Path(backup_dir)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = BACKUP_NAME.match(path.name)
        if match and path.is_file():
            found.append((match.group(1), int(match.group(2) or 0), path))
    return [path for _stamp, _n, path in sorted(found)]


def _new_backup_path(folder: Path, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = folder / f"kiosk-{stamp}.sqlite3"
    counter = 0
    while candidate.exists():
        counter += 1
        candidate = folder / f"kiosk-{stamp}-{counter}.sqlite3"
    return candidate


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if directory else 0)
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _copy(db_path: Path, target: Path) -> None:
    # The source is opened read-only: a backup must never create or migrate a database.
    source = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        source.execute("PRAGMA busy_timeout = 30000")
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(descriptor)
        destination = sqlite3.connect(target)
        try:
            source.backup(destination, pages=PAGES_PER_STEP)
            # One self-contained file: no -wal beside it, whatever the source used.
            destination.execute("PRAGMA journal_mode = DELETE")
            problems = [
                row[0]
                for row in destination.execute("PRAGMA integrity_check").fetchall()
                if row[0] != "ok"
            ]
            if problems:
                raise StorageError(
                    f"the backup of {db_path} failed its integrity check: {'; '.join(problems)}"
                )
        finally:
            destination.close()
    finally:
        source.close()


def backup_database(
    db_path: Path | str,
    backup_dir: Path | str,
    keep: int = 7,
    *,
    now: datetime | None = None,
) -> Path:
    """Copy the live database into `backup_dir`, check it, keep the newest `keep`; return it.

    Raises StorageError when the database is missing or unreadable, or the copy fails its
    integrity check (the previous backups are then left untouched).
    """
    if keep < 1:
        raise ValueError("keep must be at least 1")
    source = Path(db_path)
    if not source.is_file():
        raise StorageError(f"no database to back up at {source}")
    folder = Path(backup_dir)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    final = _new_backup_path(folder, now or datetime.now(UTC))
    partial = final.with_name(final.name + ".partial")
    try:
        _copy(source, partial)
        _fsync_path(partial)
        partial.replace(final)
        _fsync_path(folder, directory=True)
    except sqlite3.Error as err:
        raise StorageError(f"cannot back up {source}: {err}") from err
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    for old in list_backups(folder)[:-keep]:
        old.unlink()
    return final
