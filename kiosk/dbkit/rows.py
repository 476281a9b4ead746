"""Fast bulk statements over peewee models: many rows in one prepared statement, and
query rows as plain tuples. Shared by the kiosk's storage and the office."""

from __future__ import annotations

from typing import Any, cast

from peewee import CharField, Database, TextField


def insert_rows(
    db: Database | Any,
    model: Any,
    rows: list[dict[str, Any]],
    *,
    conflict_on: str | None = None,
    update: tuple[str, ...] = (),
) -> None:
    """Insert many rows with one prepared statement (DB-API executemany).

    peewee builds SQL text for every row of an `insert_many`, which costs more than the
    database's own work for the thousands of rows a sync batch holds. Values still pass
    through each field's `db_value`, so times and foreign keys are stored as peewee would.
    With `conflict_on`, an existing row with that key is updated (`update` columns) instead.
    """
    if not rows:
        return
    given = list(rows[0])
    # Columns the rows leave out get the field's default, as peewee's own insert gives them.
    defaults = {
        field.name: field.default
        for field in model._meta.sorted_fields
        if field.name not in given and field.default is not None
    }
    names = given + list(defaults)
    fields = [model._meta.fields[name] for name in names]
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    marks = ", ".join([db.param] * len(fields))
    sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'
    if conflict_on:
        target = model._meta.fields[conflict_on].column_name
        updated = [model._meta.fields[name].column_name for name in update]
        changes = ", ".join(f'"{column}" = excluded."{column}"' for column in updated)
        sql += f' ON CONFLICT ("{target}") DO ' + (f"UPDATE SET {changes}" if update else "NOTHING")
    fixed = [value() if callable(value) else value for value in defaults.values()]
    # Text needs no conversion: skipping peewee's per-value call halves the cost of big batches.
    convert = [
        None if isinstance(field, CharField | TextField) else field.db_value for field in fields
    ]
    converted = [(index, converter) for index, converter in enumerate(convert) if converter]
    # A batch's rows often share one value (the batch's own time in every row): converted once.
    last: dict[int, tuple[Any, Any]] = {}
    values = []
    for row in rows:
        raw = [*map(row.__getitem__, given), *fixed]
        for index, converter in converted:
            value = raw[index]
            if value is not None:
                seen = last.get(index)
                if seen is None or seen[0] is not value:
                    seen = last[index] = (value, converter(value))
                raw[index] = seen[1]
        values.append(raw)

    db.cursor().executemany(sql, values)


def rows_of(query: Any) -> list[tuple[Any, ...]]:
    """A query's rows as plain tuples (peewee's own typing of `.tuples()` is too loose)."""
    return cast("list[tuple[Any, ...]]", list(query.tuples()))
