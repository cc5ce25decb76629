"""Repository for the tries of a failed run: a run that failed for a reason that heals keeps
the instant of its next try (`runs.retry_at`) until a process claims it, which clears the
instant and records the new try as a run of its own in the same transaction. Callers own the
transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import runs, tasks
from storage.dialects import id_in, is_postgres
from storage.models import RunRow
from storage.records import Run, RunStatus, RunTrigger, Task, TaskState


@dataclass(frozen=True, slots=True)
class ClaimedTry:
    """A try this process won: the new run, its task, and the failed run it repeats."""

    run: Run
    task: Task
    failed: Run


async def claim_due(
    session: AsyncSession, *, now: datetime, owner: str, limit: int
) -> tuple[list[ClaimedTry], bool]:
    """Claim the tries due by `now`: each failed run's `retry_at` is cleared and, when its task
    is still active and has no run going, a `running` try is recorded for this owner. Returns
    the tries won and whether more may be due.

    On PostgreSQL the failed rows stay locked until the transaction ends and rows another
    process holds are skipped, so a try is claimed by one process, once; SQLite serialises
    writers anyway.
    """
    statement = (
        select(RunRow)
        .where(RunRow.retry_at.is_not(None), RunRow.retry_at <= now)
        .order_by(RunRow.retry_at, RunRow.id)
        .limit(limit)
    )
    if is_postgres(session):
        statement = statement.with_for_update(skip_locked=True)
    rows = list(
        (await session.execute(statement, execution_options={"populate_existing": True})).scalars()
    )
    if not rows:
        return [], False
    failed_runs = [runs.to_record(row) for row in rows]
    await session.execute(
        update(RunRow)
        .where(id_in(session, RunRow.id, [row.id for row in rows]))
        .values(retry_at=None)
    )
    busy = await runs.running_task_ids(session, [run.task_id for run in failed_runs])
    won = []
    for failed in failed_runs:
        task = await tasks.get(session, failed.task_id)
        # Paused, finished or deleted meanwhile, or a run already going: the try is dropped.
        if task is None or task.state is not TaskState.ACTIVE or task.id in busy:
            continue
        row = RunRow(
            task_id=task.id,
            scheduled_for=failed.retry_at,
            trigger=RunTrigger.RETRY,
            status=RunStatus.RUNNING,
            owner=owner,
            delivery_pending=False,
            attempt=failed.attempt + 1,
            retry_of=failed.id,
        )
        session.add(row)
        await session.flush()
        busy.add(task.id)
        won.append(ClaimedTry(runs.to_record(row), task, failed))
    return won, len(rows) == limit


async def due_instants(
    session: AsyncSession, *, until: datetime, limit: int = 10_000
) -> list[datetime]:
    """The distinct instants of tries due up to `until`, earliest first."""
    result = await session.execute(
        select(RunRow.retry_at)
        .where(RunRow.retry_at.is_not(None), RunRow.retry_at <= until)
        .group_by(RunRow.retry_at)
        .order_by(RunRow.retry_at)
        .limit(limit)
    )
    return [instant for instant in result.scalars() if instant is not None]


async def earlier_tries(session: AsyncSession, run: Run) -> list[Run]:
    """The tries before `run` of its occurrence, the latest first (none for a first try)."""
    found: list[Run] = []
    earlier = run.retry_of
    # A try repeats one run, and its attempt counts up: the chain ends within `attempt` steps.
    while earlier is not None and len(found) < run.attempt:
        tried = await runs.get(session, earlier)
        if tried is None:
            break
        found.append(tried)
        earlier = tried.retry_of
    return found
