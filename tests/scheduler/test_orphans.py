"""A live replica takes back its own orphans: runs and results of its own whose task crashed on a
database error it could not wait out are run again and sent, exactly once, at the next sweep;
what a task still carries is never touched (scheduler/engine.py `Engine.take_back`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from core.reasons import InternalError
from scheduler.engine import Engine, EngineSettings
from storage import chats, runs, tasks, triggers
from storage.database import create_engine, create_sessionmaker
from storage.records import NewTask, Run, RunStatus, RunTrigger, Task, TaskKind
from storage.retry import Backoff
from tests.fakes.clock import FakeClock

Sessions = async_sessionmaker[AsyncSession]
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def deadlock() -> OperationalError:
    """A database error the work cannot wait out in place (not an outage: `unavailable`)."""
    return OperationalError("UPDATE runs", None, asyncpg.DeadlockDetectedError("deadlock detected"))


def refused() -> OperationalError:
    """The database away: an outage (`unavailable`)."""
    return OperationalError("connect", None, ConnectionRefusedError(111, "Connect call failed"))


class FlakySessions:
    """The engine's session factory; the next `failing` sessions asked for raise `error`."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions
        self.failing = 0
        self.error: BaseException = deadlock()
        self.opened = 0
        # The next session opened waits for this before it closes (after its commit).
        self.hold_close: asyncio.Event | None = None

    def __call__(self) -> AsyncSession:
        self.opened += 1
        if self.failing:
            self.failing -= 1
            raise self.error
        session = self._sessions()
        if self.hold_close is not None:
            gate, self.hold_close = self.hold_close, None
            close = session.close

            async def held_close() -> None:
                await gate.wait()
                await close()

            session.close = held_close  # type: ignore[method-assign]
        return session


@dataclass
class Runner:
    """Stands in for the runner: runs crash (once each, as told) or are held open; results are
    "sent" once their delivery reads its run (a delivery told to crash does so before that)."""

    sessions: Sessions
    clock: FakeClock
    engine_sessions: FlakySessions
    crash_runs: set[int] = field(default_factory=set)
    crash_deliveries: set[int] = field(default_factory=set)
    holds: dict[int, asyncio.Event] = field(default_factory=dict)
    delivery_holds: dict[int, asyncio.Event] = field(default_factory=dict)
    executed: list[int] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    # A run of the task `leads[0]` starts a run of `leads[1]` (a chain's follower), recorded
    # in its own transaction and started once `leads[2]` is set, as the real runner does.
    leads: tuple[int, Task, asyncio.Event] | None = None
    engine: Engine | None = None

    async def execute(self, run: Run, task: Task) -> Run | None:
        self.executed.append(run.id)
        if run.id in self.holds:
            await self.holds[run.id].wait()
        if self.leads is not None and self.leads[0] == task.id and self.engine is not None:
            _, follower, started = self.leads
            async with self.sessions() as session, session.begin():
                queued = await triggers.add_after_run(
                    session,
                    follower,
                    run,
                    now=self.clock.now(),
                    status=RunStatus.RUNNING,
                    owner=run.owner,
                    reason_columns={},
                )
            assert queued is not None
            await started.wait()
            self.engine.start_runs([(queued, follower)])
        if run.id in self.crash_runs:
            self.crash_runs.discard(run.id)
            # The run's step and the engine's record of the crash both fail.
            self.engine_sessions.failing = 1
            raise deadlock()
        async with self.sessions() as session, session.begin():
            return await runs.finish(
                session,
                run.id,
                status=RunStatus.SUCCEEDED,
                finished_at=self.clock.now(),
                output=f"done {task.name}",
                owner=run.owner,
                delivery_pending=True,
            )

    async def deliver(self, run: Run, task: Task) -> None:
        if run.id in self.delivery_holds:
            await self.delivery_holds[run.id].wait()
        if run.id in self.crash_deliveries:
            self.crash_deliveries.discard(run.id)
            raise deadlock()
        self.sent.append(run.id)
        async with self.sessions() as session, session.begin():
            await runs.set_delivery(session, run.id, message_id=100 + run.id, error=None)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(database_url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


def make(sessions: Sessions, clock: FakeClock, **settings: Any) -> tuple[Engine, Runner]:
    flaky = FlakySessions(sessions)
    runner = Runner(sessions, clock, flaky)
    backoff = Backoff(first=0.5, longest=4)
    engine = Engine(
        flaky,  # type: ignore[arg-type]
        runner,
        clock,
        EngineSettings(database_backoff=backoff, **settings),
    )
    return engine, runner


async def add_task(sessions: Sessions, clock: FakeClock, name: str) -> Task:
    async with sessions() as session, session.begin():
        await chats.upsert(session, 4242, type="private", title=None, now=clock.now())
        return await tasks.add(
            session,
            NewTask(
                chat_id=4242,
                created_by=1,
                name=name,
                prompt="do it",
                kind=TaskKind.CRON,
                timezone="UTC",
                next_run_at=clock.now() + timedelta(hours=1),
                cron="0 * * * *",
            ),
            now=clock.now(),
        )


async def row(sessions: Sessions, run_id: int) -> Run:
    async with sessions() as session:
        run = await runs.get(session, run_id)
    assert run is not None
    return run


async def settle(engine: Engine, carried: int) -> None:
    """Let the tasks that end by themselves end (the held ones stay)."""
    for _ in range(200):
        if engine.in_flight + len(engine._deliveries) == carried:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the engine's tasks did not settle")


async def test_a_run_whose_task_crashed_is_run_again_once_and_one_in_flight_is_left(
    sessions: Sessions,
) -> None:
    clock = FakeClock(START)
    engine, runner = make(sessions, clock)
    crashing = await add_task(sessions, clock, "crashing")
    going = await add_task(sessions, clock, "going")
    await engine.heartbeat()
    # A run's task starts only once the test yields: each is told what to do before that.
    crashed = await engine.run_now(crashing.id, trigger=RunTrigger.MANUAL)
    runner.crash_runs.add(crashed.id)
    held = asyncio.Event()
    in_flight = await engine.run_now(going.id, trigger=RunTrigger.MANUAL)
    runner.holds[in_flight.id] = held
    await settle(engine, carried=1)
    # The crash left the run `running`, owned by this live replica, carried by no task.
    left = await row(sessions, crashed.id)
    assert (left.status, left.owner) == (RunStatus.RUNNING, engine.worker_id)

    clock.set(START + timedelta(seconds=2))
    await engine._sweep()
    await settle(engine, carried=1)
    taken = await row(sessions, crashed.id)
    assert taken.status is RunStatus.SUCCEEDED
    assert taken.restarts == 1
    assert runner.sent == [crashed.id]
    # The run still going was not touched, and the next sweeps take nothing more.
    for seconds in (4, 30):
        clock.set(START + timedelta(seconds=seconds))
        await engine._sweep()
    going_row = await row(sessions, in_flight.id)
    assert (going_row.status, going_row.restarts) == (RunStatus.RUNNING, 0)
    held.set()
    await engine.wait_idle()
    assert runner.executed == [crashed.id, in_flight.id, crashed.id]
    assert sorted(runner.sent) == [crashed.id, in_flight.id]
    assert (await row(sessions, in_flight.id)).status is RunStatus.SUCCEEDED
    await engine.stop()


async def test_a_result_whose_delivery_crashed_is_sent_once_and_one_being_sent_is_left(
    sessions: Sessions,
) -> None:
    clock = FakeClock(START)
    engine, runner = make(sessions, clock)
    first = await add_task(sessions, clock, "first")
    second = await add_task(sessions, clock, "second")
    await engine.heartbeat()
    # The first run's delivery crashes, the second's is held while it is being sent.
    held = asyncio.Event()
    crashed = await engine.run_now(first.id, trigger=RunTrigger.MANUAL)
    runner.crash_deliveries.add(crashed.id)
    being_sent = await engine.run_now(second.id, trigger=RunTrigger.MANUAL)
    runner.delivery_holds[being_sent.id] = held
    await settle(engine, carried=1)
    owed = await row(sessions, crashed.id)
    assert (owed.status, owed.delivery_pending) == (RunStatus.SUCCEEDED, True)
    assert runner.sent == []

    for seconds in (2, 4, 30):
        clock.set(START + timedelta(seconds=seconds))
        await engine._sweep()
        await settle(engine, carried=1)
    assert runner.sent == [crashed.id]
    assert not (await row(sessions, crashed.id)).delivery_pending
    held.set()
    await engine.wait_idle()
    assert sorted(runner.sent) == [crashed.id, being_sent.id]
    await engine.stop()


async def test_a_run_recorded_but_not_yet_started_is_left_to_its_start(
    sessions: Sessions,
) -> None:
    clock = FakeClock(START)
    engine, runner = make(sessions, clock)
    task = await add_task(sessions, clock, "t")
    await engine.heartbeat()
    gate = asyncio.Event()
    runner.engine_sessions.hold_close = gate
    starting = asyncio.create_task(engine.run_now(task.id, trigger=RunTrigger.MANUAL))
    for _ in range(200):  # until its row is committed; its task is not started yet
        async with sessions() as session:
            if await runs.running_task_ids(session, [task.id]):
                break
        await asyncio.sleep(0.01)
    assert not starting.done()
    assert await engine.take_back() == []
    assert (engine.in_flight, runner.executed) == (0, [])
    gate.set()
    run = await starting
    await engine.wait_idle()
    assert runner.executed == [run.id]
    assert (await row(sessions, run.id)).restarts == 0
    await engine.take_back()
    await engine.wait_idle()
    assert runner.executed == [run.id]
    await engine.stop()


async def test_a_chains_follower_recorded_by_a_run_in_flight_is_left_to_it(
    sessions: Sessions,
) -> None:
    clock = FakeClock(START)
    engine, runner = make(sessions, clock)
    leader = await add_task(sessions, clock, "leader")
    follower = await add_task(sessions, clock, "follower")
    start_follower = asyncio.Event()
    runner.leads = (leader.id, follower, start_follower)
    runner.engine = engine
    await engine.heartbeat()
    led = await engine.run_now(leader.id, trigger=RunTrigger.MANUAL)
    for _ in range(200):  # until the leader has recorded its follower's run
        async with sessions() as session:
            if await runs.running_task_ids(session, [follower.id]):
                break
        await asyncio.sleep(0.01)
    assert await engine.take_back() == []
    assert (engine.in_flight, runner.executed) == (1, [led.id])
    start_follower.set()
    await engine.wait_idle()
    [queued] = [run_id for run_id in runner.executed if run_id != led.id]
    assert runner.executed == [led.id, queued]
    assert (await row(sessions, queued)).status is RunStatus.SUCCEEDED
    await engine.stop()


async def test_runs_too_old_to_run_again_are_interrupted(sessions: Sessions) -> None:
    clock = FakeClock(START)
    engine, runner = make(sessions, clock, misfire_grace_seconds=60)
    task = await add_task(sessions, clock, "old")
    await engine.heartbeat()
    crashed = await engine.run_now(task.id, trigger=RunTrigger.MANUAL)
    runner.crash_runs.add(crashed.id)
    await settle(engine, carried=0)
    clock.set(START + timedelta(minutes=5))
    assert [run.id for run in await engine.take_back()] == [crashed.id]
    interrupted = await row(sessions, crashed.id)
    assert (interrupted.status, interrupted.reason) == (RunStatus.INTERRUPTED, InternalError())
    assert runner.executed == [crashed.id]
    await engine.stop()


async def test_a_database_still_away_is_tried_again_with_backoff(sessions: Sessions) -> None:
    clock = FakeClock(START)
    engine, runner = make(sessions, clock)
    task = await add_task(sessions, clock, "t")
    await engine.heartbeat()
    crashed = await engine.run_now(task.id, trigger=RunTrigger.MANUAL)
    runner.crash_runs.add(crashed.id)
    await settle(engine, carried=0)
    flaky = runner.engine_sessions
    flaky.error = refused()
    flaky.failing = 1_000
    with capture_logs() as logs:
        await engine._sweep()  # recover and take_back both find it away
        opened = flaky.opened
        await engine._sweep()  # within the wait: take_back does not ask
    assert flaky.opened == opened + 1  # recover's try only
    postponed = [entry for entry in logs if entry["event"] == "scheduler.take_back_postponed"]
    assert [(entry["log_level"], entry["retry_in"]) for entry in postponed] == [("warning", 0.5)]
    flaky.failing = 0
    clock.set(START + timedelta(seconds=1))
    await engine._sweep()
    await engine.wait_idle()
    assert runner.executed == [crashed.id, crashed.id]
    assert (await row(sessions, crashed.id)).status is RunStatus.SUCCEEDED
    await engine.stop()
