"""Tasks: list, show, pause, resume and delete the tasks of a chat; who owns which, and how many."""

from __future__ import annotations

import math

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.errors import QuotaExceededError, TaskStateError
from application.records import TaskPage
from core.logs import get_logger
from scheduler.clock import Clock
from scheduler.engine import Engine, TaskNotFoundError
from scheduler.schedules.schedule import Schedule
from storage import chats, tasks
from storage.records import Task, TaskState

log = get_logger(__name__)

PAGE_SIZE = 10


async def task_in_chat(
    session: AsyncSession, chat_id: int, task_id: int, *, lock: bool = False
) -> Task:
    """The task, if it exists and belongs to the chat asking; else TaskNotFoundError."""
    task = await tasks.get(session, task_id, for_update=lock)
    if task is None or task.chat_id != chat_id:
        raise TaskNotFoundError(f"there is no task #{task_id} in this chat")
    return task


async def count_open(session: AsyncSession, chat_id: int) -> int:
    """The tasks that count against the chat's quota: active and paused ones."""
    return await tasks.count_for_chat(session, chat_id, states=[TaskState.ACTIVE, TaskState.PAUSED])


def quota_error(limit: int) -> QuotaExceededError:
    return QuotaExceededError(
        f"this chat already has {limit} tasks, the most it may have; "
        "delete one with /delete N first"
    )


class Tasks:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], engine: Engine, clock: Clock
    ) -> None:
        self._sessions = sessions
        self._engine = engine
        self._clock = clock

    async def list(self, chat_id: int, *, page: int = 0) -> TaskPage:
        async with self._sessions() as session:
            total = await tasks.count_for_chat(session, chat_id)
            pages = max(1, math.ceil(total / PAGE_SIZE))
            page = min(max(page, 0), pages - 1)
            found = await tasks.list_for_chat(
                session, chat_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE
            )
        return TaskPage(
            tasks=tuple(found),
            descriptions=tuple(Schedule.of(task).describe() for task in found),
            page=page,
            pages=pages,
            total=total,
        )

    async def get(self, chat_id: int, task_id: int) -> Task:
        async with self._sessions() as session:
            return await task_in_chat(session, chat_id, task_id)

    async def pause(self, chat_id: int, task_id: int) -> Task:
        async with self._sessions() as session, session.begin():
            task = await task_in_chat(session, chat_id, task_id, lock=True)
            if task.state is not TaskState.ACTIVE:
                raise TaskStateError(f"task #{task_id} is {task.state.value}, not active")
            paused = await tasks.set_state(
                session, task_id, TaskState.PAUSED, next_run_at=None, now=self._clock.now()
            )
        assert paused is not None
        log.info("task.paused", task_id=task_id, chat_id=chat_id)
        return paused

    async def resume(self, chat_id: int, task_id: int) -> Task:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            task = await task_in_chat(session, chat_id, task_id, lock=True)
            if task.state is TaskState.ACTIVE:
                raise TaskStateError(f"task #{task_id} is already active")
            next_run = Schedule.of(task).next_after(now)
            if next_run is None:
                raise TaskStateError(
                    f"task #{task_id} was a one-time task and its time has passed; "
                    f"use /edit {task_id} with a new time"
                )
            resumed = await tasks.set_state(
                session,
                task_id,
                TaskState.ACTIVE,
                next_run_at=next_run,
                now=now,
                reset_failures=True,
            )
            await chats.set_active(session, chat_id, True)
        assert resumed is not None
        self._engine.arm(resumed.next_run_at)
        log.info("task.resumed", task_id=task_id, chat_id=chat_id)
        return resumed

    async def delete(self, chat_id: int, task_id: int) -> Task:
        async with self._sessions() as session, session.begin():
            task = await task_in_chat(session, chat_id, task_id, lock=True)
            await tasks.delete(session, task_id)
        log.info("task.deleted", task_id=task_id, chat_id=chat_id)
        return task
