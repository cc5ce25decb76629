"""Repository for target_notices: the refusal of a target a task's own chat was told about.

A refusal is told once: the first process to record it for a task and target tells, every
later refusal finds it recorded (across restarts and replicas). A copy that gets through
clears it, so that the next refusal is told again. Callers own the transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialects import insert_for
from storage.models import TargetNoticeRow


async def claim(
    session: AsyncSession, task_id: int, target: str, *, reason_code: str, now: datetime
) -> bool:
    """Record that the task's chat is told about `target` refusing; False when it already was
    (since the target last worked)."""
    table = TargetNoticeRow.__table__
    result = await session.execute(
        insert_for(session, table)
        .values(task_id=task_id, target=target, reason_code=reason_code, told_at=now)
        .on_conflict_do_nothing(index_elements=[table.c.task_id, table.c.target])
        .returning(table.c.task_id)
    )
    return result.first() is not None


async def clear(session: AsyncSession, task_id: int, target: str) -> None:
    """The target works (again), or telling failed: its next refusal is told."""
    await session.execute(
        delete(TargetNoticeRow).where(
            TargetNoticeRow.task_id == task_id, TargetNoticeRow.target == target
        )
    )
