"""Runs: run a task now, read its history."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.tasks import task_in_chat
from scheduler.engine import Engine
from storage import runs
from storage.records import Run, RunTrigger


class Runs:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], engine: Engine) -> None:
        self._sessions = sessions
        self._engine = engine

    async def run_now(
        self, chat_id: int, task_id: int, *, trigger: RunTrigger = RunTrigger.MANUAL
    ) -> Run:
        async with self._sessions() as session:
            await task_in_chat(session, chat_id, task_id)
        return await self._engine.run_now(task_id, trigger=trigger)

    async def history(self, chat_id: int, task_id: int, *, limit: int = 10) -> list[Run]:
        async with self._sessions() as session:
            await task_in_chat(session, chat_id, task_id)
            return await runs.list_for_task(session, task_id, limit=limit)
