"""The application layer with everything real below it (storage, rules parser, engine) on
PostgreSQL and SQLite, a fixed clock, and runs recorded instead of sent to a model."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application import Application, build_application
from application.records import ApplicationSettings
from scheduler.engine import Engine, EngineSettings
from scheduler.llm import LiteLLMClient
from scheduler.parsing.request import build_request_parser
from scheduler.runner.runner import RunnerSettings, TaskRunner
from storage import runs
from storage.records import Chat, Run, RunStatus, Task
from tests.fakes.clock import FakeClock
from tests.fakes.delivery import FakeDelivery

# A Thursday morning in Berlin.
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
CHAT, OTHER_CHAT = 1001, 2002
ALICE = 11
QUOTA = 3


@dataclass
class HeldExecutor:
    """Stands in for the runner: records each run and keeps it going until released."""

    sessions: async_sessionmaker[AsyncSession]
    clock: FakeClock
    release: asyncio.Event = field(default_factory=asyncio.Event)
    started: list[Run] = field(default_factory=list)

    async def execute(self, run: Run, task: Task) -> None:
        self.started.append(run)
        await self.release.wait()
        async with self.sessions() as session, session.begin():
            await runs.finish(
                session, run.id, status=RunStatus.SUCCEEDED, finished_at=self.clock.now()
            )


@dataclass
class World:
    app: Application
    engine: Engine
    executor: HeldExecutor
    clock: FakeClock

    async def chat(self, chat_id: int = CHAT) -> Chat:
        return await self.app.chats.see(chat_id, type="private", title="Alice")

    async def task(self, text: str, chat_id: int = CHAT) -> Task:
        card = await self.app.drafts.create(await self.chat(chat_id), ALICE, text)
        return await self.app.drafts.confirm(chat_id, card.draft_id, ALICE)


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> World:
    clock = FakeClock(NOW)
    executor = HeldExecutor(sessions, clock)
    engine = Engine(sessions, executor, clock, EngineSettings())
    # Follow-up answers need a runner; these tests ask it nothing, so its model is never called.
    runner = TaskRunner(
        sessions,
        LiteLLMClient(api_base="http://127.0.0.1:9", api_key=None),
        FakeDelivery(),
        clock,
        RunnerSettings(model="openai/none"),
    )
    app = build_application(
        sessions,
        engine,
        build_request_parser(llm=None, model="off", min_interval_seconds=300),
        clock,
        ApplicationSettings(
            default_timezone="Europe/Berlin", max_tasks_per_chat=QUOTA, min_interval_seconds=300
        ),
        runner,
    )
    return World(app, engine, executor, clock)
