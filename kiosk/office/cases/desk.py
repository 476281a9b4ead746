"""The case desk: opening cases at the office, moving them through the state machine for
the users allowed to, and writing each change to the case's history and the change feed.

Every change runs in one transaction of the site's feed (ChangeFeed.site_writes), so the
case, its history row and its feed row commit together. Who may see what: `visible`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from peewee import Database, Expression

from kiosk.domain.clock import Clock
from kiosk.domain.errors import InvalidInput, NotFound
from kiosk.domain.records import check_text_field
from kiosk.domain.tokens import new_ref
from kiosk.office.cases.models import (
    Case,
    CaseHistory,
    Department,
    DepartmentMember,
    OfficeCaseSequence,
)
from kiosk.office.cases.rules import (
    CHANNELS,
    KIND_LETTER,
    KINDS,
    OUTCOMES,
    URGENCIES,
    CaseSettings,
    check_description,
    may_act,
    next_state,
)
from kiosk.office.cases.site_settings import case_settings_of
from kiosk.office.feed import ChangeFeed
from kiosk.office.models import Site, StaffUser
from kiosk.office.settings import load_site_settings

FEED_ENTITY = "case"


def case_data(case: Case) -> dict[str, Any]:
    """The case as the change feed carries it (contract: no personal data)."""

    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "case_ref": case.ref,
        "number": case.number,
        "kind": case.kind,
        "state": case.state,
        "opened_at": iso(case.opened_at),
        "response_due_at": iso(case.response_due_at),
        "resolved_at": iso(case.resolved_at),
        "followup_due_at": iso(case.followup_due_at),
        "updated_at": iso(case.updated_at),
    }


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff user (site, role, name, departments), or a kiosk/system."""

    site_id: int
    role: str
    name: str
    user_id: int | None = None
    department_ids: frozenset[int] = frozenset()

    @classmethod
    def of(cls, user: StaffUser) -> Actor:
        departments = frozenset(
            row.department_id
            for row in DepartmentMember.select(DepartmentMember.department).where(
                DepartmentMember.user == user.id
            )
        )
        return cls(user.site_id, user.role, user.display_name or user.username, user.id,
                   departments)  # fmt: skip


def visible(actor: Actor) -> Expression:
    """The cases `actor` may see: their site's; a department's staff only their departments'
    (security: none)."""
    condition = Case.site == actor.site_id
    if actor.role in ("admin", "reception"):
        return condition
    if actor.role == "security" or not actor.department_ids:
        return condition & (Case.id == -1)
    return condition & Case.department.in_(list(actor.department_ids))


class CaseDesk:
    """Opens and moves cases; every change recorded with who and when."""

    def __init__(
        self, db: Database, clock: Clock, feed: ChangeFeed, settings: CaseSettings | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.feed = feed
        #: Fixed deadlines (tests, benchmarks); None: each site's own (site_settings).
        self.fixed_settings = settings

    def settings_for(self, site: Site | int) -> CaseSettings:
        return self.fixed_settings or case_settings_of(site)

    def get(self, actor: Actor, ref_or_number: str) -> Case:
        """A case `actor` may see, by ref or number; NotFound otherwise (the same answer
        for another site's case as for none, so nothing leaks)."""
        case = Case.get_or_none(
            visible(actor) & ((Case.ref == ref_or_number) | (Case.number == ref_or_number))
        )
        if case is None:
            raise NotFound(f"no case {ref_or_number[:40]}")
        return case

    def history(self, case: Case) -> list[CaseHistory]:
        return list(case.history.order_by(CaseHistory.at, CaseHistory.id))

    def allowed_actions(self, actor: Actor, case: Case) -> list[str]:
        from kiosk.office.cases.rules import TRANSITIONS

        own = case.department_id is not None and case.department_id in actor.department_ids
        return [
            action
            for action, (starts, _target) in TRANSITIONS.items()
            if case.state in starts and may_act(actor.role, action, own_department=own)
        ]

    def open_case(
        self,
        actor: Actor,
        *,
        kind: str,
        description: str,
        channel: str = "desk",
        urgency: str = "normal",
        category: str = "",
        place: dict[str, str] | None = None,
        reporter: dict[str, str] | None = None,
        language: str = "en",
    ) -> Case:
        """A case opened at the office (phone, desk, web), numbered from the office's own
        daily sequence for the site (station "0")."""
        if actor.role not in ("admin", "reception"):
            raise InvalidInput("role", "only reception or an admin opens cases at the office")
        if kind not in KINDS:
            raise InvalidInput("kind", f"must be one of {', '.join(KINDS)}")
        if urgency not in URGENCIES:
            raise InvalidInput("urgency", "must be normal or urgent")
        if channel not in CHANNELS or channel == "kiosk":
            raise InvalidInput("channel", "must be phone, desk or web")
        if kind == "repair" and not category:
            category = "other"
        check_text_field({"c": category}, "c", 40, field="category")
        description = check_description(description)
        place, reporter = place or {}, reporter or {}
        for group, values in (("place", place), ("reporter", reporter)):
            for name, _value in values.items():
                check_text_field(values, name, 200, field=f"{group}.{name}")
        now = self.clock.now()
        site = Site.get_by_id(actor.site_id)
        with self.feed.site_writes(site):
            number = self._next_number(site, kind, now)
            case = Case.create(
                ref=new_ref(), site=site, number=number, kind=kind, urgency=urgency,
                category=category if kind == "repair" else "", channel=channel,
                building=place.get("building", ""), floor=place.get("floor", ""),
                unit=place.get("unit", ""), place_text=place.get("text", ""),
                description=description, reporter_name=reporter.get("name", ""),
                reporter_unit=reporter.get("unit", ""), reporter_phone=reporter.get("phone", ""),
                language=language, opened_at=now, updated_at=now,
                response_due_at=self.settings_for(site).response_due(kind, urgency, now),
            )  # fmt: skip
            self.record(case, actor.name, "open", "", "received", f"by {channel}", now)
            self.feed.log(site, FEED_ENTITY, case.ref, case_data(case))
        return case

    def _next_number(self, site: Site, kind: str, now: datetime) -> str:
        day = now.astimezone(ZoneInfo(load_site_settings(site).timezone)).strftime("%Y%m%d")
        OfficeCaseSequence.insert(site=site, day=day, last=0).on_conflict_ignore().execute()
        OfficeCaseSequence.update(last=OfficeCaseSequence.last + 1).where(
            (OfficeCaseSequence.site == site.id) & (OfficeCaseSequence.day == day)
        ).execute()
        last = OfficeCaseSequence.get(
            (OfficeCaseSequence.site == site.id) & (OfficeCaseSequence.day == day)
        ).last
        return f"{KIND_LETTER[kind]}-{day}-0{last:04d}"

    def act(
        self,
        actor: Actor,
        ref_or_number: str,
        action: str,
        *,
        note: str = "",
        department: str = "",
        assignee: str = "",
        outcome: str = "",
    ) -> Case:
        """Take `action` on a case; InvalidInput if the state or the role does not allow it."""
        note = check_text_field({"n": note}, "n", 4000, field="note", multiline=True)
        case = self.get(actor, ref_or_number)
        own = case.department_id is not None and case.department_id in actor.department_ids
        if not may_act(actor.role, action, own_department=own):
            raise InvalidInput("role", f"a {actor.role} user may not {action} this case")
        next_state(action, case.state)  # refused before any lock is taken
        now = self.clock.now()
        with self.feed.site_writes(case.site):
            case = Case.get_by_id(case.id)  # the latest, under the site's lock
            source = case.state
            target = next_state(action, source)
            self._apply(case, action, now, note=note, department=department,
                        assignee=assignee, outcome=outcome)  # fmt: skip
            case.state = target
            case.updated_at = now
            case.save()
            self.record(case, actor.name, action, source, target, note, now)
            self.feed.log(case.site, FEED_ENTITY, case.ref, case_data(case))
        return case

    def _apply(self, case: Case, action: str, now: datetime, **given: str) -> None:
        if action == "assign":
            self._assign(case, given["department"], given["assignee"])
            case.escalation_level = 0
        if action in ("assign", "start", "resolve") and case.responded_at is None:
            case.responded_at = now
        if action == "resolve":
            case.resolution = given["note"]
            case.resolved_at = now
            case.followup_due_at = self.settings_for(case.site_id).followup_due(case.kind, now)
            case.escalation_level = 0
        elif action == "follow_up":
            self.follow_up(case, given["outcome"], given["note"], now)
        elif action == "reopen":
            case.reopened_count += 1
            case.resolved_at = case.followup_due_at = None
            case.escalation_level = 0
        elif action == "close":
            case.closed_at = now

    @staticmethod
    def follow_up(case: Case, outcome: str, note: str, at: datetime) -> None:
        if outcome not in OUTCOMES:
            raise InvalidInput("outcome", f"must be one of {', '.join(OUTCOMES)}")
        case.followup_outcome = outcome
        case.followup_note = note
        case.followed_up_at = at

    @staticmethod
    def _assign(case: Case, department: str, assignee: str) -> None:
        if not department and not assignee:
            raise InvalidInput("department", "assign to a department or a person")
        if department:
            found = Department.get_or_none(
                (Department.site == case.site_id) & (Department.name == department)
            )
            if found is None:
                raise InvalidInput("department", f"no department {department[:60]!r} here")
            case.department = found
        if assignee:
            user = StaffUser.get_or_none(
                (StaffUser.site == case.site_id) & (StaffUser.username == assignee)
            )
            if user is None:
                raise InvalidInput("assignee", f"no staff user {assignee[:60]!r} here")
            case.assignee = user

    @staticmethod
    def record(
        case: Case, actor: str, action: str, source: str, target: str, note: str, at: datetime
    ) -> None:
        CaseHistory.create(case=case, at=at, actor=actor, action=action, from_state=source,
                           to_state=target, note=note)  # fmt: skip

    def add_department(
        self, site: Site, name: str, channels: list[str] | None = None
    ) -> Department:
        import json

        check_text_field({"n": name}, "n", 100, field="department", required=True)
        return Department.create(site=site, name=name, channels=json.dumps(channels or []))

    @staticmethod
    def join_department(department: Department, user: StaffUser) -> None:
        DepartmentMember.insert(department=department, user=user).on_conflict_ignore().execute()
