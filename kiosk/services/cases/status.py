"""The office's `case` feed entity (the cases contract): checked, then stored in the
kiosk's CaseStatus table, which a receipt's scan shows. It carries no personal data.

A change older than the state already held (by `updated_at`) is ignored, so a feed pulled
twice or out of order never moves a case back.
"""

from __future__ import annotations

from typing import Any

from kiosk.config.cases import CASE_KINDS
from kiosk.domain.errors import InvalidInput
from kiosk.domain.records import parse_time
from kiosk.domain.text import check_text
from kiosk.services.cases.models import CaseStatus

CASE_STATES = frozenset(
    {"received", "assigned", "in_progress", "resolved", "followed_up", "closed", "reopened"}
)


def check_case_change(ref: str, data: dict[str, Any]) -> None:
    """InvalidInput naming the field when a `case` change is not as the contract says."""
    if data.get("case_ref", ref) != ref:
        raise InvalidInput("data.case_ref", "is not the change's ref")
    number = data.get("number")
    if not isinstance(number, str):
        raise InvalidInput("data.number", "must be text")
    check_text(number, "data.number", max_length=40, required=True)
    if data.get("kind") not in CASE_KINDS:
        raise InvalidInput("data.kind", "is not a case kind")
    if data.get("state") not in CASE_STATES:
        raise InvalidInput("data.state", "is not a case state")
    for name in ("opened_at", "response_due_at", "updated_at"):
        if parse_time(data.get(name), f"data.{name}") is None:
            raise InvalidInput(f"data.{name}", "is required")
    for name in ("resolved_at", "followup_due_at"):
        parse_time(data.get(name), f"data.{name}")


def apply_case_states(items: dict[str, dict[str, Any]]) -> None:
    """Store each checked change; call inside the batch's transaction."""
    for ref, data in items.items():
        updated_at = parse_time(data["updated_at"], "updated_at")
        held = CaseStatus.get_or_none(CaseStatus.case_ref == ref)
        if held is not None and updated_at is not None and held.updated_at > updated_at:
            continue
        CaseStatus.insert(
            case_ref=ref,
            number=data["number"],
            kind=data["kind"],
            state=data["state"],
            opened_at=parse_time(data["opened_at"], "opened_at"),
            response_due_at=parse_time(data["response_due_at"], "response_due_at"),
            resolved_at=parse_time(data.get("resolved_at"), "resolved_at"),
            followup_due_at=parse_time(data.get("followup_due_at"), "followup_due_at"),
            updated_at=updated_at,
        ).on_conflict_replace().execute()
