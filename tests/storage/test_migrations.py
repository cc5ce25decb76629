"""Migrations on both databases: round trip, no drift, refusal of unknown revisions, the CLI."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection

from core.errors import DatabaseError
from core.reasons import (
    BY_CODE,
    AnswerInterrupted,
    BotStopped,
    BotWasDownLonger,
    BudgetSpent,
    ChangeUnusable,
    EmptyAnswer,
    FoldedIntoCatchUp,
    KeyRejected,
    ModelNotFound,
    Other,
    PreviousRunGoing,
    ProviderFailed,
    Reason,
    RunTimedOut,
)
from storage import deliveries, followups, runs, target_notices, tasks
from storage.database import create_engine, create_sessionmaker
from storage.migrate import (
    VERSION_TABLE,
    alembic_config,
    check_foreign_keys,
    downgrade_to,
    model_drift,
    revision_state,
    shipped_head,
    upgrade_to_head,
)
from storage.models import RunRow
from storage.records import HERE, DeliveryState, RunStatus
from tests.core.test_reasons import sample
from tests.postgres import Server
from tests.storage.earlier import BEFORE_REASONS, read_rows, write_rows

OUR_TABLES = {
    "chats",
    "tasks",
    "runs",
    "drafts",
    "api_tokens",
    "followups",
    "changes",
    "workers",
    "chat_pace",
    "spending",
    "message_parts",
    "attachments",
    "incidents",
    "deliveries",
    "target_notices",
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


def test_the_head_read_without_alembic_is_alembics() -> None:
    assert shipped_head() == HEAD


def test_revision_files_that_are_no_plain_chain_leave_the_head_to_alembic(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "migrations" / "__init__.py").write_text("")
    (versions / "__init__.py").write_text("")
    (versions / "a.py").write_text('revision: str = "a"\ndown_revision: str | None = None\n')
    (versions / "b.py").write_text('revision: str = "b"\ndown_revision: str | None = "a"\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "migrations")
    assert shipped_head() == "b"
    # Two heads (a branch): only Alembic reads that right.
    (versions / "c.py").write_text('revision: str = "c"\ndown_revision: str | None = "a"\n')
    assert shipped_head() is None
    # A merge names its parents as a tuple, which the plain lines do not say.
    (versions / "c.py").write_text(
        'revision: str = "c"\ndown_revision: str | tuple[str, ...] | None = ("a", "b")\n'
    )
    assert shipped_head() is None


async def test_a_database_behind_the_head_is_upgraded_by_alembic(empty_database_url: str) -> None:
    """The check at start reads the version table; a database one revision behind (or with no
    table yet) goes through Alembic and ends at the head."""
    await upgrade_to_head(empty_database_url)
    script = ScriptDirectory.from_config(alembic_config())
    assert HEAD is not None
    previous = script.get_revision(HEAD).down_revision
    assert isinstance(previous, str)
    await downgrade_to(empty_database_url, previous)
    assert (await revision_state(empty_database_url)).current == previous
    state = await upgrade_to_head(empty_database_url)
    assert (state.current, state.head) == (HEAD, HEAD)
    assert (await revision_state(empty_database_url)).at_head


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


# --- reasons: the sentences earlier versions recorded become codes and facts -------------------

REASONS_MIGRATION = importlib.import_module("migrations.versions.0009_run_reasons")
EARLIER = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
# What runs recorded before reasons had codes (None: no reason), and what each becomes.
RUN_SENTENCES: list[tuple[RunStatus, str | None, Reason | None]] = [
    (RunStatus.SUCCEEDED, None, None),
    (RunStatus.FAILED, "no answer within 120 s", RunTimedOut(seconds=120)),
    (
        RunStatus.FAILED,
        "the LLM provider rejected the API key (HTTP 401)",
        KeyRejected(status=401),
    ),
    (
        RunStatus.FAILED,
        "model openai/gpt-x or its API was not found (HTTP 404)",
        ModelNotFound(model="openai/gpt-x", status=404),
    ),
    # The first versions added the provider's words; no door shows them any more.
    (
        RunStatus.FAILED,
        "the LLM provider failed (HTTP 503): upstream overloaded",
        ProviderFailed(status=503),
    ),
    (RunStatus.SKIPPED, "monthly budget reached", BudgetSpent()),
    (RunStatus.SKIPPED, "the previous run was still going", PreviousRunGoing()),
    (
        RunStatus.MISSED,
        "the bot was not running at this time; later missed occurrences were not recorded one "
        "by one",
        BotWasDownLonger(),
    ),
    (RunStatus.MISSED, "folded into the catch-up run that followed", FoldedIntoCatchUp()),
    (RunStatus.INTERRUPTED, "the bot stopped while this run was going", BotStopped()),
    (RunStatus.FAILED, "HTTP 418: I'm a teapot", Other(text="HTTP 418: I'm a teapot")),
]
FOLLOWUP_SENTENCES: list[tuple[RunStatus, str | None, Reason | None]] = [
    (RunStatus.SUCCEEDED, None, None),
    (RunStatus.INTERRUPTED, "the bot stopped before it could answer", AnswerInterrupted()),
    (RunStatus.FAILED, "the model gave an empty answer", EmptyAnswer()),
    (
        RunStatus.FAILED,
        "the proposal would change nothing",
        ChangeUnusable(problem="the proposal would change nothing"),
    ),
    (
        RunStatus.FAILED,
        "every 1 minute is more often than this bot allows: at most every 5 minutes",
        Other(text="every 1 minute is more often than this bot allows: at most every 5 minutes"),
    ),
]


async def _write_chat_and_task(url: str, **changes: object) -> dict[str, object]:
    """Chat 42 and its task 1 as an earlier release wrote them (with `changes`); the task's row."""
    await write_rows(
        url,
        "chats",
        [{"id": 42, "type": "private", "title": None, "active": True, "created_at": EARLIER}],
    )
    task: dict[str, object] = {
        "id": 1,
        "chat_id": 42,
        "created_by": 42,
        "name": "News",
        "prompt": "the news",
        "kind": "cron",
        "cron": "0 9 * * *",
        "timezone": "UTC",
        "state": "active",
        "consecutive_failures": 0,
        "created_at": EARLIER,
        "updated_at": EARLIER,
        **changes,
    }
    await write_rows(url, "tasks", [task])
    return task


async def _write_earlier_history(url: str) -> None:
    await _write_chat_and_task(url)
    await write_rows(
        url,
        "runs",
        [
            {
                "id": number,
                "task_id": 1,
                "scheduled_for": EARLIER + timedelta(days=number),
                "trigger": "manual",
                "status": status.value,
                "error": error,
                "delivery_pending": False,
            }
            for number, (status, error, _) in enumerate(RUN_SENTENCES, 1)
        ],
    )
    await write_rows(
        url,
        "followups",
        [
            {
                "id": number,
                "task_id": 1,
                "chat_id": 42,
                "user_id": 42,
                "question": "why?",
                "status": status.value,
                "error": error,
                "created_at": EARLIER + timedelta(days=number),
            }
            for number, (status, error, _) in enumerate(FOLLOWUP_SENTENCES, 1)
        ],
    )


async def test_recorded_sentences_become_codes_and_facts_and_come_back(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    await upgrade_to_head(url)
    await downgrade_to(url, BEFORE_REASONS)
    await _write_earlier_history(url)

    await upgrade_to_head(url)
    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            found_runs = await runs.list_for_task(session, 1, limit=100)
            found_followups = await followups.list_for_task(session, 1, limit=100)
            facts = (await session.execute(select(RunRow.reason_facts).where(RunRow.id == 5))).one()
    finally:
        await engine.dispose()
    assert {run.id: run.reason for run in found_runs} == {
        number: reason for number, (_, _, reason) in enumerate(RUN_SENTENCES, 1)
    }
    assert {followup.id: followup.reason for followup in found_followups} == {
        number: reason for number, (_, _, reason) in enumerate(FOLLOWUP_SENTENCES, 1)
    }
    # The provider's words are kept where no door shows them, so the downgrade loses nothing.
    assert facts == ({"status": 503, "detail": "upstream overloaded"},)

    await downgrade_to(url, BEFORE_REASONS)
    assert await read_rows(url, "SELECT id, error FROM runs ORDER BY id") == [
        (number, error) for number, (_, error, _) in enumerate(RUN_SENTENCES, 1)
    ]
    assert await read_rows(url, "SELECT id, error FROM followups ORDER BY id") == [
        (number, error) for number, (_, error, _) in enumerate(FOLLOWUP_SENTENCES, 1)
    ]


def test_the_migration_reads_every_sentence_the_last_release_wrote() -> None:
    """Each code the migration gives is a reason whose English is the sentence it read."""
    for code, _ in REASONS_MIGRATION.SENTENCES:
        reason = sample(BY_CODE[code])
        assert REASONS_MIGRATION.reason_of(reason.message(), followup=False) == (
            reason.code,
            reason.stored(),
        )
        assert REASONS_MIGRATION.sentence_of(reason.code, reason.stored()) == reason.message()


BEFORE_ATTACHMENTS = "0014_triggers"
# What a task was before the attachments (later revisions add columns of their own).
TASK_COLUMNS = (
    "SELECT id, chat_id, created_by, name, prompt, kind, cron, timezone, state, created_at "
    "FROM tasks ORDER BY id"
)


async def test_attachments_come_and_go_leaving_tasks_as_they_were(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    await upgrade_to_head(url)
    await downgrade_to(url, BEFORE_ATTACHMENTS)
    await _write_chat_and_task(url, name="Prices", prompt="compare the prices", cron="0 9 * * 1")
    tasks_before = await read_rows(url, TASK_COLUMNS)

    await upgrade_to_head(url)
    assert await read_rows(url, TASK_COLUMNS) == tasks_before
    await write_rows(
        url,
        "attachments",
        [
            {
                "chat_id": 42,
                "task_id": 1,
                "draft_id": None,
                "name": "prices.csv",
                "media_type": "text/csv",
                "text": "kettle,29.90",
                "size": 12,
                "created_at": EARLIER,
            }
        ],
    )
    assert await read_rows(url, "SELECT task_id, name, size FROM attachments") == [
        (1, "prices.csv", 12)
    ]

    await downgrade_to(url, BEFORE_ATTACHMENTS)
    assert "attachments" not in await table_names(url)
    assert await read_rows(url, TASK_COLUMNS) == tasks_before


async def test_runs_and_workers_carry_over_to_replicas_and_back(empty_database_url: str) -> None:
    url = empty_database_url
    await upgrade_to_head(url)
    await downgrade_to(url, "0013_attachments")
    await _write_chat_and_task(url)
    await write_rows(
        url,
        "runs",
        [
            {
                "id": 7,
                "task_id": 1,
                "scheduled_for": EARLIER,
                "trigger": "schedule",
                "status": "succeeded",
                "output": "the answer",
                "owner": "w1",
                "delivery_pending": True,
            }
        ],
    )
    await write_rows(url, "workers", [{"id": "w1", "started_at": EARLIER, "heartbeat_at": EARLIER}])

    await upgrade_to_head(url)
    [run] = await read_rows(
        url, "SELECT id, status, output, owner, delivery_pending, model, restarts FROM runs"
    )
    assert tuple(run) == (7, "succeeded", "the answer", "w1", True, None, 0)
    [worker] = await read_rows(url, "SELECT id, demand FROM workers")
    assert tuple(worker) == ("w1", 0)
    assert await read_rows(url, "SELECT id FROM incidents") == []

    await downgrade_to(url, "0013_attachments")
    [run] = await read_rows(url, "SELECT id, status, output, owner, delivery_pending FROM runs")
    assert tuple(run) == (7, "succeeded", "the answer", "w1", True)
    await upgrade_to_head(url)


BEFORE_TARGETS = "0010_task_kinds"


async def test_existing_tasks_keep_posting_to_their_chat_across_the_targets_migration(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    await upgrade_to_head(url)
    await downgrade_to(url, BEFORE_TARGETS)
    await _write_chat_and_task(url, state="paused", consecutive_failures=2)
    await write_rows(
        url,
        "runs",
        [
            {
                "id": 1,
                "task_id": 1,
                "scheduled_for": EARLIER,
                "trigger": "schedule",
                "status": "succeeded",
                "output": "owed",
                "delivery_pending": True,
            }
        ],
    )
    columns = "id, chat_id, name, prompt, cron, state, consecutive_failures"
    before = await read_rows(url, f"SELECT {columns} FROM tasks")

    await upgrade_to_head(url)
    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            migrated = await tasks.get(session, 1)
            run = await runs.get(session, 1)
    finally:
        await engine.dispose()
    assert migrated is not None
    assert run is not None
    assert migrated.thread_id is None
    assert migrated.targets == ()
    assert migrated.destinations == (HERE,)
    # What was owed to the chat is still owed.
    assert run.delivery_pending

    await downgrade_to(url, BEFORE_TARGETS)
    assert await read_rows(url, f"SELECT {columns} FROM tasks") == before


async def test_rows_pointing_at_rebuilt_tables_survive_every_migration(
    empty_database_url: str,
) -> None:
    # SQLite rebuilds a table to drop a column (Alembic's batch mode copies it and drops the
    # old one); with foreign keys on, that drop cascaded to every follow-up and message part
    # pointing at a run. Migrations run with them off and check them before committing.
    url = empty_database_url
    await upgrade_to_head(url)
    await downgrade_to(url, BEFORE_REASONS)
    await _write_earlier_history(url)
    await write_rows(
        url,
        "followups",
        [
            {
                "id": 100,
                "task_id": 1,
                "run_id": 1,
                "chat_id": 42,
                "user_id": 42,
                "question": "and then?",
                "status": "succeeded",
                "created_at": EARLIER,
            }
        ],
    )
    await write_rows(
        url,
        "message_parts",
        [
            {"chat_id": 42, "message_id": 7, "run_id": 1, "followup_id": None},
            {"chat_id": 42, "message_id": 8, "run_id": None, "followup_id": 100},
        ],
    )
    counts = "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM followups), " + (
        "(SELECT count(*) FROM message_parts)"
    )
    before = await read_rows(url, counts)

    await upgrade_to_head(url)
    assert await read_rows(url, counts) == before
    await downgrade_to(url, BEFORE_REASONS)
    assert await read_rows(url, counts) == before
    await upgrade_to_head(url)
    assert await read_rows(url, counts) == before


async def test_a_migration_that_leaves_dangling_rows_is_rolled_back(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'dangling.db'}"
    await upgrade_to_head(url)
    engine = create_engine(url, pool_size=1, foreign_keys=False)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql(
                "INSERT INTO message_parts (chat_id, message_id, run_id) VALUES (1, 2, 999)"
            )
            with pytest.raises(DatabaseError, match="1 rows pointing at nothing"):
                await connection.run_sync(check_foreign_keys)
    finally:
        await engine.dispose()


async def test_tasks_and_runs_carry_over_to_task_models_unchanged(empty_database_url: str) -> None:
    """0011_task_models: every task keeps the default model, every tool and no cap; every run
    is its occurrence's first try with none due; the downgrade loses no row."""
    url = empty_database_url
    await upgrade_to_head(url)
    await downgrade_to(url, BEFORE_REASONS)
    await _write_earlier_history(url)
    await upgrade_to_head(url)
    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            task = await tasks.get(session, 1)
            found_runs = await runs.list_for_task(session, 1, limit=100)
    finally:
        await engine.dispose()
    assert task is not None
    assert (task.name, task.prompt, task.cron, task.model, task.tools, task.monthly_cap_usd) == (
        "News",
        "the news",
        "0 9 * * *",
        None,
        None,
        None,
    )
    assert len(found_runs) == len(RUN_SENTENCES)
    assert {(run.attempt, run.retry_of, run.retry_at, run.model) for run in found_runs} == {
        (1, None, None, None)
    }
    await downgrade_to(url, "0009_run_reasons")
    assert await read_rows(url, "SELECT count(*) FROM runs") == [(len(RUN_SENTENCES),)]
    assert await read_rows(url, "SELECT id, name FROM tasks") == [(1, "News")]


async def test_copies_keep_their_words_across_the_target_checks_migration(
    empty_database_url: str,
) -> None:
    """0016_target_checks: a copy recorded before reasons had codes reads back as its words;
    what the chat was told goes with the downgrade, the copies stay."""
    url = empty_database_url
    await upgrade_to_head(url)
    await downgrade_to(url, "0011_task_models")
    await _write_chat_and_task(url)
    await write_rows(
        url,
        "runs",
        [
            {
                "id": 1,
                "task_id": 1,
                "scheduled_for": EARLIER,
                "trigger": "schedule",
                "status": "succeeded",
                "output": "digest",
                "delivery_pending": False,
            }
        ],
    )
    copy = {
        "run_id": 1,
        "target": "telegram:-1009",
        "kind": "telegram",
        "label": "@news",
        "state": "failed",
        "error": "Telegram refused the message: Forbidden: bot was kicked",
        "attempts": 1,
        "updated_at": EARLIER,
    }
    await write_rows(url, "deliveries", [copy])

    await upgrade_to_head(url)
    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            [found] = (await deliveries.for_runs(session, [1]))[1]
            told = await target_notices.claim(
                session, 1, "telegram:-1009", reason_code="target_gone", now=EARLIER
            )
    finally:
        await engine.dispose()
    assert found.reason == Other(text="Telegram refused the message: Forbidden: bot was kicked")
    assert found.state is DeliveryState.FAILED
    assert told

    await downgrade_to(url, "0011_task_models")
    assert "target_notices" not in await table_names(url)
    assert await read_rows(url, "SELECT run_id, target, label, state, error FROM deliveries") == [
        (1, "telegram:-1009", "@news", "failed", copy["error"])
    ]


async def test_the_shared_chat_pace_comes_and_goes(empty_database_url: str) -> None:
    """0018_shared_limits: a table of its own, empty after the upgrade, gone after the
    downgrade, the rest as it was."""
    url = empty_database_url
    await upgrade_to_head(url)
    await downgrade_to(url, "0016_target_checks")
    assert "chat_pace" not in await table_names(url)
    await _write_chat_and_task(url)
    await upgrade_to_head(url)
    assert await read_rows(url, "SELECT chat, next_at, spacing FROM chat_pace") == []
    await write_rows(url, "chat_pace", [{"chat": "-100", "next_at": 1.5, "spacing": 3.5}])
    await downgrade_to(url, "0016_target_checks")
    assert "chat_pace" not in await table_names(url)
    assert len(await read_rows(url, "SELECT id FROM tasks")) == 1


async def test_replicas_keep_their_rows_across_the_shares_migration(
    empty_database_url: str,
) -> None:
    """0019_pace_shares: the live replicas' rows carry over with share 0 (each writes its own at
    its next beat); the downgrade drops the column and keeps the rows."""
    url = empty_database_url
    await upgrade_to_head(url)
    await downgrade_to(url, "0018_shared_limits")
    replica = {"id": "a1", "started_at": EARLIER, "heartbeat_at": EARLIER, "demand": 7}
    await write_rows(url, "workers", [replica])
    await upgrade_to_head(url)
    assert await read_rows(url, "SELECT id, demand, share FROM workers") == [("a1", 7, 0.0)]
    await downgrade_to(url, "0018_shared_limits")
    assert await read_rows(url, "SELECT id, demand FROM workers") == [("a1", 7)]
