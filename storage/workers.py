"""Repository for workers: the bot processes alive now, each with a heartbeat.

A process registers at start, beats every few seconds and retires at a clean stop. Its runs are
its own while its heartbeat is fresh; once it lapses (a crash, a lost machine) any other process
may interrupt its runs and send the results it still owed. Callers own the transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialects import insert_for
from storage.models import WorkerRow


async def beat(session: AsyncSession, worker_id: str, *, now: datetime, demand: int = 0) -> None:
    """Register the worker, or renew its heartbeat (re-registering it if it was retired), with
    what it has to send now."""
    statement = insert_for(session, WorkerRow).values(
        id=worker_id, started_at=now, heartbeat_at=now, demand=demand
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[WorkerRow.id], set_={"heartbeat_at": now, "demand": demand}
        )
    )


async def demands(session: AsyncSession, *, alive_since: datetime) -> dict[str, int]:
    """What each live worker (heartbeat since `alive_since`) has to send."""
    result = await session.execute(
        select(WorkerRow.id, WorkerRow.demand).where(WorkerRow.heartbeat_at >= alive_since)
    )
    return {worker_id: int(demand) for worker_id, demand in result.all()}


async def retire(session: AsyncSession, worker_id: str) -> None:
    """The worker stopped cleanly: what it still owns may be taken over at once."""
    await session.execute(delete(WorkerRow).where(WorkerRow.id == worker_id))


async def forget_dead(session: AsyncSession, *, before: datetime) -> int:
    """Drop workers silent since long before `before` (their runs were taken over long ago)."""
    result = await session.execute(delete(WorkerRow).where(WorkerRow.heartbeat_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
