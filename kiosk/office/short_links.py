"""The office's side of short links (kiosk.notify.short_links): which link a code names.

A kiosk tells it with an event `link.short` (code and full token), stored as every event
is; nothing else is kept. The link page (kiosk.office.web.links) verifies the token as it
verifies any link, so a code names a capability but is not one of its own.
"""

from __future__ import annotations

import json

from peewee import Database

from kiosk.notify.short_links import SHORT_KIND, is_code
from kiosk.office.models import Event


def token_for(db: Database, code: str) -> str | None:
    """The link `code` names, or None (not a code, or not heard of yet)."""
    if not is_code(code):
        return None
    with db.connection_context():
        row = (
            Event.select(Event.payload)
            .where((Event.kind == SHORT_KIND) & (Event.subject_ref == code))
            .order_by(Event.id)
            .first()
        )
    if row is None:
        return None
    token = json.loads(row.payload).get("token")
    return token if isinstance(token, str) else None
