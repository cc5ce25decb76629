"""Repository for workers: the bot processes alive now, each with a heartbeat.

A process registers at start, beats every few seconds and retires at a clean stop. Its runs are
its own while its heartbeat is fresh; once it lapses (a crash, a lost machine) any other process
may interrupt its runs and send the results it still owed. Callers own the transaction.

Each row also holds what the worker has to send and the share of the bot's Telegram rate it
sends at (scheduler.engine.sending_share). A worker changes its share only while it holds the
shares' lock (`lock_shares`), so each sees the shares the others send at, never a stale one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialects import insert_for, is_postgres
from storage.models import WorkerRow

# The key of the PostgreSQL advisory lock the workers change their shares under.
_SHARES_LOCK = 0x63726F6E_73686172  # "cronshar"


@dataclass(frozen=True, slots=True)
class Replica:
    """A live worker as of its last beat: what it had to send, and its share of the rate."""

    demand: int
    share: float


async def beat(
    session: AsyncSession, worker_id: str, *, now: datetime, demand: int = 0, share: float = 0.0
) -> None:
    """Register the worker, or renew its heartbeat (re-registering it if it was retired), with
    what it has to send now and the share of the rate it sends at until its next beat."""
    statement = insert_for(session, WorkerRow).values(
        id=worker_id, started_at=now, heartbeat_at=now, demand=demand, share=share
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[WorkerRow.id],
            set_={"heartbeat_at": now, "demand": demand, "share": share},
        )
    )


async def lock_shares(session: AsyncSession) -> bool:
    """Take the lock under which a worker changes its share, until the transaction ends; False
    if another worker holds it now (it does not wait: a worker that stalled inside its beat must
    not hold the others' heartbeats up). SQLite has one process: always True."""
    if not is_postgres(session):
        return True
    return bool(await session.scalar(select(func.pg_try_advisory_xact_lock(_SHARES_LOCK))))


async def replicas(session: AsyncSession, *, alive_since: datetime) -> dict[str, Replica]:
    """Each live worker (heartbeat since `alive_since`) as of its last beat."""
    result = await session.execute(
        select(WorkerRow.id, WorkerRow.demand, WorkerRow.share).where(
            WorkerRow.heartbeat_at >= alive_since
        )
    )
    return {
        worker_id: Replica(demand=int(demand), share=float(share))
        for worker_id, demand, share in result.all()
    }


async def retire(session: AsyncSession, worker_id: str) -> None:
    """The worker stopped cleanly: what it still owns may be taken over at once."""
    await session.execute(delete(WorkerRow).where(WorkerRow.id == worker_id))


async def forget_dead(session: AsyncSession, *, before: datetime) -> int:
    """Drop workers silent since long before `before` (their runs were taken over long ago)."""
    result = await session.execute(delete(WorkerRow).where(WorkerRow.heartbeat_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
