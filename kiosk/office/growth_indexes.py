"""The indexes an office with years of visits needs beyond those its models declare (issue 21).

`make growth` (benchmarks/growth_office.py) measured the pages over 20 million visits and
named what each page reads; these are the indexes it showed missing. They are made when
the office opens its database (kiosk.office.db, after create_tables), with IF NOT EXISTS,
so an office that has them pays nothing and one upgraded over a big table builds each once
(a minute or so per index at 20 million visits, under the opening lock; writes wait).

- `office_visit_site_id_arrived_at_report`: one site's visits of the period, carrying on
  PostgreSQL every column the reports group or filter by, so each of the report's queries
  is an index-only scan. Without it PostgreSQL read the period's visits of every site
  through `arrived_at` (the table is in arrival order, so that index looks cheapest) and
  fetched each row: a month's report over 20 million visits took 5 s; see make growth.
- `office_visit_site_id_state_updated_at`: the no-show visits of the period; through
  (site, state) the report read every no-show the site ever had.
- `office_appointment_site_id_starts_at_kept`: the no-show appointments of one site's
  period, carrying on PostgreSQL what that count reads, their visits' arrival included
  (kiosk.office.appointment_arrivals), so the count is one index-only scan. Through
  `starts_at` it read every site's; and looking up each appointment's visit (the dropped
  `office_visit_ref_arrived_at`) was a month's report's slowest query.
- `office_visit_name_key_trgm` (PostgreSQL, with the pg_trgm extension): the visit log's
  name search is a `name_key ILIKE '%term%'`, which no B-tree serves; without it the search
  walks every visit of the site. Where pg_trgm cannot be created (a managed server that does
  not allow it), the search still works, only slower, and the office says so in its log.

No table is partitioned: every page reads one site's period through a (site, time) index,
so its cost follows the period's visits, not the table's.
"""

from __future__ import annotations

import logging

from peewee import Database, PostgresqlDatabase

log = logging.getLogger(__name__)

#: (name, table, what it indexes, what it carries besides on PostgreSQL): every backend.
INDEXES: list[tuple[str, str, str, str]] = [
    (
        "office_appointment_site_id_starts_at_kept",
        "office_appointment",
        '("site_id", "starts_at")',
        'INCLUDE ("ends_at", "cancelled_at", "visit_arrived_at")',
    ),
    (
        "office_visit_site_id_arrived_at_report",
        "office_visit",
        '("site_id", "arrived_at")',
        'INCLUDE ("id", "state", "host_ref", "purpose", "level", "method", "satisfaction",'
        ' "host_notified_at", "host_acknowledged_at")',
    ),
    (
        "office_visit_site_id_state_updated_at",
        "office_visit",
        '("site_id", "state", "updated_at")',
        "",
    ),
]
#: (name, table, what it indexes and carries): PostgreSQL only.
POSTGRES_INDEXES: list[tuple[str, str, str]] = []
#: Indexes earlier offices made that nothing reads any more (dropped, so writes stop paying).
REPLACED = ("office_appointment_site_id_starts_at", "office_visit_ref_arrived_at")
#: (name, table, how and what it indexes): PostgreSQL only, each needing pg_trgm.
TRIGRAM_INDEXES: list[tuple[str, str, str]] = [
    ("office_visit_name_key_trgm", "office_visit", 'USING gin ("name_key" gin_trgm_ops)'),
]


def ensure_growth_indexes(db: Database) -> list[str]:
    """Create the indexes above that are missing; return the names of those made. Call
    inside the opening's transaction, once the tables exist."""
    present = _index_names(db)
    made = []
    postgres = isinstance(db, PostgresqlDatabase)
    for name in REPLACED:
        if name in present:
            db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    for name, table, columns, carried in INDEXES:
        if name not in present:
            extra = f" {carried}" if postgres and carried else ""
            db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" {columns}{extra}')
            made.append(name)
    if postgres:
        for name, table, definition in POSTGRES_INDEXES:
            if name not in present:
                db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" {definition}')
                made.append(name)
        missing = [index for index in TRIGRAM_INDEXES if index[0] not in present]
        if missing and _trigrams_available(db):
            for name, table, method in missing:
                db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" {method}')
                made.append(name)
    return made


def _index_names(db: Database) -> set[str]:
    if isinstance(db, PostgresqlDatabase):
        rows = db.execute_sql(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
        ).fetchall()
    else:
        rows = db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    return {row[0] for row in rows}


def _trigrams_available(db: Database) -> bool:
    """Whether pg_trgm is (or could now be) installed in this database."""
    try:
        with db.atomic():  # a savepoint: a refusal must not abort the opening
            db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as err:  # the server lacks it, or this role may not create it
        log.warning("visit log name search without a trigram index (pg_trgm: %s)", err)
        return False
    return True
