"""Years of an office's visits made by PostgreSQL itself, for `make growth` (issue 21).

`seed_office` fills an office database with sites, kiosks and hosts through the models, then
lets the server write the visits and their appointments with one `INSERT ... SELECT FROM
generate_series` each: no row crosses the wire, so 20 million visits take minutes, not hours.
The indexes of the two big tables are dropped first and rebuilt from their own definitions
afterwards (one sort per index instead of 20 million insertions into each), and the tables
are then vacuumed and analysed, as a real office's autovacuum would have done over the years.

The rows are what the office's intake and nightly purge leave behind (kiosk.year_seed makes
the same shape one row at a time for SQLite): most visits checked out within the hour, a few
denied or no-shows, most answered within a minute; visits older than the office's default
`visitor_details_days` have their name, company and search keys blanked, as the purge does.
Sites are uneven: a flagship with many kiosks and the rest with a few each. PostgreSQL only.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from peewee import Database

from kiosk.dbkit.rows import insert_rows
from kiosk.domain.values import CheckInMethod, Purpose, VisitorLevel
from kiosk.office.models import Kiosk, OfficeHost, Site
from kiosk.office.settings import SiteSettings, save_site_settings

#: The office's default retention of a visitor's name (SiteSettings.visitor_details_days).
DETAILS_DAYS = SiteSettings().visitor_details_days
BIG_TABLES = ("office_visit", "office_appointment")
DEPARTMENTS = ["Sales", "Finance", "行政部", "Engineering", "Legal", "Facilities"]


@dataclass(frozen=True)
class OfficeShape:
    """How big the office is: `kiosks` spread over `sites`, the first site (the flagship)
    having `flagship_kiosks` of them; `visits` over `years`, shared evenly by the kiosks."""

    visits: int = 20_000_000
    kiosks: int = 200
    sites: int = 46
    flagship_kiosks: int = 20
    hosts_per_site: int = 60
    years: int = 5

    def kiosks_of(self, site_index: int) -> int:
        if site_index == 0:
            return self.flagship_kiosks
        rest, others = self.kiosks - self.flagship_kiosks, self.sites - 1
        return rest // others + (1 if site_index - 1 < rest % others else 0)


@dataclass
class SeededOffice:
    site_ids: list[int]
    visits: int
    appointments: int
    seconds: dict[str, float] = field(default_factory=dict)


def host_ref(site_id: int, number: int) -> str:
    """The seeded host `number` of a site; the SQL below computes the same with md5()."""
    return hashlib.md5(f"{site_id}:{number}".encode()).hexdigest()[:16]


def seed_office(
    db: Database, shape: OfficeShape, *, end: datetime, zone: ZoneInfo, seed: float = 0.21
) -> SeededOffice:
    """Fill an empty PostgreSQL office with `shape`'s sites, kiosks, hosts and visits ending
    at `end` (site times in `zone`). Returns the sites (the flagship first) and the counts."""
    if shape.kiosks_of(0) >= shape.kiosks or shape.sites < 2:
        raise ValueError("the flagship needs fewer kiosks than the office, and others beside")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    site_ids = _seed_fleet(db, shape, end, zone)
    timings["fleet"] = time.perf_counter() - started
    definitions = _drop_indexes(db)
    with db.atomic():
        # The rows are valid by construction (their kiosk and site come from the join): the
        # per-row foreign-key triggers are skipped for this load, as pg_restore does.
        db.execute_sql("SET LOCAL session_replication_role = replica")
        db.execute_sql("SELECT setseed(%s)", (seed,))
        started = time.perf_counter()
        db.execute_sql(_VISITS_SQL, _visit_params(shape, end, zone))
        timings["visits"] = time.perf_counter() - started
        started = time.perf_counter()
        db.execute_sql(_APPOINTMENTS_SQL)
        timings["appointments"] = time.perf_counter() - started
    started = time.perf_counter()
    db.execute_sql("SET maintenance_work_mem = '512MB'")
    for definition in definitions:
        db.execute_sql(definition)
    timings["indexes"] = time.perf_counter() - started
    started = time.perf_counter()
    for table in BIG_TABLES:  # VACUUM cannot run in a transaction: autocommit statements
        db.execute_sql(f'VACUUM (ANALYZE) "{table}"')
    timings["vacuum"] = time.perf_counter() - started
    visits = db.execute_sql('SELECT count(*) FROM "office_visit"').fetchone()[0]
    appointments = db.execute_sql('SELECT count(*) FROM "office_appointment"').fetchone()[0]
    return SeededOffice(site_ids, int(visits), int(appointments), timings)


def _seed_fleet(db: Database, shape: OfficeShape, end: datetime, zone: ZoneInfo) -> list[int]:
    """The sites (with their time zone), their kiosks and hosts, through the models; and the
    temporary table that maps a visit's number to its kiosk and site."""
    first_day = end - timedelta(days=365 * shape.years)
    site_ids, kiosk_rows, host_rows = [], [], []
    with db.atomic():
        for index in range(shape.sites):
            site = Site.create(name=f"Growth Tower {index + 1}", created_at=first_day)
            save_site_settings(site, SiteSettings(timezone=zone.key), first_day)
            site_ids.append(site.id)
            for number in range(shape.kiosks_of(index)):
                kiosk_rows.append(
                    {
                        "kiosk_id": f"growth-{site.id}-{number}",
                        "site": site.id,
                        "name": f"Lobby {number + 1}",
                        "auth_public_key": "0" * 64,
                        "badge_public_key": "0" * 64,
                        "enrolled_at": first_day,
                    }
                )
            for number in range(shape.hosts_per_site):
                host_rows.append(
                    {
                        "ref": host_ref(site.id, number),
                        "site": site.id,
                        "name": f"Host {index + 1}.{number}",
                        "department": DEPARTMENTS[number % len(DEPARTMENTS)],
                        "updated_at": end,
                    }
                )
        insert_rows(db, Kiosk, kiosk_rows)
        insert_rows(db, OfficeHost, host_rows)
    db.execute_sql("DROP TABLE IF EXISTS growth_kiosk")
    db.execute_sql(
        "CREATE UNLOGGED TABLE growth_kiosk AS SELECT (row_number() OVER (ORDER BY id)) - 1"
        ' AS n, id AS kiosk_id, site_id FROM "kiosk" WHERE "kiosk_id" LIKE %s',
        ("growth-%",),
    )
    db.execute_sql("CREATE UNIQUE INDEX ON growth_kiosk (n)")
    return site_ids


def _drop_indexes(db: Database) -> list[str]:
    """Drop every index of the big tables but their primary keys; return their definitions."""
    rows = db.execute_sql(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        " AND tablename = ANY(%s) AND indexname NOT LIKE %s",
        (list(BIG_TABLES), "%_pkey"),
    ).fetchall()
    for name, _definition in rows:
        db.execute_sql(f'DROP INDEX "{name}"')
    return [definition for _name, definition in rows]


def _visit_params(shape: OfficeShape, end: datetime, zone: ZoneInfo) -> dict[str, object]:
    end_ms = int(end.timestamp() * 1000)
    days = 365 * shape.years
    last_midnight = datetime.combine(end.astimezone(zone).date(), datetime.min.time(), zone)
    first_morning = last_midnight - timedelta(days=days - 1) + timedelta(hours=9)
    return {
        "visits": shape.visits,
        "kiosks": shape.kiosks,
        "days": days,
        "first_ms": int(first_morning.timestamp() * 1000),
        "end_ms": end_ms,
        "named_since_ms": end_ms - DETAILS_DAYS * 86_400_000,
        "hosts": shape.hosts_per_site,
        "purposes": [p.value for p in Purpose],
        "levels": [VisitorLevel.ORDINARY.value] * 8
        + [VisitorLevel.SENIOR.value, VisitorLevel.VIP.value],
        "methods": [m.value for m in CheckInMethod],
        "walk_in": CheckInMethod.WALK_IN.value,
    }


# One row per visit number g: its kiosk (g mod kiosks), its day (the numbers run through the
# years in order, so the table is in arrival order as an office's intake writes it) and a
# moment in that day's 8 working hours (past `end` on the last day: the day before), then
# the row's fields from draws r1..r7 as kiosk.office.year_seed draws them.
_VISITS_SQL = """
INSERT INTO "office_visit" ("ref", "site_id", "kiosk_id", "state", "visitor_name", "company",
    "host_ref", "appointment_ref", "method", "purpose", "level", "visitor_type",
    "escort_required", "arrived_at", "host_notified_at", "host_acknowledged_at", "left_at",
    "satisfaction", "auto_checked_out", "updated_at", "name_key", "anonymised_at")
SELECT substr(md5(g::text || ':visit'), 1, 16), k.site_id, k.kiosk_id, v.state,
    CASE WHEN v.named THEN 'Visitor ' || g ELSE '' END,
    CASE WHEN v.named THEN 'Example Ltd' ELSE '' END,
    substr(md5(k.site_id::text || ':' || floor(v.r3 * %(hosts)s)::int::text), 1, 16),
    CASE WHEN v.method = %(walk_in)s THEN '' ELSE substr(md5(g::text || ':appt'), 1, 16) END,
    v.method,
    (%(purposes)s::text[])[1 + floor(v.r5 * cardinality(%(purposes)s::text[]))::int],
    (%(levels)s::text[])[1 + floor(v.r6 * cardinality(%(levels)s::text[]))::int],
    'visitor', false,
    CASE WHEN v.state = 'no_show' THEN NULL ELSE v.at END,
    CASE WHEN v.state = 'no_show' THEN NULL ELSE v.at END,
    CASE WHEN v.state IN ('checked_out', 'host_acknowledged') AND v.r2 < 0.9
         THEN v.at + (-ln(1 - v.r7) * 45000)::bigint END,
    CASE WHEN v.state = 'checked_out' THEN v.at + 3600000 END,
    CASE WHEN v.state = 'checked_out' AND v.r4 < 0.4 THEN 1 + floor(v.r7 * 5)::int END,
    false, LEAST(v.at + 3600000, %(end_ms)s),
    CASE WHEN v.named THEN 'visitor ' || g || '|' || g || ' visitor' ELSE '' END,
    CASE WHEN v.named THEN NULL ELSE v.at + 3600000 + %(end_ms)s - %(named_since_ms)s END
FROM (
    SELECT g, at, r2, r3, r4, r5, r6, r7,
        at >= %(named_since_ms)s OR at + 3600000 > %(end_ms)s AS named,
        CASE WHEN at + 3600000 > %(end_ms)s AND r1 < 0.95 THEN 'host_acknowledged'
             WHEN r1 < 0.93 THEN 'checked_out' WHEN r1 < 0.95 THEN 'denied'
             ELSE 'no_show' END AS state,
        (%(methods)s::text[])[1 + floor(r2 * cardinality(%(methods)s::text[]))::int] AS method
    FROM (
        SELECT g, r1, r2, r3, r4, r5, r6, r7,
            CASE WHEN t >= %(end_ms)s THEN t - 86400000::bigint ELSE t END AS at
        FROM (
            SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
                random() AS r5, random() AS r6, random() AS r7,
                %(first_ms)s + floor((g - 1)::float8 * %(days)s / %(visits)s)::bigint * 86400000
                    + floor(random() * 8 * 3600000)::bigint AS t
            FROM generate_series(1, %(visits)s) AS g
        ) AS drawn
    ) AS timed
) AS v
JOIN growth_kiosk AS k ON k.n = v.g %% %(kiosks)s
"""

# The appointments booked for the visits that had one (all but walk-ins), as the office's
# booking and the kiosks' events leave them: blanked like their visit once it is purged.
_APPOINTMENTS_SQL = """
INSERT INTO "office_appointment" ("ref", "site_id", "visit_ref", "host_ref", "visitor_name",
    "company", "email", "phone", "starts_at", "ends_at", "purpose", "level", "visitor_type",
    "invitation_token_id", "updated_at", "calendar_sequence", "import_key", "import_sequence",
    "import_digest", "visit_arrived_at")
SELECT "appointment_ref", "site_id", "ref", "host_ref", "visitor_name", "company", '', '',
    COALESCE("arrived_at", "updated_at" - 3600000), COALESCE("arrived_at", "updated_at" - 3600000)
    + 3600000, "purpose", "level", "visitor_type", '', "updated_at", 0, '', 0, '', "arrived_at"
FROM "office_visit" WHERE "appointment_ref" <> ''
"""
