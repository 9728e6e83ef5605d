"""Many rows in one statement: `insert_many(session, table, rows)`.

Jobs that write a row per item of a large batch (the payroll: outbox events, audit lines,
payroll items, journal entries) spent most of their time in SQLAlchemy's per-row parameter
processing and, on PostgreSQL, in the server executing one INSERT per row of an executemany.

PostgreSQL: each column's values become one array parameter and the server unnests them -
`INSERT INTO t (a, b) SELECT * FROM unnest($1::uuid[], $2::varchar[])` - sent straight to the
driver: one execution whatever the row count, the arrays encoded by asyncpg in C; a column
holding the same object in every row (a batch's timestamp, status, name) is bound once as a
scalar - asyncpg checks and encodes each element of an array (issue 13 §4). The values
go in as they are given, so they must already be what the column stores (aware datetimes, ids
as UUID, enums as their str values); JSON values are encoded here with orjson and cast to jsonb
by the server. A column the rows lack gets its Python-side default, as Core would give it.

Elsewhere (SQLite): a Core executemany, the types processing each value as usual.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import JSON, Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["insert_columns", "insert_many", "is_postgres"]


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _is_json(column: Any) -> bool:
    kind = column.type
    return isinstance(kind, JSON) or isinstance(getattr(kind, "impl", None), JSON)


@lru_cache(maxsize=256)
def _unnest_sql(table: Table, names: tuple[str, ...], constant: tuple[bool, ...],
                dialect: Dialect) -> tuple[str, tuple[bool, ...]]:
    """The statement text for these columns, and which of them are JSON (sent as text). A
    `constant` column (the same value object in every row: a batch's timestamp, status or
    event name) is bound once as a scalar instead of an array of n copies."""
    arrays, selects, json = [], [], []
    for i, name in enumerate(names, start=1):
        column = table.c[name]
        is_json = _is_json(column)
        pg_type = "text" if is_json else column.type.compile(dialect=dialect)
        if constant[i - 1]:
            value = f"${i}::{pg_type}"
        else:
            arrays.append((f"${i}::{pg_type}[]", f"c{i}"))
            value = f"c{i}"
        selects.append(f"{value}::jsonb" if is_json else value)
        json.append(is_json)
    casts = ", ".join(cast for cast, _ in arrays)
    aliases = ", ".join(alias for _, alias in arrays)
    # Built from the table's own column names and types only: nothing user-supplied.
    sql = (f"INSERT INTO {table.name} ({', '.join(names)}) "  # noqa: S608
           f"SELECT {', '.join(selects)} FROM unnest({casts}) AS v({aliases})")
    return sql, tuple(json)


def _constant(values: Sequence[Any]) -> bool:
    """The same object in every row (checked by identity: equal is not enough - 1 == True)."""
    first = values[0]
    return values[-1] is first and all(v is first for v in values)


def _defaults(table: Table, given: Sequence[str]) -> dict[str, Any]:
    """Python-side defaults of the columns the rows lack: {name: scalar or zero-arg callable}."""
    out: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.name in given or default is None:
            continue
        if getattr(default, "is_scalar", False):
            out[column.name] = default.arg  # type: ignore[attr-defined]
        elif getattr(default, "is_callable", False):
            out[column.name] = default.arg  # type: ignore[attr-defined]  # takes a context
    return out


async def insert_many(session: AsyncSession, table: Table,
                      rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT `rows` (dicts with the same keys) into `table` in one statement."""
    if not rows:
        return
    if not is_postgres(session):
        await session.execute(insert(table), list(rows))
        return
    given = tuple(rows[0])
    defaults = _defaults(table, given)
    columns: list[list[Any]] = [[row[name] for row in rows] for name in given]
    for value in defaults.values():
        columns.append([value(None) if callable(value) else value for _ in rows])
    await insert_columns(session, table, given + tuple(defaults), columns)


async def insert_columns(session: AsyncSession, table: Table, names: Sequence[str],
                         columns: Sequence[Sequence[Any]]) -> None:
    """PostgreSQL only: INSERT the rows given column by column (`columns[k]` holds every
    row's value of `names[k]`; no defaults are added) in one unnest statement."""
    conn = await session.connection()
    constant = [len(values) > 1 and _constant(values) for values in columns]
    if all(constant):  # unnest needs one array (never the case with an id column)
        constant[0] = False
    sql, json = _unnest_sql(table, tuple(names), tuple(constant), conn.dialect)
    params: list[Any] = []
    for values, is_json, once in zip(columns, json, constant, strict=True):
        if once:
            value = values[0]
            params.append(orjson.dumps(value).decode() if is_json and value is not None
                          else value)
        elif is_json:
            params.append([None if v is None else orjson.dumps(v).decode() for v in values])
        else:
            params.append(list(values))
    await conn.exec_driver_sql(sql, tuple(params))
