"""Fast bulk INSERT and SELECT ... IN: SQLAlchemy's type processing, not its per-row machinery.

Core ``executemany`` spends most of its time building and processing one parameter dict per
row, and an ORM select as long again loading rows. Here values go column-wise through the
column types' processors (hashable values once per distinct value: booleans, times), and rows
go to and come from the DBAPI cursor of the session's connection (so in its transaction) as
plain tuples. For the two supported databases: SQLite (``?`` placeholders) and PostgreSQL with
psycopg (``%s``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import closing
from itertools import repeat
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, constants: Mapping[str, Any],
                columns: Mapping[str, Sequence[Any]], raw: Collection[str] = ()) -> int:
    """INSERT one row per index of the ``columns`` (name -> values), ``constants`` in each.

    Values of the columns named in ``raw`` are already in the database's form (JSON text) and
    skip the type's processing.
    """
    count = len(next(iter(columns.values()), ()))
    if not count:
        return 0
    sql = _Sql(session, table)
    values = [repeat(_processed([value], sql.bind(name))[0], count)
              for name, value in constants.items()]
    values += [column if name in raw else _processed(column, sql.bind(name))
               for name, column in columns.items()]
    names = [*constants, *columns]
    sql.run(f"INSERT INTO {sql.table} ({', '.join(map(sql.quote, names))}) "
            f"VALUES ({sql.markers(len(names))})", list(zip(*values)), many=True)
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
              values: Sequence[Any], scope: tuple[str, Any] | None = None,
              as_text: Collection[str] = ()) -> list[tuple[Any, ...]]:
    """``columns`` of the rows whose ``key`` is in ``values`` (and ``scope`` column matches).

    Plain SQL with SQLAlchemy's result processing done column-wise: for a chunk's thousands
    of values, SQLAlchemy's expanding IN costs more to compile than the database takes to
    answer. ``values`` must need no bind processing (strings, integers). Columns named in
    ``as_text`` are read as their stored text (a JSON column: no decoding; an enum: its value).
    """
    if not values:
        return []
    sql = _Sql(session, table)
    where = f"{sql.quote(key)} IN ({sql.markers(len(values))})"
    params: tuple[Any, ...] = tuple(values)
    if scope is not None:
        where = f"{sql.quote(scope[0])} = {sql.markers(1)} AND {where}"
        params = (scope[1], *params)
    selected = [f"CAST({sql.quote(name)} AS TEXT)" if name in as_text else sql.quote(name)
                for name in columns]
    rows = sql.run(f"SELECT {', '.join(selected)} FROM {sql.table} WHERE {where}", params)
    processors = [None if name in as_text else sql.result(name) for name in columns]
    if not rows or not any(processors):
        return rows
    return list(zip(*(_processed(column, process)
                      for column, process in zip(zip(*rows), processors))))


class _Sql:
    """The session's DBAPI connection, how its dialect spells a table, a name and a
    parameter, and the table's columns' type processors."""

    def __init__(self, session: Session, table: Table) -> None:
        connection = session.connection()
        self.dialect = connection.dialect
        self.dbapi = connection.connection
        self.columns = table.c
        preparer = self.dialect.identifier_preparer
        self.table = preparer.format_table(table)
        self.quote = preparer.quote
        self._marker = "?" if self.dialect.paramstyle == "qmark" else "%s"

    def run(self, statement: str, params: Any, many: bool = False) -> list[tuple[Any, ...]]:
        """Execute on a DBAPI cursor; the rows it returns, if any."""
        with closing(self.dbapi.cursor()) as cursor:
            if many:
                cursor.executemany(statement, params)
            else:
                cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def markers(self, count: int) -> str:
        return ", ".join([self._marker] * count)

    def bind(self, name: str) -> Callable[[Any], Any] | None:
        return self.columns[name].type.dialect_impl(self.dialect).bind_processor(self.dialect)

    def result(self, name: str) -> Callable[[Any], Any] | None:
        return self.columns[name].type.dialect_impl(self.dialect).result_processor(
            self.dialect, None)
