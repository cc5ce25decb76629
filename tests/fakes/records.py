"""A task and a run as storage returns them, for tests of code that needs no database."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from storage.records import Run, RunStatus, RunTrigger, Task, TaskKind, TaskState

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def a_task(**changes: Any) -> Task:
    """A daily 09:00 task, active, in chat 777, with `changes` applied."""
    task = Task(
        id=12,
        chat_id=777,
        created_by=1,
        name="Morning digest",
        prompt="Summarize the news",
        kind=TaskKind.CRON,
        cron="0 9 * * *",
        run_at=None,
        every_seconds=None,
        timezone="UTC",
        state=TaskState.ACTIVE,
        next_run_at=None,
        last_run_at=None,
        consecutive_failures=0,
        created_at=NOW,
        updated_at=NOW,
    )
    return dataclasses.replace(task, **changes)


def a_run(task: Task, **changes: Any) -> Run:
    """A scheduled run of `task` that succeeded, its message not sent yet, with `changes`."""
    run = Run(
        id=41,
        task_id=task.id,
        scheduled_for=NOW,
        trigger=RunTrigger.SCHEDULE,
        status=RunStatus.SUCCEEDED,
        started_at=NOW,
        finished_at=NOW,
        output="The news.",
        reason=None,
        prompt_tokens=None,
        completion_tokens=None,
        cost=None,
        delivered_message_id=None,
        delivery_error=None,
    )
    return dataclasses.replace(run, **changes)
