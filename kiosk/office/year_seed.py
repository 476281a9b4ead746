"""A year of made-up visits for a site, in bulk: for the benchmarks, the tests of the
reports, and the demo office."""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from peewee import Database

from kiosk.dbkit.rows import insert_rows
from kiosk.domain.values import CheckInMethod, Purpose, VisitorLevel
from kiosk.office.models import Kiosk, OfficeAppointment, OfficeHost, OfficeVisit, Site
from kiosk.office.visit_names import visit_name_key


def seed_year(
    db: Database,
    site: Site,
    *,
    visits: int = 100_000,
    end: datetime,
    zone: ZoneInfo,
    kiosks: int = 3,
    hosts: int = 200,
    seed: int = 6,
    host_refs: Sequence[str] = (),
    visitors: Sequence[tuple[str, str]] = (),
) -> int:
    """Fill the site with a year of visits ending at `end` (for benchmarks and tests):
    hosts in departments, kiosks, office appointments (some never kept), visits with
    response times and ratings, in bulk (insert_rows), within a few seconds for 100,000.
    `host_refs` gives the site's own hosts instead of `hosts` made-up ones, and `visitors`
    the (name, company) pairs visitors are drawn from instead of "Visitor n, Example Ltd"
    (the demo office). Returns the number of visits written."""
    rng = random.Random(seed)
    with db.atomic():
        kiosk_ids = _seed_kiosks(site, kiosks, end)
        host_refs = host_refs or _seed_hosts(db, site, hosts, end)
        first_day = (end.astimezone(zone) - timedelta(days=365)).date()
        visit_rows: list[dict[str, Any]] = []
        appointment_rows: list[dict[str, Any]] = []
        for n in range(visits):
            day = first_day + timedelta(days=rng.randrange(365))
            arrived = datetime.combine(day, time(9), zone) + timedelta(
                seconds=rng.randrange(8 * 3600)
            )
            if arrived >= end:
                arrived -= timedelta(days=365)
            host = rng.choice(host_refs)
            name, company = rng.choice(visitors) if visitors else (f"Visitor {n}", "Example Ltd")
            visit = _visit_row(rng, site, kiosk_ids, arrived, host, (name, company))
            visit_rows.append(visit)
            if visit["appointment_ref"]:
                appointment_rows.append(
                    {
                        "ref": visit["appointment_ref"],
                        "site": site.id,
                        "visit_ref": visit["ref"],
                        "host_ref": visit["host_ref"],
                        "visitor_name": name,
                        "starts_at": arrived,
                        "ends_at": arrived + timedelta(hours=1),
                        "updated_at": end,
                        # As intake copies it (kiosk.office.appointment_arrivals).
                        "visit_arrived_at": visit["arrived_at"],
                    }
                )
        for start in range(0, len(visit_rows), 5000):
            insert_rows(db, OfficeVisit, visit_rows[start : start + 5000])
        for start in range(0, len(appointment_rows), 5000):
            insert_rows(db, OfficeAppointment, appointment_rows[start : start + 5000])
    return len(visit_rows)


def _seed_kiosks(site: Site, count: int, now: datetime) -> list[int]:
    ids = []
    for n in range(count):
        kiosk_id = f"bench-{site.id}-{n}-{secrets.token_hex(3)}"
        ids.append(
            Kiosk.create(
                kiosk_id=kiosk_id,
                site=site,
                name=f"Lobby {n + 1}",
                auth_public_key="0" * 64,
                badge_public_key="0" * 64,
                enrolled_at=now,
            ).id
        )
    return ids


def _seed_hosts(db: Database, site: Site, count: int, now: datetime) -> list[str]:
    departments = ["Sales", "Finance", "行政部", "Engineering", "Legal", "Facilities"]
    refs = [secrets.token_hex(8) for _ in range(count)]
    insert_rows(
        db,
        OfficeHost,
        [
            {
                "ref": ref,
                "site": site.id,
                "name": f"Host {n}",
                "department": departments[n % len(departments)],
                "updated_at": now,
            }
            for n, ref in enumerate(refs)
        ],
    )
    return refs


PURPOSES = [p.value for p in Purpose]
LEVELS = [VisitorLevel.ORDINARY.value] * 8 + [VisitorLevel.SENIOR.value, VisitorLevel.VIP.value]
METHODS = [m.value for m in CheckInMethod]


def _visit_row(
    rng: random.Random,
    site: Site,
    kiosk_ids: list[int],
    arrived: datetime,
    host: str,
    visitor: tuple[str, str],
) -> dict[str, Any]:
    """One made-up visit: most checked out, a few denied or no-shows, most answered within a
    minute or so, some rated. The random draws keep their order (a seed gives the same year
    as before): the kiosk is drawn after the rating, then the purpose and the level."""
    name, company = visitor
    ref = secrets.token_hex(8)
    roll = rng.random()
    state = "checked_out" if roll < 0.93 else ("denied" if roll < 0.95 else "no_show")
    acknowledged = (
        arrived + timedelta(seconds=rng.expovariate(1 / 45))
        if state == "checked_out" and rng.random() < 0.9
        else None
    )
    method = rng.choice(METHODS)
    rated = state == "checked_out" and rng.random() < 0.4
    appointment_ref = secrets.token_hex(8) if method != "walk_in" else ""
    return {
        "ref": ref,
        "site": site.id,
        "kiosk": rng.choice(kiosk_ids),
        "state": state,
        "visitor_name": name,
        "company": company,
        "name_key": visit_name_key(name),
        "host_ref": host,
        "appointment_ref": appointment_ref,
        "method": method,
        "purpose": rng.choice(PURPOSES),
        "level": rng.choice(LEVELS),
        "visitor_type": "visitor",
        "escort_required": False,
        "arrived_at": None if state == "no_show" else arrived,
        "host_notified_at": None if state == "no_show" else arrived,
        "host_acknowledged_at": acknowledged,
        "left_at": arrived + timedelta(hours=1) if state == "checked_out" else None,
        "satisfaction": rng.randint(1, 5) if rated else None,
        "auto_checked_out": False,
        "updated_at": arrived + timedelta(hours=1),
    }
