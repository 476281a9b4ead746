"""A visit's state machine as the database records it: `VisitLedger.move` changes a visit's
state and, in the caller's transaction, writes the outbox event for the office (the visit
as the office sees it) and the audit entry. `visit_by_ref` finds a visit or raises NotFound.
"""

from __future__ import annotations

from datetime import datetime

from kiosk.domain.errors import IllegalTransition, NotFound
from kiosk.domain.values import VisitState, can_transition
from kiosk.storage.journal import append_audit, enqueue_event
from kiosk.storage.models import Visit


class VisitLedger:
    """Every change of a visit's state, each with its outbox event and audit entry."""

    def __init__(self, *, kiosk_id: str) -> None:
        self.kiosk_id = kiosk_id

    def move(
        self,
        visit: Visit,
        target: VisitState,
        now: datetime,
        actor: str,
        audit_details: dict[str, str] | None = None,
        event_extra: dict[str, str] | None = None,
        **fields: object,
    ) -> None:
        """Change a visit's state with its outbox event and audit entry; call in a transaction.

        `event_extra` adds to the event what the visit row does not hold (the invitation
        used, which the office needs to refuse it at every other kiosk)."""
        current = VisitState(visit.state) if visit.state else None
        if not can_transition(current, target):
            raise IllegalTransition(f"visit {visit.ref} cannot go from {current} to {target}")
        for name, value in fields.items():
            setattr(visit, name, value)
        visit.state = target
        visit.updated_at = now
        visit.save(force_insert=visit.id is None)
        payload = {**self._visit_payload(visit), **(event_extra or {})}
        enqueue_event(now, f"visit.{target.value}", visit.ref, payload)
        details = {
            "from": current.value if current else None,
            "to": target.value,
            **(audit_details or {}),
        }
        append_audit(now, actor, "visit.state", visit.ref, details)

    def _visit_payload(self, visit: Visit) -> dict[str, object]:
        def stamp(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "visit": visit.ref,
            "state": visit.state,
            "kiosk": self.kiosk_id,
            "appointment": visit.appointment.ref if visit.appointment else None,
            "host": visit.host.ref if visit.host else None,
            "visitor": {"name": visit.visitor.name, "company": visit.visitor.company}
            if visit.visitor
            else None,
            "method": visit.method,
            "purpose": visit.purpose,
            "level": visit.level,
            "visitor_type": visit.visitor_type,
            "escort_required": visit.escort_required,
            "after_hours": visit.after_hours,
            "host_absent": visit.host_absent,
            "arrived_at": stamp(visit.arrived_at),
            "host_notified_at": stamp(visit.host_notified_at),
            "host_acknowledged_at": stamp(visit.host_acknowledged_at),
            "left_at": stamp(visit.left_at),
            "auto_checked_out": visit.auto_checked_out,
            "satisfaction": visit.satisfaction,
        }


def visit_by_ref(visit_ref: str) -> Visit:
    visit = Visit.get_or_none(Visit.ref == visit_ref)
    if visit is None:
        raise NotFound(f"no visit {visit_ref}")
    return visit
