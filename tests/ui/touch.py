"""A finger on the kiosk's window, as Kivy's own `kivy.tests.common.UnitTestTouch`.

The same few lines as Kivy's, kept here because importing `kivy.tests.common` imports
pytest (~10 MB), which would then be counted in the memory the flows measure.
"""

from __future__ import annotations

from typing import Any

from kivy.base import EventLoop
from kivy.input.motionevent import MotionEvent


class Finger(MotionEvent):  # type: ignore[misc]
    """`Finger(x, y)` in window pixels; then touch_down(), touch_move(x, y), touch_up()."""

    def __init__(self, x: float, y: float) -> None:
        window = EventLoop.window
        super().__init__(
            type(self).__name__,
            99,
            {"x": x / (window.width - 1.0), "y": y / (window.height - 1.0)},
            is_touch=True,
            type_id="touch",
        )
        self.profile = ["pos"]

    def touch_down(self) -> None:
        EventLoop.post_dispatch_input("begin", self)

    def touch_move(self, x: float, y: float) -> None:
        window = EventLoop.window
        self.move({"x": x / (window.width - 1.0), "y": y / (window.height - 1.0)})
        EventLoop.post_dispatch_input("update", self)

    def touch_up(self) -> None:
        EventLoop.post_dispatch_input("end", self)

    def depack(self, args: Any) -> None:
        self.sx, self.sy = args["x"], args["y"]
        super().depack(args)
