"""Occurrences skipped ahead of time (/skip): a `skipped` run recorded for the instant before it
is due, which the engine's exactly-once guard then finds taken. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.reasons import SkippedByPerson
from storage import runs
from storage.models import RunRow
from storage.records import Run, RunStatus, RunTrigger


async def add(
    session: AsyncSession, task_id: int, instant: datetime, *, user_id: int, now: datetime
) -> Run | None:
    """Record the occurrence at `instant` as skipped by `user_id`; None when that occurrence is
    recorded already (skipped before, or claimed by the engine)."""
    won = await runs.add_occurrences(
        session,
        [
            runs.NewRun(
                task_id,
                instant,
                RunTrigger.SCHEDULE,
                RunStatus.SKIPPED,
                finished_at=now,
                reason=SkippedByPerson(user_id=user_id),
            )
        ],
    )
    return won[0] if won else None


async def coming(session: AsyncSession, task_id: int, *, after: datetime) -> Run | None:
    """The task's earliest occurrence after `after` that someone skipped ahead of time."""
    result = await session.execute(
        select(RunRow)
        .where(
            RunRow.task_id == task_id,
            RunRow.status == RunStatus.SKIPPED,
            RunRow.reason_code == SkippedByPerson.code,
            RunRow.scheduled_for > after,
        )
        .order_by(RunRow.scheduled_for)
        .limit(1)
    )
    row = result.scalar_one_or_none()
    return runs.to_record(row) if row is not None else None


async def coming_for(
    session: AsyncSession, task_ids: Collection[int], *, after: datetime
) -> dict[int, datetime]:
    """`coming` for many tasks in one query (a page of a list): each task's earliest occurrence
    after `after` that someone skipped ahead of time, by task id; a task with none is absent."""
    if not task_ids:
        return {}
    result = await session.execute(
        select(RunRow.task_id, func.min(RunRow.scheduled_for))
        .where(
            RunRow.task_id.in_(task_ids),
            RunRow.status == RunStatus.SKIPPED,
            RunRow.reason_code == SkippedByPerson.code,
            RunRow.scheduled_for > after,
        )
        .group_by(RunRow.task_id)
    )
    return dict(result.all())


async def remove(session: AsyncSession, run_id: int) -> bool:
    """Forget a skip that has not come yet (/skip N undo)."""
    result = await session.execute(delete(RunRow).where(RunRow.id == run_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]
