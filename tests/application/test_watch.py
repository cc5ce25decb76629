"""The operator's checks and incidents (application/watch.py) on PostgreSQL and SQLite, with a
fixed clock: what each check finds, two replicas telling the operator once, a database outage
told when it is over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.watch import CheckKind, Watch, WatchSettings
from storage import workers
from storage.database import create_engine, create_sessionmaker
from storage.incidents import Incident
from storage.models import ChatRow, RunRow, TaskRow
from storage.records import RunStatus, RunTrigger, TaskKind, TaskState
from tests.fakes.clock import FakeClock

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
Sessions = async_sessionmaker[AsyncSession]


class Channel:
    """The operator's chat, played by lists."""

    def __init__(self) -> None:
        self.alerts: list[Incident] = []
        self.endings: list[Incident] = []
        self.outages: list[Incident] = []

    async def alert(self, incident: Incident) -> int | None:
        self.alerts.append(incident)
        return 100 + len(self.alerts)

    async def resolved(self, incident: Incident) -> None:
        self.endings.append(incident)

    async def outage(self, incident: Incident) -> int | None:
        self.outages.append(incident)
        return 900


async def add_task(sessions: Sessions, *, next_run_at: datetime | None) -> int:
    async with sessions() as session, session.begin():
        await session.execute(
            insert(ChatRow).values(id=5, type="private", active=True, created_at=NOW)
        )
        result = await session.execute(
            insert(TaskRow)
            .values(
                chat_id=5,
                created_by=5,
                name="t",
                prompt="p",
                kind=TaskKind.CRON,
                cron="0 9 * * *",
                timezone="UTC",
                state=TaskState.ACTIVE,
                next_run_at=next_run_at,
                consecutive_failures=0,
                created_at=NOW,
                updated_at=NOW,
            )
            .returning(TaskRow.id)
        )
        return int(result.scalar_one())


async def add_run(sessions: Sessions, task_id: int, **values: Any) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            insert(RunRow).values(
                task_id=task_id,
                scheduled_for=values.pop("scheduled_for", NOW - timedelta(hours=1)),
                trigger=RunTrigger.MANUAL,
                **values,
            )
        )


def problems(checks: list[Any], kind: CheckKind) -> list[dict[str, Any]]:
    [check] = [check for check in checks if check.kind is kind]
    return [dict(problem.facts) for problem in check.problems]


async def test_each_check_finds_its_problem(sessions: Sessions) -> None:
    clock = FakeClock(NOW)
    watch = Watch(sessions, clock, WatchSettings(), me="me")
    task_id = await add_task(sessions, next_run_at=NOW - timedelta(minutes=10))
    await add_run(
        sessions,
        task_id,
        status=RunStatus.SUCCEEDED,
        finished_at=NOW - timedelta(minutes=15),
        delivery_pending=True,
    )
    async with sessions() as session, session.begin():
        await workers.beat(session, "gone", now=NOW - timedelta(minutes=1))
        await workers.beat(session, "me", now=NOW - timedelta(minutes=2))
        await workers.beat(session, "me", now=NOW)

    checks = await watch.diagnose()
    assert checks[0].ok  # the database
    assert problems(checks, CheckKind.OVERDUE) == [
        {"overdue": 1, "tasks": f"#{task_id}", "missed": 0, "minutes": 15}
    ]
    assert problems(checks, CheckKind.DELIVERIES) == [{"count": 1, "chats": "5", "minutes": 10}]
    [silent] = problems(checks, CheckKind.REPLICAS)
    assert silent["worker"] == "gone"
    assert problems(checks, CheckKind.MODEL_ERRORS) == []

    # A process started after the silent one stopped replaces it: no longer a problem.
    async with sessions() as session, session.begin():
        await workers.beat(session, "replacement", now=NOW)
    assert problems(await watch.diagnose(), CheckKind.REPLICAS) == []


async def test_two_replicas_tell_the_operator_once_and_the_end_once(sessions: Sessions) -> None:
    clock = FakeClock(NOW)
    task_id = await add_task(sessions, next_run_at=NOW + timedelta(days=1))
    for status, code in [(RunStatus.FAILED, "provider_failed")] * 2 + [
        (RunStatus.SUCCEEDED, None)
    ] * 2:
        await add_run(
            sessions,
            task_id,
            status=status,
            reason_code=code,
            model="m1",
            finished_at=NOW - timedelta(minutes=1),
        )
    channel = Channel()
    replicas = [Watch(sessions, clock, WatchSettings(), me=name) for name in ("a", "b")]
    for watch in replicas * 2:
        await watch.review(channel)
    assert [incident.key for incident in channel.alerts] == ["model:m1"]
    assert channel.alerts[0].facts["percent"] == 50

    clock.set(NOW + timedelta(minutes=20))  # the failures left the window
    for watch in replicas * 2:
        await watch.review(channel)
    assert [incident.key for incident in channel.endings] == ["model:m1"]
    assert channel.endings[0].message_id == 101
    assert len(channel.alerts) == 1


class Switch:
    """Sessions of a database that can be taken away and given back."""

    def __init__(self, working: Sessions, broken: Sessions) -> None:
        self.working, self.broken, self.down = working, broken, False

    def __call__(self) -> AsyncSession:
        return (self.broken if self.down else self.working)()


async def test_a_long_outage_is_told_once_when_the_database_is_back(sessions: Sessions) -> None:
    clock = FakeClock(NOW)
    nowhere = create_engine("postgresql+asyncpg://postgres@127.0.0.1:9/nowhere", pool_size=1)
    try:
        switch = Switch(sessions, create_sessionmaker(nowhere))
        watch = Watch(switch, clock, WatchSettings(), me="a")  # type: ignore[arg-type]
        other = Watch(switch, clock, WatchSettings(), me="b")  # type: ignore[arg-type]
        channel = Channel()
        switch.down = True
        for _ in range(3):
            checks = await watch.review(channel)
            await other.review(channel)
            clock.set(clock.now() + timedelta(seconds=45))
        assert not checks[0].ok
        assert channel.outages == []
        switch.down = False
        await watch.review(channel)
        await other.review(channel)
        [outage] = channel.outages
        assert outage.facts == {"seconds": 135, "minutes": 2}
        assert outage.opened_at == NOW

        # A short one is not worth telling.
        switch.down = True
        await watch.review(channel)
        clock.set(clock.now() + timedelta(seconds=30))
        switch.down = False
        await watch.review(channel)
        assert len(channel.outages) == 1
    finally:
        await nowhere.dispose()
