"""Kivy takes any name starting with "on_" for an event: a property called so never
dispatches, and whatever is bound to it (a count, a list) is drawn only when something
else redraws the screen. That is how the guard's on-site list once stayed empty and said
0 over three rows. No screen or widget of the kiosk may have such a property."""

from __future__ import annotations

import pytest
from kivy.properties import Property

from kiosk.ui import screens, widgets

pytestmark = pytest.mark.ui


def test_no_kivy_property_is_named_like_an_event() -> None:
    classes = [*screens.SCREENS.values()] + [
        thing for thing in vars(widgets).values() if isinstance(thing, type)
    ]
    misnamed = [
        f"{cls.__name__}.{name}"
        for cls in classes
        for klass in cls.__mro__
        if klass.__module__.startswith("kiosk.")
        for name, value in vars(klass).items()
        if name.startswith("on_") and isinstance(value, Property)
    ]
    assert misnamed == []
