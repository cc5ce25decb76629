"""Tasks: list, show, pause, resume and delete the tasks of a chat (each checked against the
actor, application.permissions); which chat owns which, and how many."""

from __future__ import annotations

import builtins
import math
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.access import Access
from application.errors import (
    QuotaExceededError,
    TaskAlreadyActiveError,
    TaskNotActiveError,
    TaskTimePassedError,
)
from application.permissions import Action, Actor
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
        raise TaskNotFoundError(task_id)
    return task


async def check_quota(session: AsyncSession, chat_id: int, limit: int) -> None:
    """QuotaExceededError when the chat has `limit` tasks that count already."""
    if await count_open(session, chat_id) >= limit:
        raise QuotaExceededError(limit)


async def count_open(session: AsyncSession, chat_id: int) -> int:
    """The tasks that count against the chat's quota: active and paused ones."""
    return await tasks.count_for_chat(session, chat_id, states=[TaskState.ACTIVE, TaskState.PAUSED])


async def pause_task(session: AsyncSession, task: Task, *, now: datetime) -> Task:
    """Pause a task (locked by the caller): only an active one can be."""
    if task.state is not TaskState.ACTIVE:
        raise TaskNotActiveError(task.id, task.state)
    paused = await tasks.set_state(session, task.id, TaskState.PAUSED, next_run_at=None, now=now)
    assert paused is not None
    return paused


async def resume_task(session: AsyncSession, task: Task, *, now: datetime) -> Task:
    """Resume a task (locked by the caller) at its next instant after `now`, its failures
    forgotten and its chat reachable again; the caller arms the engine after the commit."""
    if task.state is TaskState.ACTIVE:
        raise TaskAlreadyActiveError(task.id)
    next_run = Schedule.of(task).next_after(now)
    if next_run is None:
        raise TaskTimePassedError(task.id, task.state)
    resumed = await tasks.set_state(
        session, task.id, TaskState.ACTIVE, next_run_at=next_run, now=now, reset_failures=True
    )
    await chats.set_active(session, task.chat_id, True)
    assert resumed is not None
    return resumed


class Tasks:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        engine: Engine,
        clock: Clock,
        access: Access,
    ) -> None:
        self._sessions = sessions
        self._engine = engine
        self._clock = clock
        self._access = access

    async def list(self, actor: Actor, chat_id: int, *, page: int = 0) -> TaskPage:
        await self._access.require(actor, Action.LIST_TASKS, chat_id)
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

    async def every_chat(self, actor: Actor, *, chat_id: int | None = None) -> builtins.list[Task]:
        """Every chat's tasks (or one chat's), for the operator."""
        await self._access.require(actor, Action.EVERY_CHATS_TASKS, None)
        async with self._sessions() as session:
            return await tasks.list_all(session, chat_id=chat_id)

    async def get(self, actor: Actor, task_id: int, *, to: Action = Action.SHOW_TASK) -> Task:
        """The task, when `actor` may see it, or do `to` to it (the door is about to offer
        that: Delete asks again first)."""
        return await self._access.task(actor, to, task_id)

    async def pause(self, actor: Actor, task_id: int) -> Task:
        found = await self._access.task(actor, Action.PAUSE_TASK, task_id)
        async with self._sessions() as session, session.begin():
            task = await task_in_chat(session, found.chat_id, task_id, lock=True)
            paused = await pause_task(session, task, now=self._clock.now())
        log.info("task.paused", task_id=task_id, chat_id=found.chat_id, door=actor.door.value)
        return paused

    async def resume(self, actor: Actor, task_id: int) -> Task:
        found = await self._access.task(actor, Action.RESUME_TASK, task_id)
        async with self._sessions() as session, session.begin():
            task = await task_in_chat(session, found.chat_id, task_id, lock=True)
            resumed = await resume_task(session, task, now=self._clock.now())
        self._engine.arm(resumed.next_run_at)
        log.info("task.resumed", task_id=task_id, chat_id=found.chat_id, door=actor.door.value)
        return resumed

    async def delete(self, actor: Actor, task_id: int) -> Task:
        found = await self._access.task(actor, Action.DELETE_TASK, task_id)
        async with self._sessions() as session, session.begin():
            task = await task_in_chat(session, found.chat_id, task_id, lock=True)
            await tasks.delete(session, task_id)
        log.info("task.deleted", task_id=task_id, chat_id=found.chat_id, door=actor.door.value)
        return task
