"""Tasks: ownership (a task of another chat does not exist there) and the state rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.errors import TaskAlreadyActiveError, TaskNotActiveError, TaskTimePassedError
from scheduler.engine import TaskNotFoundError
from storage import tasks
from storage.records import TaskState
from tests.application.conftest import CHAT, OTHER_CHAT, World

Sessions = async_sessionmaker[AsyncSession]


async def test_a_task_of_another_chat_is_not_found_and_not_touched(world: World) -> None:
    task = await world.task("every day at 9 news")
    await world.chat(OTHER_CHAT)
    app = world.app
    for act in (app.tasks.get, app.tasks.pause, app.tasks.resume, app.tasks.delete):
        with pytest.raises(TaskNotFoundError) as missing:
            await act(world.actor(OTHER_CHAT), task.id)
        assert missing.value.task_id == task.id
    with pytest.raises(TaskNotFoundError):
        await app.runs.history(world.actor(OTHER_CHAT), task.id)
    with pytest.raises(TaskNotFoundError):
        await app.runs.run_now(world.actor(OTHER_CHAT), task.id)
    assert world.executor.started == []
    assert (await app.tasks.get(world.actor(), task.id)) == task


async def test_pause_and_resume_refuse_what_the_state_does_not_allow(world: World) -> None:
    task = await world.task("every day at 9 news")
    with pytest.raises(TaskAlreadyActiveError) as active:
        await world.app.tasks.resume(world.actor(), task.id)
    assert (active.value.task_id, active.value.state) == (task.id, TaskState.ACTIVE)
    paused = await world.app.tasks.pause(world.actor(), task.id)
    assert (paused.state, paused.next_run_at) == (TaskState.PAUSED, None)
    with pytest.raises(TaskNotActiveError) as again:
        await world.app.tasks.pause(world.actor(), task.id)
    assert again.value.state is TaskState.PAUSED
    resumed = await world.app.tasks.resume(world.actor(), task.id)
    assert (resumed.state, resumed.next_run_at) == (TaskState.ACTIVE, task.next_run_at)


async def test_a_finished_task_cannot_be_paused(world: World, sessions: Sessions) -> None:
    task = await world.task("in 10 minutes call Bob")
    async with world.app.tasks._sessions() as session, session.begin():
        await tasks.set_state(
            session, task.id, TaskState.FINISHED, next_run_at=None, now=world.clock.now()
        )
    with pytest.raises(TaskNotActiveError) as done:
        await world.app.tasks.pause(world.actor(), task.id)
    assert done.value.state is TaskState.FINISHED


async def test_a_paused_one_time_task_past_its_time_cannot_resume(world: World) -> None:
    task = await world.task("in 10 minutes call Bob")
    await world.app.tasks.pause(world.actor(), task.id)
    assert task.run_at is not None
    world.clock.current = task.run_at + timedelta(minutes=1)
    with pytest.raises(TaskTimePassedError) as passed:
        await world.app.tasks.resume(world.actor(), task.id)
    assert (passed.value.task_id, passed.value.state) == (task.id, TaskState.PAUSED)
    assert (await world.app.tasks.get(world.actor(), task.id)).state is TaskState.PAUSED


async def test_an_unreachable_chat_pauses_its_tasks(world: World) -> None:
    first = await world.task("every day at 9 news")
    second = await world.task("every day at 10 weather")
    assert sorted(await world.app.chats.unreachable(CHAT)) == sorted([first.id, second.id])
    listing = await world.app.tasks.list(world.actor(), CHAT)
    assert {t.state for t in listing.tasks} == {TaskState.PAUSED}
