"""Runs: run a task now, read its history."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.access import Access
from application.errors import PayloadTooLargeError
from application.permissions import Action, Actor
from scheduler.engine import Engine
from storage import runs
from storage.records import Run, RunTrigger


class Runs:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        engine: Engine,
        access: Access,
        *,
        max_payload_bytes: int = 16_384,
    ) -> None:
        """`max_payload_bytes` is TRIGGER_MAX_BYTES: the largest event a run is given."""
        self._sessions = sessions
        self._engine = engine
        self._access = access
        self._max_payload_bytes = max_payload_bytes

    async def run_now(
        self,
        actor: Actor,
        task_id: int,
        *,
        trigger: RunTrigger = RunTrigger.MANUAL,
        payload: str | None = None,
    ) -> Run:
        """Run the task now; `payload` is an event the model is given as data (the API's)."""
        await self._access.task(actor, Action.RUN_TASK, task_id)
        if payload is not None:
            size = len(payload.encode())
            if size > self._max_payload_bytes:
                raise PayloadTooLargeError(size, self._max_payload_bytes)
        return await self._engine.run_now(task_id, trigger=trigger, payload=payload)

    async def history(self, actor: Actor, task_id: int, *, limit: int = 10) -> list[Run]:
        await self._access.task(actor, Action.TASK_HISTORY, task_id)
        async with self._sessions() as session:
            return await runs.list_for_task(session, task_id, limit=limit)
