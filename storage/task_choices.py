"""Repository for what a task chose for its runs: its model, its tools, its monthly cap.
Callers own the transaction."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import TaskRow
from storage.records import Task
from storage.tasks import to_record


async def _set(session: AsyncSession, task_id: int, now: datetime, **values: object) -> Task | None:
    result = await session.execute(
        update(TaskRow)
        .where(TaskRow.id == task_id)
        .values(**values, updated_at=now)
        .returning(TaskRow),
        execution_options={"populate_existing": True},
    )
    row = result.scalar_one_or_none()
    return to_record(row) if row is not None else None


async def set_model(
    session: AsyncSession, task_id: int, model: str | None, *, now: datetime
) -> Task | None:
    """The task runs on `model` (a name of MODELS); None: on the default."""
    return await _set(session, task_id, now, model=model)


async def set_tools(
    session: AsyncSession, task_id: int, tools: Collection[str] | None, *, now: datetime
) -> Task | None:
    """The task may use the toolsets `tools` (sorted); None: every configured one."""
    return await _set(session, task_id, now, tools=sorted(tools) if tools is not None else None)


async def set_cap(
    session: AsyncSession, task_id: int, cap_usd: float | None, *, now: datetime
) -> Task | None:
    """The task may spend `cap_usd` a calendar month; None: no cap of its own."""
    return await _set(session, task_id, now, monthly_cap_usd=cap_usd)
