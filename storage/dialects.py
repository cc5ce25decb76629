"""The one place that knows PostgreSQL and SQLite spell INSERT … ON CONFLICT differently."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, any_, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_for(session: AsyncSession, table: Any) -> Any:
    """A dialect INSERT construct for `table` that supports on_conflict_* and RETURNING."""
    if is_postgres(session):
        return postgresql.insert(table)
    return sqlite.insert(table)


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def id_in(session: AsyncSession, column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """`column IN ids`. On PostgreSQL as `= ANY(array)`: one parameter whatever the count, so
    the statement is prepared once instead of once per list length."""
    result: ColumnElement[bool]
    if is_postgres(session):
        result = column == any_(bindparam(None, list(ids), type_=postgresql.ARRAY(BigInteger)))
    else:
        result = column.in_(list(ids))
    return result
