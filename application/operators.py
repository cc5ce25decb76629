"""What the operator may do that a chat may not: see every chat's tasks, and find a task by its
number alone. Changing a task then goes through the same use cases as the bot's, in the task's
own chat."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.engine import TaskNotFoundError
from storage import tasks
from storage.records import Task


class Operators:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def tasks(self, *, chat_id: int | None = None) -> list[Task]:
        async with self._sessions() as session:
            return await tasks.list_all(session, chat_id=chat_id)

    async def task(self, task_id: int) -> Task:
        """The task with this number, whichever chat it belongs to."""
        async with self._sessions() as session:
            task = await tasks.get(session, task_id)
        if task is None:
            raise TaskNotFoundError(task_id)
        return task
