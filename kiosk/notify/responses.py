"""What the host answered, for the screen the visitor is looking at ("李娜 is on the way").

However the answer arrived (a link redeemed at this kiosk, a link redeemed at the office
and applied from the change feed, `kiosk acknowledge` / `kiosk approve`), it went through
the engine, which moved the visit and wrote who did it into the audit chain. This reads
both back; it writes nothing, so the UI may poll it every second.
"""

from __future__ import annotations

import json
from typing import Literal, NamedTuple

from peewee import SQL

from kiosk.domain.values import VisitState
from kiosk.storage.models import AuditEntry, Visit

ResponseKind = Literal["acknowledged", "approved", "denied"]
PARTIES = ("host", "delegate", "reception")


class HostResponse(NamedTuple):
    kind: ResponseKind
    #: Who answered, by name: the host, or their delegate; "" when reception answered.
    responder_name: str
    #: From the visitor's arrival to the answer (the 1-minute standard's figure).
    seconds: float
    #: host | delegate | reception
    party: str


def _answered_by(visit_ref: str) -> str:
    """The party whose answer moved the visit (the actor of that audit entry)."""
    entries = (
        AuditEntry.select(AuditEntry.actor, AuditEntry.details)
        .where((AuditEntry.subject == visit_ref) & (AuditEntry.action == "visit.state"))
        .order_by(SQL("id").desc())
        .limit(10)
    )
    for entry in entries:
        try:
            target = json.loads(entry.details).get("to")
        except ValueError:
            continue
        if target in (VisitState.HOST_ACKNOWLEDGED, VisitState.DENIED):
            actor = str(entry.actor).removeprefix("link:")
            return actor if actor in PARTIES else "host"
    return "host"


def host_response(visit_ref: str) -> HostResponse | None:
    """None while nobody has answered; else what was answered, by whom, after how long."""
    visit = Visit.get_or_none(Visit.ref == visit_ref)
    if visit is None or visit.arrived_at is None:
        return None
    if visit.state == VisitState.DENIED and visit.denied_reason == "host declined":
        kind: ResponseKind = "denied"
        answered_at = visit.left_at or visit.updated_at
    elif visit.host_acknowledged_at is not None:
        kind = "approved" if visit.needs_approval else "acknowledged"
        answered_at = visit.host_acknowledged_at
    else:
        return None
    party = _answered_by(visit_ref)
    host = visit.host
    if party == "reception" or host is None:
        name = ""
    elif party == "delegate" and host.delegate is not None:
        name = host.delegate.name
    else:
        name = host.name
    seconds = max(0.0, (answered_at - visit.arrived_at).total_seconds())
    return HostResponse(kind, name, seconds, party)
