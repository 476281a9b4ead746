"""Opening the office database and migrating it, as kiosk.storage does on the kiosk.

PostgreSQL for `postgresql://...` URLs (pooled), else an SQLite file. On opening, under a
lock that offices starting together take turns on: the columns models gained are added
(`add_missing_columns`), unique indexes models no longer declare are dropped
(`drop_outdated_unique_indexes`), missing tables and indexes are created
(`create_missing_tables_and_indexes`, which locks no table that exists, so an office
starting beside others that serve does not hold them up), and each added column's backfill
(`BACKFILLS`) runs once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from peewee import Database, PostgresqlDatabase, SqliteDatabase
from playhouse.pool import PooledPostgresqlDatabase

from kiosk.dbkit.private_files import prepare_private_database
from kiosk.dbkit.rows import rows_of
from kiosk.dbkit.sqlite import PRAGMAS, WRITE_LOCK_FIRST
from kiosk.office.appointment_arrivals import copy_arrivals
from kiosk.office.cases.models import CASE_MODELS
from kiosk.office.deliveries.models import DELIVERY_MODELS
from kiosk.office.growth_indexes import ensure_growth_indexes
from kiosk.office.models import OFFICE_MODELS, OfficeAppointment, OfficeVisit, office_database
from kiosk.office.visit_names import visit_name_key

#: How long a request waits for a free PostgreSQL connection of its process's pool.
POOL_WAIT_SECONDS = 10


def open_office_database(url: str | None) -> Database:
    """PostgreSQL for `postgresql://...` URLs (pooled), else an SQLite file (default
    ./office.sqlite3). Creates the tables that are missing and binds the models."""
    if url and url.startswith(("postgres://", "postgresql://")):
        from urllib.parse import unquote, urlparse

        parsed = urlparse(url)
        db: Database = PooledPostgresqlDatabase(
            unquote(parsed.path.lstrip("/")),
            user=unquote(parsed.username or "") or None,
            password=unquote(parsed.password or "") or None,
            host=parsed.hostname,
            port=parsed.port,
            max_connections=32,
            # The thread pool runs more requests at once than the pool has connections: a
            # request waits its turn for one (then 503, api.py) rather than failing at once
            # with a 500, as 200 kiosks made it do in the soak (issue 21).
            timeout=POOL_WAIT_SECONDS,
            stale_timeout=300,
            prefer_psycopg3=True,
        )
    else:
        path = Path(url.removeprefix("sqlite:///") if url else "office.sqlite3")
        # It holds the sites' invitation private keys: 0600 before SQLite makes it 0644.
        prepare_private_database(path)
        db = SqliteDatabase(
            str(path), pragmas=PRAGMAS, check_same_thread=False, lock_type=WRITE_LOCK_FIRST
        )
    office_database.initialize(db)
    with db.connection_context(), db.atomic():
        if isinstance(db, PostgresqlDatabase):  # offices starting together take turns
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (6_999_999,))
        models = [*OFFICE_MODELS, *DELIVERY_MODELS, *CASE_MODELS]
        added = add_missing_columns(db, models)
        drop_outdated_unique_indexes(db, models)
        # After the columns: an index declared on a new column can only be made now.
        create_missing_tables_and_indexes(db, models)
        ensure_growth_indexes(db)  # what years of visits need (kiosk.office.growth_indexes)
        for model, name in added:
            backfill = BACKFILLS.get((model, name))
            if backfill is not None:
                backfill(db)
    return db


def add_missing_columns(db: Database, models: Iterable[type[Any]]) -> list[tuple[type[Any], str]]:
    """The office's column migration: add each model field that its existing table lacks.

    A new field must be nullable or have a default, so rows already stored get a value.
    Tables that do not exist yet are left to create_tables. Returns (model, field name) of
    each column added."""
    from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

    migrator = SqliteMigrator(db) if isinstance(db, SqliteDatabase) else PostgresqlMigrator(db)
    added: list[tuple[type[Any], str]] = []
    operations = []
    for model in models:
        table = model._meta.table_name
        if not db.table_exists(table):
            continue
        present = {column.name for column in db.get_columns(table)}
        for model_field in model._meta.sorted_fields:
            if model_field.column_name in present:
                continue
            if not model_field.null and model_field.default is None:
                raise RuntimeError(
                    f"cannot add {table}.{model_field.column_name}: a new column needs a "
                    "default or must allow NULL"
                )
            operations.append(migrator.add_column(table, model_field.column_name, model_field))
            added.append((model, model_field.name))
    if operations:
        migrate(*operations)
    return added


def create_missing_tables_and_indexes(db: Database, models: Iterable[type[Any]]) -> None:
    """`create_tables(safe=True)` for only what is missing. On PostgreSQL even `CREATE INDEX
    IF NOT EXISTS` of an index that exists takes a SHARE lock on its table first: an office
    starting beside others that serve (a restart, a second worker) would hold up their
    writes and could deadlock with them (issue 21's soak found it). Reading the catalogue
    locks no table."""
    models = list(models)
    missing = [model for model in models if not db.table_exists(model._meta.table_name)]
    if missing:
        db.create_tables(missing, safe=True)
    for model in models:
        if model in missing:
            continue
        present = {index.name for index in db.get_indexes(model._meta.table_name)}
        for index in model._meta.fields_to_index():
            if index._name not in present:
                db.execute(model._schema._create_index(index, safe=True))


def drop_outdated_unique_indexes(db: Database, models: Iterable[type[Any]]) -> list[str]:
    """The office's index migration: drop each unique index that its model no longer
    declares (create_tables then makes the declared ones). UsedInvitation's token id, once
    unique across the office, is unique per site now. Returns the indexes dropped."""
    dropped = []
    for model in models:
        table = model._meta.table_name
        if not db.table_exists(table):
            continue
        declared: set[tuple[str, ...]] = {(model._meta.primary_key.column_name,)}
        for index_spec in model._meta.fields_to_index():
            if index_spec._unique:
                declared.add(
                    tuple(getattr(part, "column_name", "") for part in index_spec._expressions)
                )
        for index in db.get_indexes(table):
            if index.unique and tuple(index.columns) not in declared and index.columns:
                if isinstance(db, PostgresqlDatabase) and index.name.endswith("_pkey"):
                    continue
                db.execute_sql(f'DROP INDEX "{index.name}"')
                dropped.append(index.name)
    return dropped


def _backfill_visit_name_keys(db: Database) -> None:
    """Visits stored before the visit log's search keys existed get theirs."""
    last_id = 0
    while True:
        rows = rows_of(
            OfficeVisit.select(OfficeVisit.id, OfficeVisit.visitor_name)
            .where((OfficeVisit.id > last_id) & (OfficeVisit.visitor_name != ""))
            .order_by(OfficeVisit.id)
            .limit(1000)
        )
        if not rows:
            return
        for visit_id, name in rows:
            OfficeVisit.update(name_key=visit_name_key(name)).where(
                OfficeVisit.id == visit_id
            ).execute()
        last_id = rows[-1][0]


def _backfill_appointment_arrivals(db: Database) -> None:
    """Appointments stored before they carried their visit's arrival get it (one UPDATE:
    about two minutes for 2.6 million appointments on the machine that made `make growth`)."""
    copy_arrivals(db)


#: Work to do once when a column is added: (model, field name) -> the step.
BACKFILLS: dict[tuple[type[Any], str], Callable[[Database], None]] = {
    (OfficeVisit, "name_key"): _backfill_visit_name_keys,
    (OfficeAppointment, "visit_arrived_at"): _backfill_appointment_arrivals,
}
