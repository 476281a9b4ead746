"""A site's case deadlines, as its admin sets them (office web /cases/settings, and
`kiosk office cases settings`): minutes to the first response by kind, normal and urgent,
hours to the follow-up after resolution by kind, and how long after the assignee the
supervisor is told of an overdue case.

Stored as JSON in the site's CaseSiteSettings row (the deliveries' pattern: a feature's
settings beside it, so saving the site's general settings never drops them). Every change
is audited and goes to the site's kiosks in the change feed (entity `case_settings`, ref
`deadlines`, no personal data), in the same transaction: a kiosk then prints the site's
promised response time on its slips, and keeps the last one it heard while offline.

The defaults are the kiosk's `[cases]` defaults (kiosk.config.cases), so a site nobody
configured promises at the kiosk what the office holds it to."""

from __future__ import annotations

import difflib
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from kiosk.domain.errors import InvalidInput
from kiosk.office.cases.models import CaseSiteSettings
from kiosk.office.cases.rules import KINDS, CaseSettings
from kiosk.office.feed import ChangeFeed
from kiosk.office.models import Site
from kiosk.office.staff import StaffDirectory

FEED_ENTITY = "case_settings"
FEED_REF = "deadlines"
#: The bounds a person can mean: a minute to thirty days; an hour to thirty days.
RESPONSE_MINUTES_MAX = 30 * 24 * 60
FOLLOWUP_HOURS_MAX = 30 * 24
SETTING_NAMES = (
    "response_minutes", "urgent_response_minutes", "followup_hours", "supervisor_after_minutes",
)  # fmt: skip


def _kind_table(value: Any, upper: int, unit: str) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValueError("must be a table of kind = number")
    table: dict[str, int] = {}
    for kind, number in value.items():
        if kind not in KINDS:
            close = difflib.get_close_matches(str(kind), KINDS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else f"; kinds: {', '.join(KINDS)}"
            raise ValueError(f"unknown kind {str(kind)[:40]!r}{hint}")
        if isinstance(number, bool) or not isinstance(number, int | str):
            raise ValueError(f"{kind}: must be a whole number of {unit}")
        try:
            whole = int(str(number).strip())
        except ValueError:
            shown = str(number)[:20]
            raise ValueError(f"{kind}: {shown!r} is not a whole number of {unit}") from None
        if not 1 <= whole <= upper:
            raise ValueError(f"{kind}: must be between 1 and {upper} {unit}")
        table[kind] = whole
    return table


class CaseDeadlines(BaseModel):
    """One site's deadlines. A kind left out keeps its default."""

    response_minutes: dict[str, int] = Field(
        default_factory=lambda: {
            "complaint": 120,
            "repair": 240,
            "suggestion": 1440,
            "inquiry": 1440,
        }
    )
    urgent_response_minutes: dict[str, int] = Field(
        default_factory=lambda: {
            "complaint": 30,
            "repair": 60,
            "suggestion": 1440,
            "inquiry": 240,
        }
    )
    followup_hours: dict[str, int] = Field(default_factory=lambda: dict.fromkeys(KINDS, 24))
    supervisor_after_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)

    @field_validator("response_minutes", "urgent_response_minutes", mode="before")
    @classmethod
    def _minutes(cls, value: Any) -> dict[str, int]:
        return _kind_table(value, RESPONSE_MINUTES_MAX, "minutes")

    @field_validator("followup_hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> dict[str, int]:
        return _kind_table(value, FOLLOWUP_HOURS_MAX, "hours")

    @model_validator(mode="after")
    def _urgent_is_not_slower(self) -> CaseDeadlines:
        for name in ("response_minutes", "urgent_response_minutes", "followup_hours"):
            table = getattr(self, name)
            table.update({k: v for k, v in _default(name).items() if k not in table})
        for kind in KINDS:
            normal, urgent = self.response_minutes[kind], self.urgent_response_minutes[kind]
            if urgent > normal:
                raise ValueError(
                    f"an urgent {kind} is answered in {urgent} minutes, later than a normal "
                    f"one ({normal}): make it at most {normal}"
                )
        return self

    def case_settings(self) -> CaseSettings:
        """The office's CaseSettings these deadlines make."""
        hours: dict[tuple[str, str], float] = {}
        for kind in KINDS:
            hours[(kind, "normal")] = self.response_minutes[kind] / 60
            hours[(kind, "urgent")] = self.urgent_response_minutes[kind] / 60
        return CaseSettings(
            response_hours=hours,
            followup_hours={kind: float(self.followup_hours[kind]) for kind in KINDS},
            supervisor_after_hours=self.supervisor_after_minutes / 60,
        )

    def feed_data(self, updated_at: datetime) -> dict[str, Any]:
        """What the kiosks are sent (the kiosk's `[cases]` names; no personal data)."""
        return {
            "response_minutes": dict(self.response_minutes),
            "urgent_response_minutes": dict(self.urgent_response_minutes),
            "followup_hours": dict(self.followup_hours),
            "updated_at": updated_at.isoformat(),
        }


def _default(name: str) -> dict[str, int]:
    field = CaseDeadlines.model_fields[name]
    assert field.default_factory is not None
    return dict(field.default_factory())  # type: ignore[call-arg]


def load_deadlines(site: Site | int) -> CaseDeadlines:
    row = CaseSiteSettings.get_or_none(CaseSiteSettings.site == site)
    return CaseDeadlines.model_validate(json.loads(row.data)) if row else CaseDeadlines()


def case_settings_of(site: Site | int) -> CaseSettings:
    """The site's deadlines as the desk, the escalator and the reports use them."""
    return load_deadlines(site).case_settings()


def parse_kind_values(items: list[str], field_name: str) -> dict[str, str]:
    """`complaint=90` pairs (the CLI's and the form's) as a table; InvalidInput if one
    is not `kind=number`."""
    table: dict[str, str] = {}
    for item in items:
        kind, equals, number = item.partition("=")
        if not equals or not kind.strip():
            raise InvalidInput(field_name, f"{item[:40]!r} is not kind=number (complaint=90)")
        table[kind.strip()] = number.strip()
    return table


def check_deadlines(current: CaseDeadlines, changes: dict[str, Any]) -> CaseDeadlines:
    """`current` with `changes` (tables merged kind by kind); InvalidInput naming the
    setting and the problem."""
    unknown = sorted(set(changes) - set(SETTING_NAMES))
    if unknown:
        raise InvalidInput(unknown[0], f"is not a case setting ({', '.join(SETTING_NAMES)})")
    data = current.model_dump()
    for name, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(name), dict):
            data[name] = {**data[name], **value}
        else:
            data[name] = value
    try:
        return CaseDeadlines.model_validate(data)
    except ValidationError as err:
        problem = err.errors()[0]
        # The one check across settings is the urgent one (`_urgent_is_not_slower`).
        where = str(problem["loc"][0]) if problem["loc"] else "urgent_response_minutes"
        message = str(problem["msg"]).removeprefix("Value error, ")
        raise InvalidInput(where, message) from err


def save_deadlines(
    staff: StaffDirectory,
    feed: ChangeFeed,
    site: Site,
    actor: str,
    changes: dict[str, Any],
) -> CaseDeadlines:
    """Change the site's deadlines: checked, saved, audited and sent to its kiosks in one
    transaction. Cases already open keep the due times they were given."""
    now = staff.clock.now()
    with feed.site_writes(site):
        current = load_deadlines(site)
        updated = check_deadlines(current, changes)
        text = json.dumps(updated.model_dump(mode="json"))
        CaseSiteSettings.insert(site=site, data=text, updated_at=now).on_conflict(
            conflict_target=[CaseSiteSettings.site],
            update={CaseSiteSettings.data: text, CaseSiteSettings.updated_at: now},
        ).execute()
        before, after = current.model_dump(mode="json"), updated.model_dump(mode="json")
        changed = {name: after[name] for name in SETTING_NAMES if before[name] != after[name]}
        staff.audit(site, actor, "cases.settings", entity="settings", detail=changed, at=now)
        feed.log(site, FEED_ENTITY, FEED_REF, updated.feed_data(now))
    return updated
