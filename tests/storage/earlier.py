"""Rows written as an earlier revision stored them, for tests of what a migration makes of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.database import create_engine
from storage.models import JSONDocument
from storage.types import UTCDateTime

# The last revision whose runs and follow-ups said why they ended in an English sentence.
BEFORE_REASONS = "0008_followup_parts"


def _column(name: str, value: object) -> sa.ColumnClause[Any]:
    if isinstance(value, datetime):
        return sa.column(name, UTCDateTime())
    if isinstance(value, dict | list):
        return sa.column(name, JSONDocument)
    return sa.column(name)


async def write_rows(url: str, table: str, rows: Sequence[Mapping[str, object]]) -> None:
    """Insert `rows` into `table` column by column, whatever revision the database is at."""
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as connection:
            for row in rows:
                target = sa.table(table, *(_column(name, value) for name, value in row.items()))
                await connection.execute(sa.insert(target).values(dict(row)))
    finally:
        await engine.dispose()


async def read_rows(url: str, query: str) -> list[sa.Row[Any]]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(sa.text(query))).all())
    finally:
        await engine.dispose()
