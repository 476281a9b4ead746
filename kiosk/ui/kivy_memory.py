"""Kivy's text renderer, made to let go of each label's pixels once they are on screen.

Kivy's SDL2 text provider (kivy.core.text.text_sdl2, 2.3) draws a label into an SDL
surface, copies the pixels into the label's texture, and keeps the surface: every label
alive holds a second, CPU-side copy of its own picture, for nothing. The next render
makes a new surface, and a texture lost with the GL context is drawn again from the
text, not from that copy. After a round of every flow that is ~850 labels and ~6 MB of
the touchscreen's memory, on a Pi's GPU as under software GL.
"""

from __future__ import annotations

from typing import Any


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
