"""Parcels for the demo office (`make office`, kiosk.office.demo): two months of deliveries
at the demo site's first kiosk, for its hosts and a few companies, most collected within
hours, some still waiting on the shelf (a few for days, so the reminders and the desk's
list have something to say), two returned to sender. Every name here is made up."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

from peewee import Database

from kiosk.dbkit.rows import insert_rows
from kiosk.office.deliveries.intake import parcel_data
from kiosk.office.deliveries.models import Parcel, ParcelHistory
from kiosk.office.feed import ChangeFeed
from kiosk.office.models import Kiosk, Site

DAYS = 60
COMPANIES = ("浦江智能科技", "申城物流", "Nordic Partners", "Lakeside Catering")
COLLECTORS = ("李娜", "王强", "陳美玲", "Maria Schmidt", "James O'Connor", "张伟", "前台 王芳")
CARRIERS = ("sf", "jd", "zto", "yto", "sto", "yunda", "ems", "meituan", "eleme", "dhl", "fedex")
KINDS = ("parcel", "parcel", "parcel", "documents", "flowers", "other")


def seed_demo_parcels(db: Database, site: Site, host_refs: list[str], now: datetime) -> int:
    """Add the demo's parcels (once: none if the site has some); how many."""
    kiosk = Kiosk.select().where(Kiosk.site == site).order_by(Kiosk.id).first()
    if kiosk is None or not host_refs or Parcel.select().where(Parcel.site == site).exists():
        return 0
    rng = random.Random(20)
    rows = []
    for _ in range(DAYS * 8):
        logged = now - timedelta(minutes=rng.randrange(30, DAYS * 24 * 60))
        age = now - logged
        roll = rng.random()
        if age < timedelta(hours=3) or roll < 0.02:
            state = "waiting"
        elif roll < 0.025:
            state = "returned"
        else:
            state = "collected"
        carrier = rng.choice(CARRIERS)
        kind = "food" if carrier in ("meituan", "eleme") else rng.choice(KINDS)
        wait = timedelta(minutes=rng.randrange(3, 20) if kind == "food" else rng.randrange(10, 900))
        collected = min(logged + wait, now) if state == "collected" else None
        company = rng.choice(COMPANIES) if rng.random() < 0.15 else ""
        rows.append({
            "ref": f"{rng.getrandbits(64):016x}", "site": site.id, "kiosk": kiosk.id,
            "logged": True, "pickup_code": f"{rng.randrange(100000, 999999)}",
            "host_ref": "" if company else rng.choice(host_refs), "company": company,
            "kind": kind, "carrier": carrier, "items": rng.choice((1, 1, 1, 2, 3)),
            "waybill": f"{carrier.upper()}{rng.randrange(10**11, 10**12)}",
            "shelf": f"{rng.choice('ABC')}-{rng.randrange(1, 7)}", "recipient_left": False,
            "token_id": f"{rng.getrandbits(64):016x}", "state": state, "logged_at": logged,
            "collected_at": collected,
            "collected_by": rng.choice(COLLECTORS) if collected else "",
            "collected_method": rng.choice(("qr", "qr", "code", "guard")) if collected else "",
            "signed": bool(collected) and rng.random() < 0.5,
            "collected_kiosk": kiosk.kiosk_id if collected else "",
            "returned_at": logged + timedelta(days=3) if state == "returned" else None,
            "returned_by": "admin" if state == "returned" else "", "updated_at": now,
        })  # fmt: skip
    feed = ChangeFeed(db)
    with feed.site_writes(site):
        insert_rows(db, Parcel, rows)
        _history(db, site, kiosk)
        waiting = Parcel.select().where((Parcel.site == site) & (Parcel.state == "waiting"))
        feed.log_many(site, "parcel", [(p.ref, parcel_data(p)) for p in waiting])
    return len(rows)


def _history(db: Database, site: Site, kiosk: Kiosk) -> None:
    """Each demo parcel's history, as intake and the desk would have written it."""
    lines = []
    for parcel in Parcel.select().where(Parcel.site == site):
        lines.append({"parcel": parcel.id, "at": parcel.logged_at, "action": "logged",
                      "actor": kiosk.kiosk_id, "detail": "{}"})  # fmt: skip
        if parcel.collected_at is not None:
            detail = {"collected_by": parcel.collected_by, "method": parcel.collected_method}
            lines.append({"parcel": parcel.id, "at": parcel.collected_at, "action": "collected",
                          "actor": kiosk.kiosk_id,
                          "detail": json.dumps(detail, ensure_ascii=False)})  # fmt: skip
        if parcel.returned_at is not None:
            lines.append({"parcel": parcel.id, "at": parcel.returned_at, "action": "returned",
                          "actor": parcel.returned_by, "detail": "{}"})  # fmt: skip
    insert_rows(db, ParcelHistory, lines)
