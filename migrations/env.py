"""Alembic environment: async, reads the same settings as the bot, touches only our tables."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from storage.migrate import check_foreign_keys, configure_context
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_with_connection(connection: Connection) -> None:
    configure_context(context, connection)
    with context.begin_transaction():
        context.run_migrations()
        check_foreign_keys(connection)


async def run_with_new_engine() -> None:
    # Imported here so that `cronpilot migrate`, which passes its own connection, never
    # reads settings a second time.
    from core.settings import load_settings
    from storage.database import create_engine

    url = config.attributes.get("database_url") or load_settings().database_url
    engine = create_engine(url, pool_size=1, foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_with_connection)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("cronpilot migrations run online only; use `cronpilot migrate`.")

shared_connection = config.attributes.get("connection")
if shared_connection is not None:
    run_with_connection(shared_connection)
else:
    asyncio.run(run_with_new_engine())
