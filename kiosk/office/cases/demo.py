"""Cases and calls for the demo office (`make office`, kiosk.office.demo): two months of a
building's complaints, repairs, suggestions and inquiries, from the kiosk, the phone, the
desk and the web, handled by three departments; most closed after a follow-up within 24
hours, a few followed up late, some still open (two overdue, one reopened after an
unsatisfied reporter), with their whole history; and the desk's call log, some calls with
a message for a host, some made cases. The monthly report then has something real to say.

Written as the desk would have written them (same states, due times from the site's
deadlines, numbers from each source's daily sequence) and put in the change feed, so a
kiosk of the demo site can show a receipt's case. Every name here is made up."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from peewee import Database

from kiosk.dbkit.rows import insert_rows
from kiosk.office.cases.desk import FEED_ENTITY, case_data
from kiosk.office.cases.models import (
    CallLogEntry,
    Case,
    CaseHistory,
    Department,
    DepartmentMember,
    OfficeCaseSequence,
)
from kiosk.office.cases.rules import KIND_LETTER, CaseSettings
from kiosk.office.cases.site_settings import case_settings_of
from kiosk.office.feed import ChangeFeed
from kiosk.office.models import OfficeHost, Site, StaffUser
from kiosk.office.settings import load_site_settings

DAYS = 60
CASES = 140
DEPARTMENTS = {"工程部": ("repair",), "客服部": ("complaint", "inquiry", "suggestion"),
               "保洁部": ()}  # fmt: skip
DESK = "前台 王芳"
ENGINEERS = ("刘工", "陈师傅", "Mark Evans")
REPAIRS = {
    "water": ("厨房水龙头漏水", "卫生间下水道堵塞", "No hot water in the pantry"),
    "electricity": ("会议室插座没电", "走廊灯不亮", "Office lights flicker"),
    "lift": ("2号电梯门关不上", "电梯按钮失灵", "Lift B stops between floors"),
    "air_conditioning": ("空调不制冷", "空调漏水滴到桌上", "Air conditioning too loud"),
    "doors_locks": ("门禁卡刷不开", "消防通道门关不严", "Meeting room door lock stuck"),
    "cleaning": ("洗手间没有纸巾", "地毯有污渍", "Bins not emptied on 12th floor"),
    "other": ("窗户玻璃有裂缝", "停车场地锁坏了", "Blind in room 1805 broken"),
}
OTHER_TEXTS = {
    "complaint": ("快递员在大堂大声喧哗", "前台等候时间太长", "装修噪音影响办公",
                  "Visitor parking full every morning", "Lobby too cold in the mornings"),
    "suggestion": ("希望大堂增加饮水机", "建议延长前台服务时间", "Please add bicycle racks",
                   "A quiet room for calls would help"),
    "inquiry": ("周末空调开放时间？", "如何办理门禁卡？", "Where can I book the auditorium?",
                "Is there a lost and found?"),
}  # fmt: skip
NAMES = ("张伟", "李娜", "王磊", "陈静", "刘洋", "赵敏", "Anna Eriksson", "James O'Connor",
         "孙丽华", "周晓东", "Priya Natarajan", "黄海燕")  # fmt: skip
UNITS = ("A-1201", "A-1503", "A-1805", "B-0802", "B-1106", "B-2001", "C-0305")
CHANNELS = ("kiosk",) * 5 + ("phone",) * 3 + ("desk", "desk", "web")
STATION = {"kiosk": "K", "phone": "0", "desk": "0", "web": "0"}


def _kind(rng: random.Random) -> str:
    roll = rng.random()
    return ("repair" if roll < 0.55 else "complaint" if roll < 0.75
            else "inquiry" if roll < 0.9 else "suggestion")  # fmt: skip


#: The newest cases are still moving, as a desk has them on an ordinary day:
#: (state, hours since opened, kind or "" for any). The first is overdue (nobody answered
#: within 2 hours), the second resolved's follow-up is late.
OPEN_CASES = (
    ("received", 5, "complaint"), ("received", 0.7, ""), ("assigned", 3, "repair"),
    ("assigned", 26, ""), ("in_progress", 6, "repair"), ("in_progress", 50, "repair"),
    ("resolved", 8, ""), ("resolved", 36, "repair"), ("resolved", 12, ""),
    ("followed_up", 30, ""), ("reopened", 72, "repair"),
)  # fmt: skip


def seed_demo_cases(db: Database, site: Site, now: datetime) -> tuple[int, int]:
    """Add the demo's cases and calls (once: none if the site has cases); how many of each."""
    if Case.select().where(Case.site == site).exists():
        return 0, 0
    rng = random.Random(19)
    zone = ZoneInfo(load_site_settings(site).timezone)
    settings = case_settings_of(site)
    feed = ChangeFeed(db)
    plan: list[tuple[datetime, str, str]] = [
        (_daytime(now - timedelta(minutes=rng.randrange(4 * 24 * 60, DAYS * 24 * 60)), zone),
         "closed", "")
        for _ in range(CASES - len(OPEN_CASES))
    ]  # fmt: skip
    plan += [(now - timedelta(hours=hours), state, kind) for state, hours, kind in OPEN_CASES]
    plan.sort()  # the oldest first: each source's daily numbers rise with the time
    with feed.site_writes(site):
        departments = _departments(site)
        sequences: Counter[tuple[str, str]] = Counter()
        cases = []
        for opened, state, kind in plan:
            row = _case(rng, site, opened, zone, sequences, settings, departments, kind)
            _in_state(row, state, now, settings)
            cases.append(row)
        insert_rows(db, Case, cases)
        history = []
        for case in Case.select().where(Case.site == site):
            history += _history(case)
        insert_rows(db, CaseHistory, history)
        for (day, station), last in sequences.items():
            if station == "0":
                OfficeCaseSequence.insert(site=site, day=day, last=last).execute()
        calls = _calls(rng, site, now, zone)
        insert_rows(db, CallLogEntry, calls)
        feed.log_many(site, FEED_ENTITY, [(c.ref, case_data(c)) for c in
                                          Case.select().where(Case.site == site)])  # fmt: skip
    return len(cases), len(calls)


def _departments(site: Site) -> dict[str, Department]:
    made = {}
    for name in DEPARTMENTS:
        made[name] = Department.get_or_none(
            (Department.site == site) & (Department.name == name)
        ) or Department.create(site=site, name=name)
    for user in StaffUser.select().where((StaffUser.site == site) & (StaffUser.role == "host")):
        DepartmentMember.insert(department=made["客服部"], user=user).on_conflict_ignore().execute()
    return made


def _case(
    rng: random.Random, site: Site, opened: datetime, zone: ZoneInfo,
    sequences: Counter[tuple[str, str]], settings: CaseSettings,
    departments: dict[str, Department], kind: str = "",
) -> dict[str, Any]:  # fmt: skip
    kind = kind or _kind(rng)
    category = rng.choice(list(REPAIRS)) if kind == "repair" else ""
    texts = REPAIRS[category] if kind == "repair" else OTHER_TEXTS[kind]
    channel = rng.choice(CHANNELS)
    urgency = "urgent" if kind in ("repair", "complaint") and rng.random() < 0.15 else "normal"
    day = opened.astimezone(zone).strftime("%Y%m%d")
    sequences[(day, STATION[channel])] += 1
    number = f"{KIND_LETTER[kind]}-{day}-{STATION[channel]}{sequences[(day, STATION[channel])]:04d}"
    unit = rng.choice(UNITS)
    anonymous = kind == "suggestion" and rng.random() < 0.5
    department = departments["保洁部" if category == "cleaning" else
                             "工程部" if kind == "repair" else "客服部"]  # fmt: skip
    responded = opened + timedelta(minutes=rng.randrange(5, 150 if urgency == "normal" else 30))
    resolved = responded + timedelta(hours=rng.uniform(0.5, 30 if kind == "repair" else 8))
    followed = resolved + timedelta(
        hours=rng.uniform(0.5, 20) if rng.random() < 0.96 else rng.uniform(26, 50)
    )  # a few followed up late
    outcome = rng.choices(["satisfied", "not_satisfied", "unreachable"], [88, 5, 7])[0]
    return {
        "ref": f"{rng.getrandbits(64):016x}", "site": site.id, "number": number, "kind": kind,
        "urgency": urgency, "category": category, "state": "closed", "channel": channel,
        "building": unit[0], "floor": unit[2:4].lstrip("0"), "unit": unit, "place_text": "",
        "unit_known": True, "description": rng.choice(texts),
        "reporter_name": "" if anonymous else rng.choice(NAMES),
        "reporter_unit": "" if anonymous else unit,
        "reporter_phone": "" if anonymous else f"13{rng.randrange(10**8, 10**9)}",
        "language": "zh_CN" if rng.random() < 0.7 else "en", "photo_jpeg_b64": "",
        "department": department.id, "assignee": None,
        "resolution": "已处理" if rng.random() < 0.6 else "Fixed on site",
        "followup_outcome": outcome, "followup_note": "", "opened_at": opened,
        "response_due_at": settings.response_due(kind, urgency, opened),
        "responded_at": responded, "resolved_at": resolved,
        "followup_due_at": settings.followup_due(kind, resolved), "followed_up_at": followed,
        "closed_at": followed + timedelta(minutes=10), "reopened_count": 0,
        "escalation_level": 0, "updated_at": followed + timedelta(minutes=10),
    }  # fmt: skip


def _in_state(row: dict[str, Any], state: str, now: datetime, settings: CaseSettings) -> None:
    """A closed case's row made one in `state` at `now`: the later times taken away, the
    earlier ones kept before now."""
    row.update(state=state, closed_at=None, updated_at=now)
    latest = now - timedelta(minutes=10)
    if state == "closed":
        return
    row["responded_at"] = min(row["responded_at"], latest - timedelta(hours=1))
    if state == "received":
        row.update(responded_at=None, department=None)
    if state in ("received", "assigned", "in_progress"):
        row.update(resolved_at=None, followup_due_at=None, followed_up_at=None,
                   followup_outcome="", resolution="")  # fmt: skip
        _mark_told(row, now)
        return
    resolved = min(row["resolved_at"], latest - timedelta(minutes=30))
    if state == "resolved" and row["opened_at"] < now - timedelta(hours=35):  # followed up late
        resolved = now - timedelta(hours=30)
    row.update(resolved_at=resolved, followup_due_at=settings.followup_due(row["kind"], resolved),
               followed_up_at=min(row["followed_up_at"], latest))  # fmt: skip
    if state == "resolved":
        row.update(followed_up_at=None, followup_outcome="")
    if state == "reopened":
        row.update(reopened_count=1, resolved_at=None, followup_due_at=None,
                   followup_outcome="not_satisfied", followup_note="水龙头还在滴水")  # fmt: skip
    _mark_told(row, now)


def _mark_told(row: dict[str, Any], now: datetime) -> None:
    """A demo case overdue already had its escalation (no mail storm when the demo starts)."""
    unanswered = row["responded_at"] is None and row["response_due_at"] <= now
    late = row["state"] == "resolved" and row["followup_due_at"] <= now
    row["escalation_level"] = 2 if unanswered or late else 0


def _history(case: Case) -> list[dict[str, object]]:
    """The case's changes in order, as the desk records them."""
    lines = []
    opener = "kiosk" if case.channel == "kiosk" else DESK

    def add(at: datetime | None, actor: str, action: str, source: str, target: str,
            note: str = "") -> None:  # fmt: skip
        if at is not None:
            lines.append({"case": case.id, "at": at, "actor": actor, "action": action,
                          "from_state": source, "to_state": target, "note": note})  # fmt: skip

    add(case.opened_at, opener, "open", "", "received", f"by {case.channel}")
    if case.responded_at is None:
        return lines
    engineer = ENGINEERS[case.id % len(ENGINEERS)]
    add(case.responded_at, DESK, "assign", "received", "assigned")
    if case.state == "assigned":
        return lines
    started = case.responded_at + timedelta(minutes=20)
    add(started, engineer, "start", "assigned", "in_progress")
    if case.state == "in_progress":
        return lines
    resolved = case.resolved_at or started + timedelta(hours=2)
    add(resolved, engineer, "resolve", "in_progress", "resolved", case.resolution or "已处理")
    if case.state == "resolved":
        return lines
    followed = case.followed_up_at or resolved + timedelta(hours=3)
    add(followed, DESK, "follow_up", "resolved", "followed_up", case.followup_outcome)
    if case.state == "reopened":
        add(followed + timedelta(minutes=5), DESK, "reopen", "followed_up", "reopened",
            case.followup_note)  # fmt: skip
    elif case.closed_at is not None:
        add(case.closed_at, DESK, "close", "followed_up", "closed")
    return lines


def _daytime(moment: datetime, zone: ZoneInfo, start: int = 8, hours: int = 11) -> datetime:
    """`moment` moved into the local day's busy hours (08:00-19:00 by default), same day."""
    local = moment.astimezone(zone)
    minute = (local.hour * 60 + local.minute) % (hours * 60)
    return local.replace(hour=start + minute // 60, minute=minute % 60).astimezone(moment.tzinfo)


def _calls(
    rng: random.Random, site: Site, now: datetime, zone: ZoneInfo
) -> list[dict[str, object]]:
    """The call log: each phone case's call, messages for hosts, plain questions."""
    rows = []
    for case in Case.select().where((Case.site == site) & (Case.channel == "phone")):
        rows.append({"site": site.id, "at": case.opened_at - timedelta(minutes=2),
                     "caller": case.reporter_name, "unit": case.reporter_unit,
                     "subject": case.description, "for_whom": "", "message": "",
                     "recorded_by": DESK, "case_ref": case.ref})  # fmt: skip
    hosts = [h.name for h in OfficeHost.select().where(OfficeHost.site == site)]
    messages = (
        "请回电确认明天会议时间",
        "Please call back about the contract",
        "快递已到前台，请下班前来取",
        "The interview candidate will be 15 minutes late",
    )
    questions = ("问周末大堂开放时间", "Asked for the Wi-Fi password for guests",
                 "询问停车收费标准", "Asked where to deliver office furniture")  # fmt: skip
    for _ in range(30):
        at = _daytime(now - timedelta(minutes=rng.randrange(24 * 60, DAYS * 24 * 60)), zone, 9, 8)
        caller = rng.choice(NAMES)
        if hosts and rng.random() < 0.5:
            rows.append({"site": site.id, "at": at, "caller": caller, "unit": "",
                         "subject": "", "for_whom": rng.choice(hosts),
                         "message": rng.choice(messages), "recorded_by": DESK,
                         "case_ref": ""})  # fmt: skip
        else:
            rows.append({"site": site.id, "at": at, "caller": caller, "unit": rng.choice(UNITS),
                         "subject": rng.choice(questions), "for_whom": "", "message": "",
                         "recorded_by": DESK, "case_ref": ""})  # fmt: skip
    return rows
