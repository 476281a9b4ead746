"""Giving the C heap's free pages back to the system, between visitors.

A visit frees much (label textures, the photo, a badge's bitmaps and font faces) between
blocks still in use, and glibc keeps such pages resident: malloc_trim returns them (~20 MB
after a round of every flow, in each of the kiosk's two processes). A libc without it
(musl) is left alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util


def give_back_free_memory(*_args: object) -> None:
    """Ignores its arguments, so that it can be scheduled on Kivy's clock directly."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
