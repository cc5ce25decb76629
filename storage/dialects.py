"""The one place that knows PostgreSQL and SQLite spell INSERT … ON CONFLICT differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_for(session: AsyncSession, table: Any) -> Any:
    """A dialect INSERT construct for `table` that supports on_conflict_* and RETURNING."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
