"""Runs: run a task now, read its history."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.access import Access
from application.permissions import Action, Actor
from scheduler.engine import Engine
from storage import runs
from storage.records import Run, RunTrigger


class Runs:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], engine: Engine, access: Access
    ) -> None:
        self._sessions = sessions
        self._engine = engine
        self._access = access

    async def run_now(
        self, actor: Actor, task_id: int, *, trigger: RunTrigger = RunTrigger.MANUAL
    ) -> Run:
        await self._access.task(actor, Action.RUN_TASK, task_id)
        return await self._engine.run_now(task_id, trigger=trigger)

    async def history(self, actor: Actor, task_id: int, *, limit: int = 10) -> list[Run]:
        await self._access.task(actor, Action.TASK_HISTORY, task_id)
        async with self._sessions() as session:
            return await runs.list_for_task(session, task_id, limit=limit)
