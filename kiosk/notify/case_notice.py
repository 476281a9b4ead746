"""The duty staff's notice of a new case (issue 19): what the notifier plans for a
`notification.case_opened` event and the message it sends, in the notifications' language.

The notice says the number, kind, place, urgency and response time, never the reporter's
phone or name: it may go out as a text message, and the office's case page has the rest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kiosk.notify.channels import Message
from kiosk.notify.i18n import N_, catalogue

#: The delivery kind of a case notice (kiosk.notify.kinds.EVENT_KINDS).
CASE_KIND = "case"
#: Who is told: `[cases] duty`, else reception.
AUDIENCES = ["duty", "reception"]
NOTICE_FIELDS = ("case_ref", "number", "kind", "category", "urgency", "place", "response_due_at")

KIND_WORDS = {
    "complaint": N_("Complaint"),
    "repair": N_("Repair request"),
    "suggestion": N_("Suggestion"),
    "inquiry": N_("Inquiry"),
}
URGENCY_WORDS = {"normal": N_("normal"), "urgent": N_("URGENT")}


def notice_refs(payload: dict[str, Any]) -> dict[str, Any]:
    """What a planned delivery keeps of the event: the notice's fields only."""
    return {key: payload.get(key) or "" for key in NOTICE_FIELDS}


def render_case_notice(
    payload: dict[str, Any], language: str, local_time: Any, where: str, footer: str
) -> Message:
    """The message; `local_time` turns a UTC moment into the site's "HH:MM"."""
    _ = catalogue(language).gettext
    kind = _(KIND_WORDS.get(str(payload.get("kind")), "Case"))
    urgency = _(URGENCY_WORDS.get(str(payload.get("urgency")), "normal"))
    due_text = str(payload.get("response_due_at") or "")
    due = local_time(datetime.fromisoformat(due_text)) if due_text else "-"
    lines = [
        _("New case {number} at {place}: {kind}, {urgency}.").format(
            number=payload.get("number"), place=where, kind=kind, urgency=urgency
        ),
        _("Where: {place}").format(place=payload.get("place") or "-"),
        _("Please respond by {time}.").format(time=due),
    ]
    if payload.get("category"):
        lines.insert(1, _("Category: {category}").format(category=payload["category"]))
    title = _("New case {number} ({kind})").format(number=payload.get("number"), kind=kind)
    return Message(title, "\n".join(lines) + footer)
