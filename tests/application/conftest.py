"""The application layer with everything real below it (storage, rules parser, engine) on
PostgreSQL and SQLite, a fixed clock, and runs recorded instead of sent to a model.

The chats are private chats (a private chat has its person's id) unless a test makes a group;
who is what in a group is a table the test fills (Telegram's getChatMember is exercised by the
bot and API tests)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application import UseCases, build_use_cases
from application.access import Access, MemberRole
from application.permissions import Actor, Door
from application.records import ApplicationSettings, Card
from core.settings import AllowedUsers
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
# Private chats: each has its person's id.
CHAT, OTHER_CHAT = 1001, 2002
ALICE = CHAT
QUOTA = 3


class Members:
    """Who is what in which group: the ChatMembers port, played by a table; every question is
    counted."""

    def __init__(self) -> None:
        self.roles: dict[tuple[int, int], MemberRole | None] = {}
        self.asked = 0

    async def role(self, chat_id: int, user_id: int) -> MemberRole | None:
        self.asked += 1
        return self.roles.get((chat_id, user_id), MemberRole.OUTSIDER)


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
    app: UseCases
    engine: Engine
    executor: HeldExecutor
    clock: FakeClock
    members: Members

    async def chat(self, chat_id: int = CHAT) -> Chat:
        return await self.app.chats.see(chat_id, type="private", title="Alice")

    def actor(self, chat_id: int = CHAT) -> Actor:
        """The person whose private chat this is, writing in it."""
        return Actor(chat_id, Door.BOT, chat_id=chat_id, chat_type="private")

    async def draft(self, text: str, chat_id: int = CHAT, *, task_id: int | None = None) -> Card:
        await self.chat(chat_id)
        return await self.app.drafts.create(self.actor(chat_id), chat_id, text, task_id=task_id)

    async def task(self, text: str, chat_id: int = CHAT) -> Task:
        card = await self.draft(text, chat_id)
        return await self.app.drafts.confirm(self.actor(chat_id), card.draft_id)


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> World:
    return build_world(sessions)


def build_world(
    sessions: async_sessionmaker[AsyncSession],
    *,
    allowed: AllowedUsers = AllowedUsers(everyone=True),  # noqa: B008 - frozen
    quota: int = QUOTA,
) -> World:
    clock = FakeClock(NOW)
    members = Members()
    access = Access(sessions, allowed, members, clock)
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
    app = build_use_cases(
        sessions,
        engine,
        build_request_parser(llm=None, model="off", min_interval_seconds=300),
        clock,
        ApplicationSettings(
            default_timezone="Europe/Berlin", max_tasks_per_chat=quota, min_interval_seconds=300
        ),
        runner,
        access,
    )
    return World(app, engine, executor, clock, members)
