"""Online backups of the kiosk database, checked and rotated.

`backup_database` copies the database through SQLite's online backup API, so it is safe
while the kiosk writes: in WAL mode the copy reads one consistent snapshot and never blocks
the check-in writer. Each copy is written under a temporary name, checked, flushed to the
card and only then renamed into place, so a power cut leaves either the previous set of
backups or the new one, never a torn file. The newest `keep` backups are kept; older ones
are deleted after the new one is safe.

The check (issue 21): `PRAGMA quick_check` by default, `PRAGMA integrity_check` with
`full_check`. quick_check reads every page once and checks what a torn or damaged file
breaks: each b-tree page's header, cells and order, the pages each tree and the free list
own (a missing, zeroed or doubly used page is found), every record's format, NOT NULL and
CHECK. What it does not see, and integrity_check does, is an index whose entries disagree
with its table's rows (and so a broken UNIQUE): integrity_check looks up every row in every
index, which costs rows x indexes x log(rows), not the file's pages. A year's kiosk keeps
110,000 anonymised visits, visitors, badges and appointments for its counts, each with its
indexes: integrity_check took 1.5 s of its backup against 0.4 s for a month's kiosk of 0.6
times its size, quick_check 0.3 s against 0.2 s (make growth). So the nightly copy uses
quick_check: a torn, truncated or overwritten copy is refused. A byte changed inside an
index entry's key (a bit flip on the card, in the live database, that the copy carries)
passes it; `kiosk backup --full-check` and `kiosk doctor` (the live database) run the full
check and find that, and so does `kiosk nightly` once a week: `full_check_due` says when the
last full check that passed (its time in `.last-full-check` beside the backups) is 7 days old
or more, so a kiosk that was off on the day does it on its next night.

Backups hold personal data: they are created with mode 0600 in a folder of mode 0700.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.domain.errors import StorageError

#: kiosk-20261122T023000Z.sqlite3, with -1, -2 ... when two are made in the same second.
BACKUP_NAME = re.compile(r"^kiosk-(\d{8}T\d{6}Z)(?:-(\d+))?\.sqlite3$")
#: Pages copied per step: small steps let a busy writer in between them.
PAGES_PER_STEP = 256
#: Beside the backups: when a backup last passed integrity_check (ISO 8601, UTC).
FULL_CHECK_MARK = ".last-full-check"
#: How often the nightly backup runs the full check.
FULL_CHECK_EVERY = timedelta(days=7)


def full_check_due(backup_dir: Path | str, now: datetime) -> bool:
    """Whether the next backup should run integrity_check: no full check has passed yet,
    or the last one is FULL_CHECK_EVERY old (a mark that cannot be read counts as none)."""
    mark = Path(backup_dir) / FULL_CHECK_MARK
    try:
        last = datetime.fromisoformat(mark.read_text(encoding="ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return True
    if last.tzinfo is None:
        return True
    return now - last >= FULL_CHECK_EVERY or last > now


def _mark_full_check(folder: Path, now: datetime) -> None:
    # The backup is already safe: a mark that cannot be written (a full card) only means
    # the full check runs again the next night.
    partial = folder / (FULL_CHECK_MARK + ".partial")
    try:
        partial.write_text(now.astimezone(UTC).isoformat() + "\n", encoding="ascii")
        _fsync_path(partial)
        partial.replace(folder / FULL_CHECK_MARK)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink()


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


def _copy(db_path: Path, target: Path, check: str) -> None:
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
                for row in destination.execute(f"PRAGMA {check}").fetchall()
                if row[0] != "ok"
            ]
            if problems:
                raise StorageError(
                    f"the backup of {db_path} failed its {check}: {'; '.join(problems)}"
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
    full_check: bool = False,
) -> Path:
    """Copy the live database into `backup_dir`, check it, keep the newest `keep`; return it.

    The copy is checked with quick_check, or with integrity_check when `full_check` (see the
    module's docstring for what each sees). Raises StorageError when the database is missing
    or unreadable, or the copy fails its check (the previous backups are then left untouched).
    """
    if keep < 1:
        raise ValueError("keep must be at least 1")
    source = Path(db_path)
    if not source.is_file():
        raise StorageError(f"no database to back up at {source}")
    folder = Path(backup_dir)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = now or datetime.now(UTC)
    final = _new_backup_path(folder, now)
    partial = final.with_name(final.name + ".partial")
    try:
        _copy(source, partial, "integrity_check" if full_check else "quick_check")
        _fsync_path(partial)
        partial.replace(final)
        if full_check:
            _mark_full_check(folder, now)
        _fsync_path(folder, directory=True)
    except sqlite3.Error as err:
        raise StorageError(f"cannot back up {source}: {err}") from err
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    for old in list_backups(folder)[:-keep]:
        old.unlink()
    return final
