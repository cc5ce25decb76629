"""`cronpilot doctor` as an operator runs it: a subprocess against a real database. What each
check finds is tested in tests/application/test_watch.py and end to end in
tests/bot/test_bot_operator.py; here, the command's lines and exit status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage import workers
from storage.database import create_engine, create_sessionmaker
from tests.cronpilot.process import run_cronpilot


async def test_doctor_says_all_is_well_and_exits_zero(pg_url: str, tmp_path: Path) -> None:
    outcome = await run_cronpilot(tmp_path, {"DATABASE_URL": pg_url}, "doctor")
    assert outcome.status == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    assert lines[0] == "✓ database: reachable"
    assert all(line.startswith("✓ ") for line in lines)
    assert len(lines) == 5


async def test_doctor_names_a_silent_replica_and_exits_one(pg_url: str, tmp_path: Path) -> None:
    database = create_engine(pg_url, pool_size=1)
    try:
        async with create_sessionmaker(database)() as session, session.begin():
            await workers.beat(session, "a1b2c3", now=datetime.now(UTC) - timedelta(minutes=3))
    finally:
        await database.dispose()
    outcome = await run_cronpilot(tmp_path, {"DATABASE_URL": pg_url}, "doctor")
    assert outcome.status == 1
    [silent] = [line for line in outcome.stdout.splitlines() if line.startswith("✗ ")]
    assert silent.startswith("✗ replica a1b2c3: no heartbeat since ")
    assert "start a replacement" in silent


async def test_doctor_on_a_database_not_migrated_says_what_to_run(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    outcome = await run_cronpilot(tmp_path, {"DATABASE_URL": url}, "doctor")
    assert outcome.status == 1
    assert "run `cronpilot migrate`" in outcome.stdout
