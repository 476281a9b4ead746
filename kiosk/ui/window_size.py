"""How big the kiosk window is, decided before Kivy opens it.

Kivy's own choice goes wrong on X: without a size it opens 800x600 whatever the screen, and
full screen (SDL's "desktop" full screen) lays out for the whole screen while the window,
with no window manager to enlarge it (a bare X server, Xvfb), stays 800x600: the layout is
cropped. So on X the window is given the X screen's size (read through libX11, which SDL
loads for X anyway) unless `kiosk run --size` names one, and full screen always asks for the
screen's size: with a window manager the window goes full screen, without one it already
fills the screen.

On the Pi's console there is no X: SDL draws through KMS at the display's mode, and Kivy
gets the size from SDL as before (`screen_size` answers None there).
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import time

log = logging.getLogger(__name__)

_CONNECT_ATTEMPTS = 5
_SIZE = re.compile(r"^([1-9][0-9]{1,4})x([1-9][0-9]{1,4})$")


def parse_size(text: str) -> tuple[int, int]:
    """`"1280x800"` as (1280, 800); ValueError for anything else."""
    found = _SIZE.match(text.strip())
    if not found:
        raise ValueError(f"{text!r} is not a window size like 1280x800")
    return int(found.group(1)), int(found.group(2))


def screen_size() -> tuple[int, int] | None:
    """The size of $DISPLAY's default X screen in pixels, or None when there is no X
    server to ask (no DISPLAY, no libX11, or the server does not answer)."""
    name = os.environ.get("DISPLAY")
    if not name:
        return None
    try:
        x11 = ctypes.CDLL("libX11.so.6")
    except OSError:
        return None
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XDefaultScreen.argtypes = [ctypes.c_void_p]
    x11.XDisplayWidth.argtypes = x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    display = None
    for attempt in range(_CONNECT_ATTEMPTS):
        display = x11.XOpenDisplay(None)
        if display:
            break
        # A busy X server refuses a connection now and then (seen under Xvfb); SDL's own
        # connection, a moment later, is likely to get through, so ask again first.
        time.sleep(0.05 * (attempt + 1))
    if not display:
        log.warning("the X display %s did not answer: Kivy chooses the window's size", name)
        return None
    try:
        screen = x11.XDefaultScreen(display)
        width, height = (
            int(x11.XDisplayWidth(display, screen)),
            int(x11.XDisplayHeight(display, screen)),
        )
    finally:
        x11.XCloseDisplay(display)
    return (width, height) if width > 0 and height > 0 else None


def window_size(asked: tuple[int, int] | None, fullscreen: bool) -> tuple[int, int] | None:
    """The window's size: in full screen the X screen's (a smaller one would be laid out
    for the screen and cropped), else the one asked for, else the X screen's; None leaves
    it to Kivy (the display mode on KMS)."""
    if fullscreen:
        return screen_size() or asked
    return asked or screen_size()
