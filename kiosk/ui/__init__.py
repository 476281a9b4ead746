"""The Kivy touchscreen: a thin layer over services, with no storage or device imports.

Importing this package sets Kivy's environment defaults, because Kivy reads them once,
when it is first imported (the clock reads `maxfps` then): the kiosk's own command line
and configuration file are the only ones, so Kivy neither parses `sys.argv` nor reads or
writes `~/.kivy/config.ini`, and the main loop is capped at 30 frames a second (the
screen redraws only when something changed; the cap bounds the idle loop's CPU use).
Multisampling is off: Kivy's default of 2 samples doubles the cost of every drawn pixel
for slightly smoother curves, and made a new screen take 100 ms to draw with software
GL (llvmpipe under Xvfb; the Pi's GPU is fill-rate bound too).
A variable already set in the environment wins, so a developer can still override each.
"""

from __future__ import annotations

import os

KIVY_ENVIRONMENT_DEFAULTS = {
    "KIVY_NO_ARGS": "1",
    "KIVY_NO_CONFIG": "1",
    "KIVY_NO_FILELOG": "1",
    "KCFG_GRAPHICS_MAXFPS": "30",
    "KCFG_GRAPHICS_MULTISAMPLES": "0",
    "KCFG_KIVY_LOG_LEVEL": "info",
    "KCFG_KIVY_EXIT_ON_ESCAPE": "0",  # a visitor pressing Esc on a USB keyboard
    # SDL2_image reads the photos' JPEGs and writes PNGs: without this Kivy also loads
    # Pillow and its other image providers into the touchscreen's process, unused.
    "KIVY_IMAGE": "sdl2",
}

for _name, _value in KIVY_ENVIRONMENT_DEFAULTS.items():
    os.environ.setdefault(_name, _value)

#: Database drivers peewee imports if it finds them; the kiosk's own data is SQLite, and
#: PostgreSQL is the office's (psycopg alone is ~24 MB resident).
SERVER_ONLY_MODULES = ("psycopg", "psycopg2", "pymysql", "MySQLdb")


def lean_process() -> None:
    """Keep the modules the touchscreen never uses out of its process: call it before
    anything imports peewee (`kiosk run` does). A module already imported stays."""
    import sys

    for name in SERVER_ONLY_MODULES:
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]  # import now fails: ImportError
