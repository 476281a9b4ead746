"""A demo office for `make office`: the kiosk demo's hosts and today's appointments, two months
of past visits for the reports, and an admin account whose password is made up on the spot
(and printed once), so no password ever sits in the repository."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from kiosk.demo import APPOINTMENTS, HOSTS
from kiosk.office import reporting
from kiosk.office.models import OfficeHost, StaffUser
from kiosk.office.settings import SiteSettings, load_site_settings, save_site_settings
from kiosk.office.staff import Role, StaffDirectory
from kiosk.office.store import OfficeStore

DEMO_ZONE = "Asia/Shanghai"
PAST_VISITS = 3000
ADMIN = "admin"


@dataclass(frozen=True)
class OfficeDemo:
    site: str
    username: str
    password: str | None  # None when the account existed already (its password is unchanged)
    hosts: int
    appointments: int
    past_visits: int


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
                zone=zone, kiosks=2, hosts=12,
            )  # fmt: skip
    else:
        past = 0
    password = None
    with store.db.connection_context():
        if StaffUser.get_or_none(StaffUser.username == ADMIN) is None:
            password = "-".join(secrets.token_hex(3) for _ in range(3))
            StaffDirectory(store.db, store.clock).add_user(
                site, ADMIN, password, Role.ADMIN, display_name="Demo admin", language="zh_Hans"
            )
    return OfficeDemo(site_name, ADMIN, password, len(fresh), booked, past)


def describe(demo: OfficeDemo, url: str) -> str:
    account = (
        f"sign in as {demo.username} with password {demo.password} (shown this once)"
        if demo.password
        else f"sign in as {demo.username} with the password printed the first time (lost it? "
        "remove the demo database and run this again)"
    )
    return (
        f"demo office for {demo.site!r}: {demo.hosts} hosts, {demo.appointments} appointments "
        f"today, {demo.past_visits} past visits\n{url}/ — {account}"
    )
