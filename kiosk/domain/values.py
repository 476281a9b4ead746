"""Enumerations and value objects shared by every layer.

The purposes, levels and the 1-minute standard come from the front-desk procedures
(`shared/reception-procedures.md`); their string values are stable identifiers stored
in the database and sent to the office, so never rename one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

#: The procedures' standard: a visitor at the desk is attended within one minute.
ATTENDED_WITHIN = timedelta(minutes=1)


class VisitState(StrEnum):
    EXPECTED = "expected"
    CHECKED_IN = "checked_in"
    AWAITING_HOST = "awaiting_host"
    HOST_ACKNOWLEDGED = "host_acknowledged"
    CHECKED_OUT = "checked_out"
    DENIED = "denied"
    NO_SHOW = "no_show"


#: Allowed moves of a visit. `None` stands for "no visit yet" (a walk-in or a refusal).
VISIT_TRANSITIONS: dict[VisitState | None, frozenset[VisitState]] = {
    None: frozenset({VisitState.EXPECTED, VisitState.CHECKED_IN, VisitState.DENIED}),
    VisitState.EXPECTED: frozenset({VisitState.CHECKED_IN, VisitState.DENIED, VisitState.NO_SHOW}),
    VisitState.CHECKED_IN: frozenset(
        {VisitState.AWAITING_HOST, VisitState.CHECKED_OUT, VisitState.DENIED}
    ),
    VisitState.AWAITING_HOST: frozenset(
        {VisitState.HOST_ACKNOWLEDGED, VisitState.CHECKED_OUT, VisitState.DENIED}
    ),
    VisitState.HOST_ACKNOWLEDGED: frozenset({VisitState.CHECKED_OUT}),
    VisitState.CHECKED_OUT: frozenset(),
    VisitState.DENIED: frozenset(),
    VisitState.NO_SHOW: frozenset(),
}

#: States in which the visitor is inside the building.
ON_SITE_STATES = frozenset(
    {VisitState.CHECKED_IN, VisitState.AWAITING_HOST, VisitState.HOST_ACKNOWLEDGED}
)


def can_transition(current: VisitState | None, target: VisitState) -> bool:
    return target in VISIT_TRANSITIONS[current]


class Purpose(StrEnum):
    """The purposes on the procedures' registration forms."""

    VISIT_PERSON = "visit_person"  # 拜访
    INQUIRY = "inquiry"  # 事务咨询
    ERRAND = "errand"  # 办事
    ASSISTANCE = "assistance"  # 事务求助
    PAID_SERVICE = "paid_service"  # 有偿服务需求
    SUGGESTION = "suggestion"  # 建议与意见
    COMPLAINT = "complaint"  # 投诉
    REPAIR = "repair"  # 报修
    MOVE_IN = "move_in"  # 入伙
    TOUR = "tour"  # 参观
    DELIVERY = "delivery"  # 送货/来函
    INTERVIEW = "interview"
    WORKS = "works"  # 施工/维修作业: a contractor come to work (not 报修, reporting a repair)


#: What a visitor reports rather than whom they visit: the kiosk's "Report an issue" path.
ISSUE_PURPOSES = (
    Purpose.COMPLAINT,
    Purpose.REPAIR,
    Purpose.SUGGESTION,
    Purpose.ASSISTANCE,
    Purpose.INQUIRY,
    Purpose.PAID_SERVICE,
)
#: The purposes of a visit, in the order offered when the visitor asks for more.
VISIT_PURPOSES = tuple(p for p in Purpose if p not in ISSUE_PURPOSES)


class SalesClass(StrEnum):
    """Sales offices classify visits further (初访、回访、电约)."""

    FIRST_VISIT = "first_visit"
    RETURN_VISIT = "return_visit"
    PHONED_APPOINTMENT = "phoned_appointment"


class VisitorLevel(StrEnum):
    ORDINARY = "ordinary"  # 普通
    SENIOR = "senior"  # 高级
    VIP = "vip"  # 特级


class CheckInMethod(StrEnum):
    INVITATION = "invitation"
    IDENTITY = "identity"
    WALK_IN = "walk_in"


class HostAvailability(StrEnum):
    IN = "in"
    OUT = "out"
    IN_MEETING = "in_meeting"


@dataclass(frozen=True)
class BadgeContent:
    """Everything printed on a visitor badge; the devices layer renders it.

    `expires_at` is local time at the site, so the large expiry printed on the badge is
    the one a guard reads on the wall clock.
    """

    visit_ref: str
    visitor_name: str
    company: str
    host_name: str
    visitor_type_label: str
    issued_at: datetime
    expires_at: datetime
    escort_required: bool
    token: str
    inverse_band: bool = False  # the visitor type's band printed white-on-black
    photo_jpeg: bytes | None = None
    site_name: str = ""
    #: The badge's words and date in this language (en, zh_Hans, zh_Hant).
    language: str = "en"


@dataclass(frozen=True)
class OnSiteEntry:
    """One person in the building now: what a guard's list and the roll call show."""

    visit_ref: str
    visitor_name: str
    company: str
    host_name: str
    #: None when the record does not say (a row mirrored before sync checked it).
    arrived_at: datetime | None
    badge_expires_at: datetime | None
    state: VisitState
    synced: bool


@dataclass(frozen=True)
class TodaySummary:
    expected: int
    on_site: int
    checked_out: int
    awaiting_host: int
    is_open: bool
    extra: dict[str, int] = field(default_factory=dict)
