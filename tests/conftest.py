"""Shared fixtures: real PostgreSQL and SQLite databases migrated to head, emptied per test."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.llm import LiteLLMClient
from storage.database import create_engine, create_sessionmaker
from storage.migrate import upgrade_to_head
from storage.models import Base
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram, RateLimits
from tests.postgres import Server, postgres_server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def pg_migrated_url(pg_server: Server) -> Iterator[str]:
    """One PostgreSQL database for the whole run, migrated to head; tests empty it after use."""
    url = pg_server.create_database()
    try:
        asyncio.run(upgrade_to_head(url))
        yield url
    finally:
        pg_server.drop_database(url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    asyncio.run(upgrade_to_head(f"sqlite+aiosqlite:///{path}"))
    return path


async def _empty_tables(url: str) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as connection:
            names = ", ".join(table.name for table in Base.metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture
def pg_url(pg_migrated_url: str) -> Iterator[str]:
    """An empty PostgreSQL database at head."""
    yield pg_migrated_url
    asyncio.run(_empty_tables(pg_migrated_url))


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """An empty SQLite database at head, in its own file."""
    path = tmp_path / "cronpilot.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database at head, once on PostgreSQL and once on SQLite."""
    name = "pg_url" if request.param == "postgresql" else "sqlite_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def litellm_imported() -> None:
    """Import LiteLLM (about 6 s) once per run, never inside a test's own timeouts."""
    asyncio.run(LiteLLMClient(api_base=None, api_key=None).warm_up())


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    """A fake OpenAI-compatible server with an empty script."""
    async with FakeLLM() as server:
        yield server


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """A fake Bot API server without flood limits (tests about limits set their own)."""
    async with FakeTelegram(rate_limits=RateLimits.unlimited()) as server:
        yield server
