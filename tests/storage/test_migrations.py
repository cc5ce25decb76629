"""Migrations on both databases: round trip, no drift, refusal of unknown revisions, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from core.errors import DatabaseError
from storage.database import create_engine
from storage.migrate import (
    VERSION_TABLE,
    alembic_config,
    downgrade_to,
    model_drift,
    revision_state,
    upgrade_to_head,
)
from tests.postgres import Server

OUR_TABLES = {
    "chats",
    "tasks",
    "runs",
    "drafts",
    "api_tokens",
    "followups",
    "changes",
    "workers",
    "spending",
    "message_parts",
}
# The newest revision, whichever it is now.
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_database_url(
    request: pytest.FixtureRequest, pg_server: Server, tmp_path: Path
) -> Iterator[str]:
    """A brand-new database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
        return
    url = pg_server.create_database("cronpilot_migrations")
    try:
        yield url
    finally:
        pg_server.drop_database(url)


async def table_names(url: str) -> set[str]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade(empty_database_url: str) -> None:
    state = await upgrade_to_head(empty_database_url)
    assert state.at_head
    assert await table_names(empty_database_url) == OUR_TABLES | {VERSION_TABLE}

    await downgrade_to(empty_database_url, "base")
    assert await table_names(empty_database_url) == {VERSION_TABLE}
    assert (await revision_state(empty_database_url)).current is None

    await upgrade_to_head(empty_database_url)
    assert await table_names(empty_database_url) == OUR_TABLES | {VERSION_TABLE}
    # Upgrading an up-to-date database is a no-op, not an error.
    assert (await upgrade_to_head(empty_database_url)).at_head


async def test_models_and_migrations_do_not_drift(empty_database_url: str) -> None:
    await upgrade_to_head(empty_database_url)
    engine = create_engine(empty_database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(model_drift)
    finally:
        await engine.dispose()
    assert diff == []


async def test_foreign_tables_are_left_alone(empty_database_url: str) -> None:
    engine = create_engine(empty_database_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE someone_elses (id INTEGER PRIMARY KEY)"))
        await upgrade_to_head(empty_database_url)
        async with engine.connect() as connection:
            assert await connection.run_sync(model_drift) == []
        await downgrade_to(empty_database_url, "base")
    finally:
        await engine.dispose()
    assert "someone_elses" in await table_names(empty_database_url)


async def test_database_from_a_newer_cronpilot_is_refused(empty_database_url: str) -> None:
    engine = create_engine(empty_database_url, pool_size=1)

    def stamp_unknown(connection: Connection) -> None:
        connection.execute(
            text(f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        )
        connection.execute(text(f"INSERT INTO {VERSION_TABLE} VALUES ('9f3e0c1d2b7a')"))

    try:
        async with engine.begin() as connection:
            await connection.run_sync(stamp_unknown)
    finally:
        await engine.dispose()
    with pytest.raises(DatabaseError, match=r"revision 9f3e0c1d2b7a.*newer cronpilot"):
        await upgrade_to_head(empty_database_url)
    assert await table_names(empty_database_url) == {VERSION_TABLE}  # nothing written


def run_cli(*arguments: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "TELEGRAM_"))}
    return subprocess.run(
        [sys.executable, "-m", "cronpilot.cli", *arguments],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_cli_migrate_creates_all_tables(empty_database_url: str, tmp_path: Path) -> None:
    result = run_cli("migrate", env={"DATABASE_URL": empty_database_url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"revision {HEAD} (newest)" in result.stdout
    assert await table_names(empty_database_url) == OUR_TABLES | {VERSION_TABLE}


def test_cli_migrate_default_is_sqlite_in_working_folder(tmp_path: Path) -> None:
    result = run_cli("migrate", env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cronpilot.db").exists()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "DATABASE_URL: is not a database URL"),
        ("mysql://root@localhost/x", "DATABASE_URL: uses 'mysql'"),
        ("postgresql+asyncpg://user@localhost", "DATABASE_URL: names no database"),
    ],
)
def test_cli_rejects_malformed_database_url(url: str, expected: str, tmp_path: Path) -> None:
    result = run_cli("migrate", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_reports_unreachable_postgres(tmp_path: Path) -> None:
    # Port 9 (discard) has no PostgreSQL behind it.
    url = "postgresql://cronpilot:s3cret-pass@127.0.0.1:9/cronpilot"
    result = run_cli("migrate", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "cannot reach the database at postgresql+asyncpg://cronpilot:***@127.0.0.1:9" in lines[0]
    assert "s3cret-pass" not in result.stderr


def test_cli_reports_unwritable_sqlite_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "bot.db"
    result = run_cli("migrate", env={"DATABASE_URL": f"sqlite:///{missing}"}, cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot reach the database" in result.stderr
    assert "Traceback" not in result.stderr
    assert not missing.parent.exists()


def test_cli_run_without_a_token_writes_nothing(tmp_path: Path) -> None:
    result = run_cli("run", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "cronpilot: TELEGRAM_BOT_TOKEN: not set; get one from @BotFather and put it in .env"
    ]
    assert list(tmp_path.iterdir()) == []
