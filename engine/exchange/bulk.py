"""Fast bulk INSERT and SELECT ... IN: SQLAlchemy's type processing, not its per-row machinery.

Core ``executemany`` spends most of its time building and processing one parameter dict per
row, and an ORM select as long again loading rows. Here constant values are processed once,
varying columns column-wise (hashable values once per distinct value: booleans, times), and
rows go to and come from the DBAPI cursor as plain tuples. For the two supported databases:
SQLite (``?`` placeholders) and PostgreSQL with psycopg (``%s``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, constants: dict[str, Any],
                columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """INSERT ``rows`` (values in ``columns`` order) with ``constants`` in every row."""
    by_column = list(zip(*rows))
    if not by_column:
        return 0
    count = len(by_column[0])
    sql = _Sql(session, table)
    dialect = sql.connection.dialect
    names = [*constants, *columns]
    processors = {name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                  for name in names}
    values = [repeat(processors[name](value) if processors[name] else value, count)
              for name, value in constants.items()]
    values += [_processed(column, processors[name])
               for name, column in zip(columns, by_column)]
    sql.connection.exec_driver_sql(
        f"INSERT INTO {sql.table} ({', '.join(map(sql.quote, names))}) "
        f"VALUES ({sql.markers(len(names))})",
        list(zip(*values)),
    )
    return count


def _processed(values: Sequence[Any], process: Callable[[Any], Any] | None) -> Sequence[Any]:
    """A column's values through a type processor, once per distinct value where hashable."""
    if process is None:
        return values
    try:
        memo = {value: process(value) for value in set(values)}
    except TypeError:  # unhashable, such as a JSON column's dicts
        return list(map(process, values))
    return list(map(memo.__getitem__, values))


def select_in(session: Session, table: Table, columns: Sequence[str], key: str,
              values: Sequence[Any], scope: tuple[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """``columns`` of the rows whose ``key`` is in ``values`` (and ``scope`` column matches).

    Plain SQL with SQLAlchemy's result processing done column-wise: for a chunk's thousands
    of values, SQLAlchemy's expanding IN costs more to compile than the database takes to
    answer. ``values`` must need no bind processing (strings, integers).
    """
    if not values:
        return []
    sql = _Sql(session, table)
    where = f"{sql.quote(key)} IN ({sql.markers(len(values))})"
    params: tuple[Any, ...] = tuple(values)
    if scope is not None:
        where = f"{sql.quote(scope[0])} = {sql.markers(1)} AND {where}"
        params = (scope[1], *params)
    rows = sql.connection.exec_driver_sql(
        f"SELECT {', '.join(map(sql.quote, columns))} FROM {sql.table} WHERE {where}", params
    ).all()
    if not rows:
        return []
    dialect = sql.connection.dialect
    processed = [_processed(column, table.c[name].type.dialect_impl(dialect)
                            .result_processor(dialect, None))
                 for name, column in zip(columns, zip(*rows))]
    return list(zip(*processed))


class _Sql:
    """The session's connection and how its dialect spells a table, a name and a parameter."""

    def __init__(self, session: Session, table: Table) -> None:
        self.connection = session.connection()
        preparer = self.connection.dialect.identifier_preparer
        self.table = preparer.format_table(table)
        self.quote = preparer.quote
        self._marker = "?" if self.connection.dialect.paramstyle == "qmark" else "%s"

    def markers(self, count: int) -> str:
        return ", ".join([self._marker] * count)
