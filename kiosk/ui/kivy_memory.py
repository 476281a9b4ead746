"""Kivy's text rendering, made to let go of pixels it no longer needs.

`release_text_surfaces`: the renderer keeps a copy of every label's picture.
`forget_typed_text`: TextInput keeps the pictures of what was typed.

Kivy's SDL2 text provider (kivy.core.text.text_sdl2, 2.3) draws a label into an SDL
surface, copies the pixels into the label's texture, and keeps the surface: every label
alive holds a second, CPU-side copy of its own picture, for nothing. The next render
makes a new surface, and a texture lost with the GL context is drawn again from the
text, not from that copy. After a round of every flow that is ~850 labels and ~6 MB of
the touchscreen's memory, on a Pi's GPU as under software GL.

TextInput caches the texture of every line of text it draws, and its width, for 60 s
(Kivy's Cache, 'textinput.label' and 'textinput.width'): the name and phone number a
visitor typed, as pictures, after the kiosk has wiped its fields. A visit's end drops
them, for privacy first (some 100 textures after a round of every flow).
"""

from __future__ import annotations

from typing import Any

#: The caches kivy.uix.textinput registers for the lines it draws.
TEXT_INPUT_CACHES = ("textinput.label", "textinput.width")


def release_text_surfaces() -> None:
    """Make every SDL2-rendered label free its surface as soon as its pixels are read.
    Idempotent; a Kivy without the SDL2 text provider is left as it is."""
    try:
        from kivy.core.text.text_sdl2 import LabelSDL2
    except ImportError:
        return
    if getattr(LabelSDL2, "_kiosk_releases_surface", False):
        return

    def render_end(label: Any) -> Any:
        try:
            return label._surface.get_data()
        finally:
            del label._surface

    LabelSDL2._render_end = render_end
    LabelSDL2._kiosk_releases_surface = True


def forget_typed_text() -> None:
    """Drop every picture of typed text Kivy's TextInput keeps (see the module's notes)."""
    from kivy.cache import Cache

    for category in TEXT_INPUT_CACHES:
        Cache.remove(category)
