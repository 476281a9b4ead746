"""The indexes an office with years of visits needs beyond those its models declare (issue 21).

`make growth` (benchmarks/growth_office.py) measured the pages over 20 million visits and
named what each page reads; these are the indexes it showed missing. They are made when
the office opens its database (kiosk.office.db, after create_tables), with IF NOT EXISTS,
so an office that has them pays nothing and one upgraded over a big table builds each once
(a minute or so per index at 20 million visits, under the opening lock; writes wait).

- `office_appointment_site_id_starts_at`: the reports' no-show count reads one site's
  appointments of the period; the single-column index on `starts_at` read every site's.
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

#: (name, table, what it indexes): made on every backend.
INDEXES: list[tuple[str, str, str]] = [
    ("office_appointment_site_id_starts_at", "office_appointment", '("site_id", "starts_at")'),
]
#: (name, table, how and what it indexes): PostgreSQL only, each needing pg_trgm.
TRIGRAM_INDEXES: list[tuple[str, str, str]] = [
    ("office_visit_name_key_trgm", "office_visit", 'USING gin ("name_key" gin_trgm_ops)'),
]


def ensure_growth_indexes(db: Database) -> list[str]:
    """Create the indexes above that are missing; return the names of those made. Call
    inside the opening's transaction, once the tables exist."""
    present = _index_names(db)
    made = []
    for name, table, columns in INDEXES:
        if name not in present:
            db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" {columns}')
            made.append(name)
    if isinstance(db, PostgresqlDatabase):
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
