"""The application layer: the use cases every front door calls, returning frozen records.

A front door holds one `Application` and calls its subjects: `chats`, `languages`, `drafts`,
`tasks`, `runs`, `changes`, `conversations`, `usage`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.changes import Changes
from application.chats import Chats
from application.conversations import Conversations
from application.drafts import Drafts
from application.languages import Languages
from application.records import ApplicationSettings
from application.runs import Runs
from application.tasks import Tasks
from application.usage import Usage
from scheduler.clock import Clock
from scheduler.engine import Engine
from scheduler.parsing.request import RequestParser
from scheduler.runner.runner import TaskRunner


@dataclass(frozen=True, slots=True)
class Application:
    chats: Chats
    languages: Languages
    drafts: Drafts
    tasks: Tasks
    runs: Runs
    changes: Changes
    conversations: Conversations
    usage: Usage


def build_application(
    sessions: async_sessionmaker[AsyncSession],
    engine: Engine,
    parser: RequestParser,
    clock: Clock,
    settings: ApplicationSettings,
    runner: TaskRunner,
    *,
    usage: Usage | None = None,
) -> Application:
    changes = Changes(sessions, engine, clock, min_interval_seconds=settings.min_interval_seconds)
    usage = usage or Usage(sessions, clock, settings.monthly_budget_usd)
    return Application(
        chats=Chats(sessions, clock, settings),
        languages=Languages(sessions),
        drafts=Drafts(sessions, engine, parser, clock, settings, usage),
        tasks=Tasks(sessions, engine, clock),
        runs=Runs(sessions, engine),
        changes=changes,
        conversations=Conversations(
            sessions, runner, changes, clock, usage, owner=engine.worker_id
        ),
        usage=usage,
    )
