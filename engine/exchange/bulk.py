"""Fast multi-row INSERT: SQLAlchemy's own type processing, without its per-row machinery.

Core ``executemany`` spends most of its time building and processing one parameter dict per
row. Here constant values are processed once, each varying column's bind processor is looked
up once, and the rows go to the DBAPI cursor as plain tuples. For the two supported
databases: SQLite (``?`` placeholders) and PostgreSQL with psycopg (``%s``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, constants: dict[str, Any],
                columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """INSERT ``rows`` (values in ``columns`` order) with ``constants`` in every row."""
    connection = session.connection()
    dialect = connection.dialect
    names = [*constants, *columns]
    processors = {name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                  for name in names}
    fixed = tuple(processors[name](value) if processors[name] else value
                  for name, value in constants.items())
    varying = [(index, processors[name]) for index, name in enumerate(columns)
               if processors[name] is not None]
    params = []
    for row in rows:
        values = list(row)
        for index, process in varying:
            values[index] = process(values[index])
        params.append(fixed + tuple(values))
    if params:
        quote = dialect.identifier_preparer.quote
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        connection.exec_driver_sql(
            f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
            f"({', '.join(map(quote, names))}) VALUES ({', '.join([marker] * len(names))})",
            params,
        )
    return len(params)
