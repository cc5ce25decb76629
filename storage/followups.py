"""Repository for follow-ups: questions about a task's results and their answers.

Callers own the transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.reasons import Reason
from storage import message_parts, reasons
from storage.models import FollowupRow, WorkerRow
from storage.records import Followup, RunStatus


def to_record(row: FollowupRow) -> Followup:
    return Followup(
        id=row.id,
        task_id=row.task_id,
        run_id=row.run_id,
        parent_id=row.parent_id,
        chat_id=row.chat_id,
        user_id=row.user_id,
        question=row.question,
        status=RunStatus(row.status),
        answer=row.answer,
        reason=reasons.read(row.reason_code, row.reason_facts),
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        cost=row.cost,
        message_id=row.message_id,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


async def add(
    session: AsyncSession,
    *,
    task_id: int,
    run_id: int | None,
    parent_id: int | None,
    chat_id: int,
    user_id: int,
    question: str,
    now: datetime,
    owner: str | None = None,
) -> Followup:
    row = FollowupRow(
        owner=owner,
        task_id=task_id,
        run_id=run_id,
        parent_id=parent_id,
        chat_id=chat_id,
        user_id=user_id,
        question=question,
        status=RunStatus.RUNNING,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return to_record(row)


async def finish(
    session: AsyncSession,
    followup_id: int,
    *,
    status: RunStatus,
    finished_at: datetime,
    answer: str | None,
    reason: Reason | None,
    prompt_tokens: int | None,
    completion_tokens: int | None,
    cost: float | None,
) -> Followup | None:
    """Close a follow-up still running; None when it is gone (its task was deleted meanwhile)."""
    result = await session.execute(
        update(FollowupRow)
        .where(FollowupRow.id == followup_id, FollowupRow.status == RunStatus.RUNNING)
        .values(
            status=status,
            finished_at=finished_at,
            answer=answer,
            **reasons.columns(reason),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost=cost,
        )
        .returning(FollowupRow),
        execution_options={"populate_existing": True},
    )
    row = result.scalar_one_or_none()
    return to_record(row) if row is not None else None


async def set_message_id(
    session: AsyncSession, followup_id: int, message_id: int
) -> Followup | None:
    """The answer was posted as `message_id`; None when the follow-up is gone."""
    result = await session.execute(
        update(FollowupRow)
        .where(FollowupRow.id == followup_id)
        .values(message_id=message_id)
        .returning(FollowupRow),
        execution_options={"populate_existing": True},
    )
    row = result.scalar_one_or_none()
    return to_record(row) if row is not None else None


async def find_delivered(session: AsyncSession, chat_id: int, message_id: int) -> Followup | None:
    """The follow-up whose answer was posted as `message_id` in `chat_id` (as its first
    message or a later part)."""
    part = await message_parts.find(session, chat_id, message_id)
    if part is not None:
        if part.followup_id is None:
            return None
        row = await session.get(FollowupRow, part.followup_id, populate_existing=True)
        return to_record(row) if row is not None else None
    result = await session.execute(
        select(FollowupRow)
        .where(FollowupRow.chat_id == chat_id, FollowupRow.message_id == message_id)
        .order_by(FollowupRow.id.desc())
        .limit(1)
    )
    row = result.scalar_one_or_none()
    return to_record(row) if row is not None else None


async def thread(session: AsyncSession, followup_id: int, *, limit: int) -> list[Followup]:
    """The follow-up and the ones it answered, up to `limit` of them, oldest first."""
    found: list[Followup] = []
    current: int | None = followup_id
    while current is not None and len(found) < limit:
        row = await session.get(FollowupRow, current, populate_existing=True)
        if row is None:
            break
        found.append(to_record(row))
        current = row.parent_id
    return list(reversed(found))


async def interrupt_orphans(
    session: AsyncSession, *, me: str, alive_since: datetime, now: datetime, reason: Reason
) -> list[Followup]:
    """Mark interrupted the follow-ups still `running` whose owner is gone (as runs are)."""
    alive = select(WorkerRow.id).where(WorkerRow.heartbeat_at >= alive_since)
    result = await session.execute(
        update(FollowupRow)
        .where(
            FollowupRow.status == RunStatus.RUNNING,
            or_(FollowupRow.owner.is_(None), FollowupRow.owner != me),
            or_(FollowupRow.owner.is_(None), ~FollowupRow.owner.in_(alive.scalar_subquery())),
        )
        .values(status=RunStatus.INTERRUPTED, finished_at=now, **reasons.columns(reason))
        .returning(FollowupRow),
        execution_options={"populate_existing": True},
    )
    return [to_record(row) for row in result.scalars()]


async def list_for_task(session: AsyncSession, task_id: int, *, limit: int = 10) -> list[Followup]:
    """The newest follow-ups about a task, newest first."""
    result = await session.execute(
        select(FollowupRow)
        .where(FollowupRow.task_id == task_id)
        .order_by(FollowupRow.created_at.desc(), FollowupRow.id.desc())
        .limit(limit)
    )
    return [to_record(row) for row in result.scalars()]
