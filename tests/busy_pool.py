"""A PostgreSQL connection pool whose every connection is taken: a checkout from it waits the
pool's timeout and fails with SQLAlchemy's `TimeoutError`, as checkouts did under CPU starvation
(runs holding their connections longer than the pool's 30 s wait); and a server that refuses
new connections for want of slots ("too many clients")."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import make_url
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


@asynccontextmanager
async def refusing_server(database_url: str) -> AsyncIterator[str]:
    """A URL of the same database that PostgreSQL refuses to connect, as when it is out of
    connection slots: a role whose connection limit is 0 gets the same error (SQLSTATE 53300,
    asyncpg's `TooManyConnectionsError`) as "sorry, too many clients already"."""
    role = f"no_slots_{uuid.uuid4().hex}"
    url = make_url(database_url)
    admin = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))
    try:
        await admin.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0")
        yield url.set(username=role, password=None).render_as_string(hide_password=False)
    finally:
        await admin.execute(f"DROP ROLE IF EXISTS {role}")
        await admin.close()
