"""What is wrong with a form as tests/ui/form_sizes.py saw it, in words.

A case is one form at one window size with one field focused and the keyboard up. Its
faults: the focused field not focused, not typed into by the keyboard, or not wholly seen
(outside the window, behind the header, under the keyboard, outside its form's frame); a
button outside the window, under the keyboard or the header, overlapping another, or
whose words do not fit in it. A button inside a scrolling form may be scrolled out of
its frame (a swipe brings it back), but that frame must not reach under the keyboard.
Boxes are [left, bottom, right, top] in window pixels.
"""

from __future__ import annotations

from typing import Any

#: Rounding of layouts in pixels.
SLACK = 1.0

Box = list[float]


def overlaps(one: Box, other: Box) -> bool:
    return (
        one[0] < other[2] - SLACK
        and other[0] < one[2] - SLACK
        and one[1] < other[3] - SLACK
        and other[1] < one[3] - SLACK
    )


def inside(box: Box, frame: Box) -> bool:
    return (
        box[0] >= frame[0] - SLACK
        and box[1] >= frame[1] - SLACK
        and box[2] <= frame[2] + SLACK
        and box[3] <= frame[3] + SLACK
    )


def field_faults(case: dict[str, Any], window: Box) -> list[str]:
    field, keyboard, header = case["focused"], case["keyboard"], case["header"]
    box = field["box"]
    faults = []
    if not field["focus"]:
        faults.append("not focused after a touch")
    if not case["keyboard_attached"]:
        faults.append("the keyboard types elsewhere")
    if keyboard is None:
        faults.append("no keyboard shown")
    elif overlaps(box, keyboard):
        faults.append(f"under the keyboard ({box[1]:.0f} < {keyboard[3]:.0f})")
    if not inside(box, window):
        faults.append("outside the window")
    if overlaps(box, header):
        faults.append("behind the header")
    if field["clip"] is not None and not inside(box, field["clip"]):
        faults.append("partly scrolled out of its form")
    return faults


def button_faults(button: dict[str, Any], case: dict[str, Any], window: Box) -> list[str]:
    box, keyboard, header = button["box"], case["keyboard"], case["header"]
    faults = []
    if (
        button["text_size"][0] > box[2] - box[0] + SLACK
        or button["text_size"][1] > box[3] - box[1] + SLACK
    ):
        faults.append("its words do not fit")
    frame = button["clip"]
    if frame is not None:  # scrolled out of its form's frame is allowed; the frame is checked
        box = frame
    if not inside(box, window):
        faults.append("outside the window")
    if keyboard is not None and overlaps(box, keyboard):
        faults.append("under the keyboard")
    if overlaps(box, header) and not inside(box, header):
        faults.append("behind the header")
    return faults


def case_faults(case: dict[str, Any], window_size: list[int]) -> list[str]:
    """Every fault of one case, each naming the size, the form and the widget."""
    window = [0.0, 0.0, float(window_size[0]), float(window_size[1])]
    where = f"{case['size']} {case['form']} ({case['field']} focused)"
    faults = [f"{where}: field {case['field']}: {f}" for f in field_faults(case, window)]
    fixed = [b for b in case["buttons"] if b["clip"] is None]
    for button in case["buttons"]:
        for fault in button_faults(button, case, window):
            faults.append(f"{where}: button {button['text']!r}: {fault}")
    for index, button in enumerate(fixed):
        for other in fixed[index + 1 :]:
            if overlaps(button["box"], other["box"]):
                faults.append(f"{where}: buttons {button['text']!r} and {other['text']!r} overlap")
    return faults
