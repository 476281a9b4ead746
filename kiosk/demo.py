"""Demo data for `make run`: a small company directory, today's appointments, and the demo
site's settings (`kiosk init --demo` writes them into its kiosk.toml).

Safe to run again: hosts are upserted by e-mail and appointments are added only when today
has none, so the demo stays the same size however often it is started.

Every notification of the demo goes to the demo's mailbox (kiosk.demo_mail), which `make
run` starts with the notifier: the hosts' channels, and reception's and security's in the
config, are mailto:// URLs to it, so the messages land in data/demo/mail/ and nothing
needs the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from kiosk.demo_mail import demo_mail_url
from kiosk.demo_people import APPOINTMENTS, HOSTS
from kiosk.parts import Kiosk
from kiosk.storage.models import Appointment, WatchlistEntry

DEMO_RECEPTION = "reception@example.com"
DEMO_SECURITY = "security@example.com"

#: The demo's [site] settings, after its name: a demo is tried at any hour.
DEMO_SITE_SETTINGS = """\
# The demo admits every visitor at any hour, every day, so that `make run` works in the
# evening and at weekends too. A real site lists its reception hours and days, and chooses
# who may check in outside them: after_hours = "closed" (nobody), "appointments_only"
# (the default: invitations and appointments) or "open" (everyone, walk-ins included).
opening_hours = ["00:00-24:00"]
open_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
after_hours = "open"
"""

#: The demo's tables after [office]: reception and security read the demo's mailbox.
DEMO_CONFIG_TABLES = f"""
[notifications]
# The demo's mailbox (`kiosk demo-mail`, started by `make run`) keeps every message as an
# .eml file in mail/ beside this file. A real site lists its own apprise URLs here.
reception = ["{demo_mail_url(DEMO_RECEPTION)}"]
security = ["{demo_mail_url(DEMO_SECURITY)}"]

[devices.id_reader]
# A real resident-ID card reader at /dev/kiosk-idreader if one is plugged in, else the
# simulated one: lay a card on it with `kiosk demo-card lay resident` (or permanent,
# permit, expired, bad_check, ...), lift it with `kiosk demo-card lift`.
kind = "auto"
"""

#: The demo's staff PINs: demo data, printed by `kiosk demo-seed`; a real site sets its own
#: with `kiosk admin set-pin`.
DEMO_PINS = {"guard": "2468", "admin": "1357"}


@dataclass
class SeedResult:
    hosts: int
    appointments: int
    invitations: list[tuple[str, str]]  # (visitor, token)


def seed_demo(kiosk: Kiosk) -> SeedResult:
    directory = kiosk.directory
    for name, email, department, availability, senior, approval, _delegate in HOSTS:
        directory.add_host(
            name,
            email=email,
            department=department,
            is_senior=senior,
            walk_in_needs_approval=approval,
            channels=[demo_mail_url(email)],
        )
        directory.set_availability(email, availability)
    for name, email, department, _availability, senior, approval, delegate in HOSTS:
        if delegate:  # once every host exists: a delegate must be a host already
            directory.add_host(
                name,
                email=email,
                department=department,
                is_senior=senior,
                walk_in_needs_approval=approval,
                delegate=delegate,
                channels=[demo_mail_url(email)],
            )
    from kiosk.services.pins import set_pin, stored_pin_hash

    for role in ("guard", "admin"):
        if not stored_pin_hash(role, kiosk.config):
            set_pin(role, DEMO_PINS[role])
    if not WatchlistEntry.select().exists():
        directory.add_watchlist_entry(
            "Mallory Banned", reason="Demo entry: trespass notice 2026-03"
        )
    from kiosk.demo_parcels import seed_demo_parcels

    seed_demo_parcels(kiosk)
    now = kiosk.clock.now()
    start, end = directory.calendar.day_bounds(now)
    invitations: list[tuple[str, str]] = []
    if (
        Appointment.select()
        .where((Appointment.starts_at >= start) & (Appointment.starts_at < end))
        .exists()
    ):
        return SeedResult(len(HOSTS), 0, invitations)
    local_now = now.astimezone(directory.calendar.zone)
    base = datetime.combine(local_now.date(), time(local_now.hour), directory.calendar.zone)
    signer = kiosk.keys.invitation_signer() if kiosk.keys.has_invitation_key() else None
    for visitor, host, offset, company, purpose, level, visitor_type in APPOINTMENTS:
        at = min(max(base + timedelta(hours=offset), start), end - timedelta(hours=1))
        if signer is not None and visitor_type == "visitor":
            invitation = directory.invite(
                signer,
                visitor_name=visitor,
                host=host,
                at=at,
                company=company,
                purpose=purpose,
                level=level,
                visitor_type=visitor_type,
            )
            invitations.append((visitor, invitation.token))
        else:
            directory.add_appointment(
                visitor_name=visitor,
                host=host,
                starts_at=at,
                company=company,
                purpose=purpose,
                level=level,
                visitor_type=visitor_type,
            )
    return SeedResult(len(HOSTS), len(APPOINTMENTS), invitations)
