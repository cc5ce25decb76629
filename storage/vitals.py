"""Read-only questions about how the bot is doing, for the operator's alerts and
`cronpilot doctor`: model errors per model, workers that stopped beating, tasks that did not
run, results owed too long. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import RunRow, TaskRow, WorkerRow
from storage.records import RunStatus, TaskState


@dataclass(frozen=True, slots=True)
class ModelOutcomes:
    model: str
    runs: int
    failed: int


@dataclass(frozen=True, slots=True)
class SilentWorker:
    id: str
    heartbeat_at: datetime


@dataclass(frozen=True, slots=True)
class Owed:
    """Results still owed to chats since before some instant."""

    count: int
    chat_ids: tuple[int, ...]
    oldest: datetime | None


async def model_outcomes(
    session: AsyncSession, *, since: datetime, failure_codes: Sequence[str]
) -> list[ModelOutcomes]:
    """Per model, the runs that asked it and finished since `since`, and how many of them
    failed for one of `failure_codes` (the model's or its provider's fault)."""
    failed = func.sum(case((RunRow.reason_code.in_(list(failure_codes)), 1), else_=0))
    result = await session.execute(
        select(RunRow.model, func.count(), failed.cast(Integer))
        .where(
            RunRow.model.is_not(None),
            RunRow.finished_at >= since,
            RunRow.status.in_([RunStatus.SUCCEEDED, RunStatus.FAILED]),
        )
        .group_by(RunRow.model)
        .order_by(RunRow.model)
    )
    return [
        ModelOutcomes(model=str(model), runs=int(runs), failed=int(failures or 0))
        for model, runs, failures in result.all()
    ]


async def silent_workers(session: AsyncSession, *, alive_since: datetime) -> list[SilentWorker]:
    """Workers whose heartbeat lapsed (older than `alive_since`) and that no worker started
    since has replaced (a restarted process is a new worker: its old row is not a problem)."""
    later = aliased(WorkerRow)
    replaced = select(later.id).where(later.started_at > WorkerRow.heartbeat_at).exists()
    result = await session.execute(
        select(WorkerRow.id, WorkerRow.heartbeat_at)
        .where(WorkerRow.heartbeat_at < alive_since, ~replaced)
        .order_by(WorkerRow.heartbeat_at)
    )
    return [SilentWorker(id=id_, heartbeat_at=at) for id_, at in result.all()]


async def live_workers(session: AsyncSession, *, alive_since: datetime) -> int:
    result = await session.execute(
        select(func.count()).select_from(WorkerRow).where(WorkerRow.heartbeat_at >= alive_since)
    )
    return int(result.scalar_one())


async def overdue_tasks(session: AsyncSession, *, due_before: datetime) -> tuple[int, ...]:
    """Active tasks whose next run is older than `due_before` and still not claimed (a few
    ids, oldest first, with the count the caller takes from the length)."""
    result = await session.execute(
        select(TaskRow.id)
        .where(TaskRow.state == TaskState.ACTIVE, TaskRow.next_run_at < due_before)
        .order_by(TaskRow.next_run_at)
        .limit(100)
    )
    return tuple(result.scalars())


async def missed_runs(session: AsyncSession, *, since: datetime) -> int:
    """Occurrences recorded as missed since `since` (the bot was down past the grace)."""
    result = await session.execute(
        select(func.count())
        .select_from(RunRow)
        .where(RunRow.status == RunStatus.MISSED, RunRow.finished_at >= since)
    )
    return int(result.scalar_one())


async def owed_since(session: AsyncSession, *, finished_before: datetime) -> Owed:
    """Results finished before `finished_before` and still owed to their chats."""
    owed = (
        select(RunRow.finished_at, TaskRow.chat_id)
        .join(TaskRow, TaskRow.id == RunRow.task_id)
        .where(RunRow.delivery_pending.is_(True), RunRow.finished_at < finished_before)
        .subquery()
    )
    result = await session.execute(
        select(func.count(), func.min(owed.c.finished_at)).select_from(owed)
    )
    count, oldest = result.one()
    chats = await session.execute(
        select(owed.c.chat_id).distinct().order_by(owed.c.chat_id).limit(5)
    )
    return Owed(count=int(count), chat_ids=tuple(chats.scalars()), oldest=oldest)
