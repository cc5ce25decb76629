"""Repository for what starts a task besides its schedule: its trigger URL's digest, the task it
runs after (and the runs that start it so), and whether it stays quiet when nothing changed.
Callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import runs
from storage.dialects import insert_for
from storage.models import AFTER_RUN, RunRow, TaskRow
from storage.records import Run, RunStatus, RunTrigger, Task, TaskState
from storage.tasks import to_record


async def set_trigger_hash(
    session: AsyncSession, task_id: int, digest: str | None, *, now: datetime
) -> None:
    """Give the task a trigger URL (the digest of its secret), or none."""
    await session.execute(
        update(TaskRow).where(TaskRow.id == task_id).values(trigger_hash=digest, updated_at=now)
    )


async def find_by_trigger_hash(session: AsyncSession, digest: str) -> tuple[Task, str] | None:
    """The task whose trigger URL has this digest, with the digest as stored."""
    row = (
        await session.execute(
            select(TaskRow).where(TaskRow.trigger_hash == digest),
            execution_options={"populate_existing": True},
        )
    ).scalar_one_or_none()
    if row is None or row.trigger_hash is None:
        return None
    return to_record(row), row.trigger_hash


async def set_after(
    session: AsyncSession, task_id: int, after: int | None, *, always: bool, now: datetime
) -> None:
    await session.execute(
        update(TaskRow)
        .where(TaskRow.id == task_id)
        .values(after_task_id=after, after_always=always and after is not None, updated_at=now)
    )


async def set_quiet(session: AsyncSession, task_id: int, changed: bool, *, now: datetime) -> None:
    await session.execute(
        update(TaskRow).where(TaskRow.id == task_id).values(quiet_changed=changed, updated_at=now)
    )


async def upstream_of(session: AsyncSession, task_id: int) -> int | None:
    """The task this one runs after, if any."""
    result = await session.execute(select(TaskRow.after_task_id).where(TaskRow.id == task_id))
    return result.scalar_one_or_none()


async def followers_of(session: AsyncSession, task_ids: Sequence[int]) -> list[tuple[int, int]]:
    """(follower, upstream) for every task that runs after one of these."""
    if not task_ids:
        return []
    result = await session.execute(
        select(TaskRow.id, TaskRow.after_task_id).where(TaskRow.after_task_id.in_(list(task_ids)))
    )
    return [(int(follower), int(upstream)) for follower, upstream in result if upstream is not None]


async def followers_to_start(session: AsyncSession, task_id: int, *, delivered: bool) -> list[Task]:
    """The active tasks that run after `task_id` when its run ends: all those that asked for
    every run (`always`), and the others only when the run `delivered` a result."""
    statement = select(TaskRow).where(
        TaskRow.after_task_id == task_id, TaskRow.state == TaskState.ACTIVE
    )
    if not delivered:
        statement = statement.where(TaskRow.after_always.is_(True))
    # Not locked: the unique index on (task, parent run) is what makes a follower start once,
    # and locking followers here would take task rows in another order than /after does.
    result = await session.execute(
        statement.order_by(TaskRow.id), execution_options={"populate_existing": True}
    )
    return [to_record(row) for row in result.scalars()]


async def add_after_run(
    session: AsyncSession,
    follower: Task,
    parent: Run,
    *,
    now: datetime,
    status: RunStatus,
    owner: str | None,
    reason_columns: dict[str, object],
) -> Run | None:
    """Record the follower's run started by `parent`; None when one is already recorded (the
    unique index on (task, parent run) makes this happen once, whoever asks)."""
    table = RunRow.__table__
    statement = (
        insert_for(session, table)
        .values(
            task_id=follower.id,
            scheduled_for=now,
            trigger=RunTrigger.AFTER.value,
            status=status.value,
            finished_at=None if status is RunStatus.RUNNING else now,
            owner=owner,
            parent_run_id=parent.id,
            delivery_pending=False,
            **reason_columns,
        )
        .on_conflict_do_nothing(
            index_elements=[table.c.task_id, table.c.parent_run_id],
            index_where=text(AFTER_RUN),
        )
        .returning(table.c.id)
    )
    run_id = (await session.execute(statement)).scalar_one_or_none()
    if run_id is None:
        return None
    return await runs.get(session, int(run_id))


async def events_since(session: AsyncSession, task_id: int, since: datetime) -> list[datetime]:
    """When the task's trigger URL started runs since `since`, oldest first."""
    result = await session.execute(
        select(RunRow.scheduled_for)
        .where(
            RunRow.task_id == task_id,
            RunRow.trigger == RunTrigger.EVENT,
            RunRow.scheduled_for >= since,
        )
        .order_by(RunRow.scheduled_for)
    )
    return list(result.scalars())
