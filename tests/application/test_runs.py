"""Runs: Run now starts one run at a time; history and the run behind a result."""

from __future__ import annotations

import pytest

from scheduler.engine import TaskBusyError
from storage.records import RunStatus, RunTrigger
from tests.application.conftest import World


async def test_run_now_starts_one_run_at_a_time(world: World) -> None:
    task = await world.task("every day at 9 news")
    run = await world.app.runs.run_now(world.actor(), task.id)
    assert (run.task_id, run.trigger) == (task.id, RunTrigger.MANUAL)
    with pytest.raises(TaskBusyError) as busy:
        await world.app.runs.run_now(world.actor(), task.id, trigger=RunTrigger.RETRY)
    assert busy.value.task_id == task.id
    world.executor.release.set()
    await world.engine.wait_idle()
    retry = await world.app.runs.run_now(world.actor(), task.id, trigger=RunTrigger.RETRY)
    await world.engine.wait_idle()
    history = await world.app.runs.history(world.actor(), task.id)
    assert [(r.id, r.trigger, r.status) for r in history] == [
        (retry.id, RunTrigger.RETRY, RunStatus.SUCCEEDED),
        (run.id, RunTrigger.MANUAL, RunStatus.SUCCEEDED),
    ]
