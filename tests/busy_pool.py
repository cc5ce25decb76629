"""A PostgreSQL connection pool whose every connection is taken: a checkout from it waits the
pool's timeout and fails with SQLAlchemy's `TimeoutError`, as checkouts did under CPU starvation
(runs holding their connections longer than the pool's 30 s wait)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from storage.database import create_sessionmaker

# Short, so that the test waits little; the error is the one a 30 s wait ends with.
CHECKOUT_SECONDS = 0.2


@asynccontextmanager
async def busy_pool(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a one-connection pool whose connection is held until the block ends."""
    engine = create_async_engine(
        database_url, pool_size=1, max_overflow=0, pool_timeout=CHECKOUT_SECONDS
    )
    try:
        async with engine.connect():
            yield create_sessionmaker(engine)
    finally:
        await engine.dispose()
