"""Files only their owner may read: keys, databases, exports (mode 0600, whatever the umask).

The systemd units set `UMask=0077`, but an admin running `kiosk init`, `kiosk export` or
`kiosk office ...` from a shell usually has umask 022, and SQLite and `open()` then create
files 0644: readable by every account on the machine. The databases hold visitors' photos
and documents, and the office database holds the sites' invitation private keys, so each of
these files is created 0600 here, and an existing one found looser is tightened (and logged).

SQLite creates a database's -wal, -shm and -journal files with the mode of the database
file itself (it copies the mode and chmods past the umask), so a database file made 0600
before SQLite opens it gives 0600 side files too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

PRIVATE_MODE = 0o600
#: Permission bits that let anyone but the owner read, write or run the file.
OTHERS_BITS = 0o077
#: The files SQLite keeps beside a database while it is open (or after a crash).
SQLITE_SIDE_SUFFIXES = ("-wal", "-shm", "-journal")


def sqlite_files(database: Path) -> list[Path]:
    """The database file and the side files SQLite keeps next to it."""
    return [database] + [database.with_name(database.name + s) for s in SQLITE_SIDE_SUFFIXES]


def loose_mode(path: Path) -> int | None:
    """The file's permission bits if group or others have any, else None (also if absent)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    return mode if mode & OTHERS_BITS else None


def tighten(path: Path) -> bool:
    """Make an existing file 0600 if its mode is looser; return True if it was changed."""
    mode = loose_mode(path)
    if mode is None:
        return False
    try:
        os.chmod(path, PRIVATE_MODE)
    except OSError as err:
        # Someone else's file, or a read-only card: still usable; `kiosk doctor` reports it.
        log.warning("%s is readable by others (mode %o), cannot tighten it: %s", path, mode, err)
        return False
    log.warning("%s was readable by others (mode %o); made it %o", path, mode, PRIVATE_MODE)
    return True


def prepare_private_database(database: Path) -> None:
    """Before SQLite opens `database`: create it empty with mode 0600 if missing (SQLite
    takes an empty file for a new database), else tighten it and its side files."""
    database.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: a file made meanwhile by another process is left to the tightening below.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))
    for path in sqlite_files(database):
        tighten(path)


def open_private_text(path: Path | str, *, newline: str | None = None) -> IO[str]:
    """Open `path` for writing text (truncating it) with mode 0600 from the first byte.

    An existing file keeps its inode but loses any looser mode before anything is written."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
    try:
        os.fchmod(descriptor, PRIVATE_MODE)
    except BaseException:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, "w", newline=newline, encoding="utf-8")


def write_private_bytes(path: Path, data: bytes) -> None:
    """Write a secret file atomically (through a temporary file and a rename), mode 0600
    from the first byte, in a folder created 0700 when missing."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(path.suffix + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
    # A temporary file left by a crash keeps its old mode through O_CREAT: set it here.
    os.fchmod(descriptor, PRIVATE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
