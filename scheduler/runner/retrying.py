"""When a run that failed tries again (RUN_RETRY_DELAYS): after each delay in turn, for a
failure whose reason heals (core/reasons.py, `transient`), unless the task's next occurrence
comes first. The tries are stored on the failed run (`retry_at`) and claimed by the engine like
any occurrence (storage/retries.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from core.reasons import Reason
from scheduler.runner.sending import SCHEDULED_TRIGGERS
from storage.records import Run, RunStatus, Task, TaskState


def repeats_schedule(run: Run) -> bool:
    """Whether the run is its schedule's (an occurrence or one of its tries), as opposed to a
    run someone asked for: only those try again, and only those count toward the pause."""
    return run.trigger in SCHEDULED_TRIGGERS or run.retry_of is not None


def may_try_again(
    run: Run, status: RunStatus, reason: Reason | None, *, delays: Sequence[float]
) -> bool:
    """Whether the run may try again at all, whatever its task says now (`next_try` needs the
    task only then)."""
    if status is not RunStatus.FAILED or reason is None or not reason.transient:
        return False
    return repeats_schedule(run) and run.attempt <= len(delays)


def next_try(
    run: Run,
    task: Task | None,
    status: RunStatus,
    reason: Reason | None,
    *,
    delays: Sequence[float],
    now: datetime,
) -> datetime | None:
    """The instant the run tries again, or None: it did not fail for a reason that heals, its
    tries are spent, its task is no longer active, or the next occurrence comes first."""
    if not may_try_again(run, status, reason, delays=delays):
        return None
    if task is None or task.state is not TaskState.ACTIVE:
        return None
    at = now + timedelta(seconds=delays[run.attempt - 1])
    if task.next_run_at is not None and at >= task.next_run_at:
        return None
    return at
