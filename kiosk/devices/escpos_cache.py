"""python-escpos's printer profiles, parsed once per machine instead of once per process.

On import, python-escpos reads its capabilities file (a large YAML, ~0.7 s of pure-Python
parsing, over 3 s on a busy Pi) and caches it as a pickle in ESCPOS_CAPABILITIES_PICKLE_DIR,
or, unset, in a new temporary folder each time: every `kiosk` command paid the parse again
(`make run` runs four) and left a folder in /tmp. This points it at the kiosk's cache
folder, once, before python-escpos is imported (kiosk.devices imports this first). A folder
that cannot be made leaves python-escpos to its own default.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

VARIABLE = "ESCPOS_CAPABILITIES_PICKLE_DIR"


def profile_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lobby-kiosk" / "escpos"


def use_profile_cache() -> None:
    chosen = os.environ.get(VARIABLE)
    if chosen and _usable(Path(chosen)):
        return  # chosen by whoever runs the kiosk
    # Unset, or inherited from a process of another user (root's cache, say, in a command
    # run through runuser) that this one cannot read: python-escpos would fail on it.
    folder = profile_cache_dir()
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
    if _usable(folder):
        os.environ[VARIABLE] = str(folder)
    elif chosen:
        del os.environ[VARIABLE]  # python-escpos's own default: a temporary folder


def _usable(folder: Path) -> bool:
    # os.path.isdir, not Path.is_dir: on Python 3.11 the latter raises on a folder it cannot reach.
    return os.path.isdir(folder) and os.access(folder, os.R_OK | os.W_OK | os.X_OK)
