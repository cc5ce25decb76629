"""When a failed run tries again: each delay in turn, for reasons that heal, before the next
occurrence, for the schedule's runs only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.reasons import KeyRejected, ProviderFailed
from scheduler.runner.retrying import next_try
from storage.records import RunStatus, RunTrigger, TaskState
from tests.fakes.records import NOW, a_run, a_task

DELAYS = (300.0, 900.0, 1800.0)
HEALS = ProviderFailed(status=503)


def test_each_try_waits_its_delay_until_the_tries_are_spent() -> None:
    task = a_task(next_run_at=NOW + timedelta(days=1))
    for attempt, delay in enumerate(DELAYS, 1):
        run = a_run(task, attempt=attempt)
        at = next_try(run, task, RunStatus.FAILED, HEALS, delays=DELAYS, now=NOW)
        assert at == NOW + timedelta(seconds=delay)
    spent = a_run(task, attempt=len(DELAYS) + 1)
    assert next_try(spent, task, RunStatus.FAILED, HEALS, delays=DELAYS, now=NOW) is None


@pytest.mark.parametrize(
    ("status", "reason", "trigger", "state", "next_in", "retry_of"),
    [
        (RunStatus.FAILED, KeyRejected(status=401), RunTrigger.SCHEDULE, TaskState.ACTIVE, 1, None),
        (RunStatus.SUCCEEDED, None, RunTrigger.SCHEDULE, TaskState.ACTIVE, 1, None),
        (RunStatus.FAILED, HEALS, RunTrigger.MANUAL, TaskState.ACTIVE, 1, None),
        (RunStatus.FAILED, HEALS, RunTrigger.RETRY, TaskState.ACTIVE, 1, None),
        (RunStatus.FAILED, HEALS, RunTrigger.SCHEDULE, TaskState.PAUSED, 1, None),
        # The next occurrence (in 4 minutes) comes before the try would (in 5).
        (RunStatus.FAILED, HEALS, RunTrigger.SCHEDULE, TaskState.ACTIVE, 4 / 1440, None),
    ],
)
def test_no_try(
    status: RunStatus,
    reason: ProviderFailed | KeyRejected | None,
    trigger: RunTrigger,
    state: TaskState,
    next_in: float,
    retry_of: int | None,
) -> None:
    task = a_task(state=state, next_run_at=NOW + timedelta(days=next_in))
    run = a_run(task, trigger=trigger, retry_of=retry_of)
    assert next_try(run, task, status, reason, delays=DELAYS, now=NOW) is None


def test_a_try_of_a_try_tries_again_and_a_deleted_task_never_does() -> None:
    task = a_task(next_run_at=NOW + timedelta(days=1))
    again = a_run(task, trigger=RunTrigger.RETRY, retry_of=40, attempt=2)
    at = next_try(again, task, RunStatus.FAILED, HEALS, delays=DELAYS, now=NOW)
    assert at == NOW + timedelta(seconds=900)
    assert next_try(again, None, RunStatus.FAILED, HEALS, delays=DELAYS, now=NOW) is None
    assert next_try(again, task, RunStatus.FAILED, HEALS, delays=(), now=NOW) is None
