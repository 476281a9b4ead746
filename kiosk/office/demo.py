"""A demo office for `make office`: the kiosk demo's hosts and today's appointments, a history
of past visits for the reports, a few visitors on site now, and an admin account whose password
is made up on the spot (and printed once), so no password ever sits in the repository.

The visitors have the names a lobby in Shanghai sees (Chinese and Western, with the companies
they come from), as the kiosk's demo (kiosk.demo) has: every name and company here is made up.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from peewee import Database

from kiosk.dbkit.rows import insert_rows
from kiosk.demo_people import APPOINTMENTS, HOSTS
from kiosk.domain.values import CheckInMethod, Purpose, VisitorLevel, VisitState
from kiosk.office import reporting
from kiosk.office.cases.demo import seed_demo_cases
from kiosk.office.deliveries.demo import seed_demo_parcels
from kiosk.office.models import Kiosk, OfficeHost, OfficeVisit, Site, StaffUser
from kiosk.office.settings import SiteSettings, load_site_settings, save_site_settings
from kiosk.office.staff import Role, StaffDirectory
from kiosk.office.store import OfficeStore

DEMO_ZONE = "Asia/Shanghai"
PAST_VISITS = 3000
ADMIN = "admin"

#: The commonest surnames, the first ones twice: 王, 李, 张 and 刘 are a fifth of China.
CHINESE_SURNAMES = (
    "王李张刘陈王李张刘陈杨黄赵吴周徐孙马朱胡郭"
    "何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋"
)  # fmt: skip
CHINESE_GIVEN_NAMES = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛",
    "明", "超", "霞", "平", "刚", "婷", "浩", "宇", "鑫", "琳", "欣怡", "子轩", "建华", "志强",
    "海燕", "晓东", "文博", "雨婷", "俊杰", "佳怡", "思远", "梓涵", "国庆", "玉兰", "德明",
)  # fmt: skip
WESTERN_FIRST_NAMES = (
    "Anna", "James", "Sophie", "Lukas", "Olivia", "Daniel", "Emma", "Thomas", "Priya", "Marco",
    "Hannah", "David", "Chloe", "Mateo", "Isabel", "Samuel", "Nora", "Oliver", "Yuki", "Ahmed",
)  # fmt: skip
WESTERN_SURNAMES = (
    "Eriksson", "Müller", "Bennett", "Rossi", "Dubois", "Novak", "Kowalski", "Fischer",
    "O'Brien", "García", "Jensen", "Tanaka", "Schneider", "Moreau", "Carter", "Lindqvist",
    "Natarajan", "Kim", "Hughes", "van Dijk",
)  # fmt: skip
CHINESE_COMPANIES = (
    "华东建设", "浦江智能科技", "金桥物业服务", "申城物流", "长宁律师事务所", "恒信会计师事务所",
    "东方数码", "新锐广告", "蓝海医疗器械", "瑞丰投资",
)  # fmt: skip
WESTERN_COMPANIES = (
    "Acme Robotics", "Nordic Partners", "Bluefin Logistics", "Meridian Analytics",
    "Lakeside Catering", "Harbour & Finch LLP", "Alpine Software", "Brightline Consulting",
    "Kestrel Security", "Orchid Travel",
)  # fmt: skip
#: How many different visitors the history is drawn from: regulars come back.
VISITOR_POOL = 400


def demo_visitors(count: int = VISITOR_POOL, seed: int = 22) -> list[tuple[str, str]]:
    """(name, company) pairs, about two in three Chinese, mostly from Chinese companies; one in
    six without a company (an interview, a private visit)."""
    rng = random.Random(seed)
    people: dict[str, str] = {}
    while len(people) < count:
        chinese = rng.random() < 0.65
        if chinese:
            name = rng.choice(CHINESE_SURNAMES) + rng.choice(CHINESE_GIVEN_NAMES)
        else:
            name = f"{rng.choice(WESTERN_FIRST_NAMES)} {rng.choice(WESTERN_SURNAMES)}"
        companies = CHINESE_COMPANIES if chinese == (rng.random() < 0.8) else WESTERN_COMPANIES
        people.setdefault(name, "" if rng.random() < 0.17 else rng.choice(companies))
    return list(people.items())


@dataclass(frozen=True)
class OnSiteNow:
    """A visitor inside now: arrived `minutes_ago`, the host's answer after `answered_after`
    seconds (None: still waiting)."""

    visitor: str
    company: str
    host_email: str
    minutes_ago: int
    answered_after: int | None
    purpose: Purpose = Purpose.VISIT_PERSON
    level: VisitorLevel = VisitorLevel.ORDINARY
    visitor_type: str = "visitor"
    escort: bool = False


ON_SITE_NOW = (
    OnSiteNow("孙丽华", "长宁律师事务所", "wang.qiang@example.com", 55, 35,
              level=VisitorLevel.SENIOR),
    OnSiteNow("Lukas Fischer", "Meridian Analytics", "maria.schmidt@example.com", 40, 20),
    OnSiteNow("周晓东", "金桥物业服务", "li.na@example.com", 25, 50, purpose=Purpose.REPAIR,
              visitor_type="contractor", escort=True),
    OnSiteNow("Olivia Bennett", "Lakeside Catering", "zhang.wei@example.com", 3, None,
              purpose=Purpose.DELIVERY, visitor_type="delivery"),
)  # fmt: skip


@dataclass(frozen=True)
class OfficeDemo:
    site: str
    username: str
    password: str | None  # None when the account existed already (its password is unchanged)
    hosts: int
    appointments: int
    past_visits: int
    on_site: int
    cases: int = 0
    calls: int = 0


def seed_office_demo(store: OfficeStore, site_name: str) -> OfficeDemo:
    """Idempotent: a second run adds nothing and keeps the admin's password."""
    site = store.site(site_name)
    now = store.clock.now()
    zone = ZoneInfo(DEMO_ZONE)
    with store.db.connection_context():
        if load_site_settings(site) == SiteSettings():
            save_site_settings(
                site,
                SiteSettings(timezone=DEMO_ZONE, address="1 Century Avenue, 18th floor"),
                now,
            )
        known = {host.email for host in OfficeHost.select().where(OfficeHost.site == site)}
        fresh = [row for row in HOSTS if row[1] not in known]
    refs = {}
    for name, email, department, availability, senior, approval, _delegate in fresh:
        host = store.add_host(
            site_name, name, email=email, department=department, availability=availability,
            is_senior=senior, walk_in_needs_approval=approval,
        )  # fmt: skip
        refs[email] = host.ref
    for name, email, department, availability, senior, approval, delegate in fresh:
        if delegate and delegate in refs:
            store.add_host(
                site_name, name, email=email, department=department, availability=availability,
                is_senior=senior, walk_in_needs_approval=approval,
                delegate_ref=refs[delegate], ref=refs[email],
            )  # fmt: skip
    booked = 0
    if fresh:  # first run: today's appointments and a history for the reports
        local_now = now.astimezone(zone).replace(minute=0, second=0, microsecond=0)
        bookings = [
            {
                "visitor_name": visitor,
                "host_ref": refs[host_email],
                "starts_at": local_now + timedelta(hours=offset),
                "company": company,
                "purpose": purpose,
                "level": level,
                "visitor_type": visitor_type,
            }
            for visitor, host_email, offset, company, purpose, level, visitor_type in APPOINTMENTS
            if host_email in refs
        ]
        booked = len(store.add_appointments(site_name, bookings))
        with store.db.connection_context():
            past = reporting.seed_year(
                store.db, site, visits=PAST_VISITS, end=now - timedelta(days=1),
                zone=zone, kiosks=2, host_refs=list(refs.values()), visitors=demo_visitors(),
            )  # fmt: skip
            on_site = seed_on_site(store.db, site, refs, now)
            seed_demo_parcels(store.db, site, list(refs.values()), now)
            cases, calls = seed_demo_cases(store.db, site, now)
    else:
        past = on_site = cases = calls = 0
    password = None
    with store.db.connection_context():
        if StaffUser.get_or_none(StaffUser.username == ADMIN) is None:
            password = "-".join(secrets.token_hex(3) for _ in range(3))
            StaffDirectory(store.db, store.clock).add_user(
                site, ADMIN, password, Role.ADMIN, display_name="Demo admin", language="zh_Hans"
            )
    return OfficeDemo(site_name, ADMIN, password, len(fresh), booked, past, on_site, cases, calls)


def seed_on_site(db: Database, site: Site, hosts: dict[str, str], now: datetime) -> int:
    """ON_SITE_NOW, arrived at the site's first kiosk, as the kiosk's events would have
    recorded them; `hosts` maps the demo hosts' e-mails to their refs."""
    lobby = Kiosk.select().where(Kiosk.site == site).order_by(Kiosk.id).first()
    rows = []
    for person in ON_SITE_NOW:
        if person.host_email not in hosts:
            continue
        arrived = now - timedelta(minutes=person.minutes_ago)
        answered = person.answered_after
        rows.append(
            {
                "ref": secrets.token_hex(8), "site": site.id, "kiosk": lobby.id,
                "state": (VisitState.AWAITING_HOST if answered is None
                          else VisitState.HOST_ACKNOWLEDGED).value,
                "visitor_name": person.visitor, "company": person.company,
                "name_key": reporting.visit_name_key(person.visitor),
                "host_ref": hosts[person.host_email], "method": CheckInMethod.WALK_IN.value,
                "purpose": person.purpose.value, "level": person.level.value,
                "visitor_type": person.visitor_type, "escort_required": person.escort,
                "arrived_at": arrived, "host_notified_at": arrived,
                "host_acknowledged_at": (None if answered is None
                                         else arrived + timedelta(seconds=answered)),
                "updated_at": arrived,
            }
        )  # fmt: skip
    with db.atomic():
        insert_rows(db, OfficeVisit, rows)
    return len(rows)


def describe(demo: OfficeDemo, url: str) -> str:
    account = (
        f"sign in as {demo.username} with password {demo.password} (shown this once)"
        if demo.password
        else f"sign in as {demo.username} with the password printed the first time (lost it? "
        "remove the demo database and run this again)"
    )
    return (
        f"demo office for {demo.site!r}: {demo.hosts} hosts, {demo.appointments} appointments "
        f"today, {demo.past_visits} past visits, {demo.on_site} visitors on site now, "
        f"{demo.cases} cases, {demo.calls} calls\n"
        f"{url}/ — {account}"
    )
