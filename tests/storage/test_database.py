"""The engine's pool on PostgreSQL: a pooled connection the server closed is not handed out."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from storage.database import create_engine


async def test_a_pooled_connection_the_server_closed_is_replaced_at_checkout(pg_url: str) -> None:
    engine = create_engine(pg_url, pool_size=1)
    admin = create_engine(pg_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            first = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        # The server ends that backend (as a restart or an administrator would) while the
        # connection waits in the pool.
        async with admin.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            for _ in range(500):
                gone = not (
                    await connection.execute(
                        text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                        {"pid": first},
                    )
                ).scalar_one()
                if gone:
                    break
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # the event loop reads the server's goodbye
        # Handed out again, the closed connection would fail this statement.
        async with engine.connect() as connection:
            second = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert second != first
    finally:
        await engine.dispose()
        await admin.dispose()
