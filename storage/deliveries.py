"""Repository for deliveries: each target's copy of a run's result beside the run's own chat.
A copy is owed (pending, retrying) until it is sent or fails for good; the run keeps
`delivery_pending` while any copy, its own chat's included, is owed, so the run's owner (and,
once that owner is gone, whoever adopts the run) sends each target only what it still owes.
Callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import BindParameter, Exists, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.reasons import Other, Reason
from storage import reasons
from storage.dialects import insert_for
from storage.models import DeliveryRow, RunRow
from storage.records import DeliveryState, Target, TargetDelivery

OWED = (DeliveryState.PENDING, DeliveryState.RETRYING)


def to_record(row: DeliveryRow) -> TargetDelivery:
    return TargetDelivery(
        run_id=row.run_id,
        target=row.target,
        kind=row.kind,
        label=row.label,
        state=DeliveryState(row.state),
        message_id=row.message_id,
        error=row.error,
        attempts=row.attempts,
        updated_at=row.updated_at,
        reason=_reason(row),
    )


def _reason(row: DeliveryRow) -> Reason | None:
    """The copy's reason; a copy recorded before codes has only its English."""
    found = reasons.read(row.reason_code, row.reason_facts)
    if found is None and row.error:
        return Other(text=row.error)
    return found


async def owe(
    session: AsyncSession, run_id: int, targets: Sequence[Target], *, now: datetime
) -> None:
    """The run owes each of these targets a copy (one already recorded is left as it is)."""
    if not targets:
        return
    table = DeliveryRow.__table__
    statement = (
        insert_for(session, table)
        .values(
            [
                {
                    "run_id": run_id,
                    "target": target.key,
                    "kind": target.kind,
                    "label": target.label[:200],
                    "state": DeliveryState.PENDING,
                    "attempts": 0,
                    "updated_at": now,
                }
                for target in targets
            ]
        )
        .on_conflict_do_nothing(index_elements=[table.c.run_id, table.c.target])
    )
    await session.execute(statement)


async def owed(session: AsyncSession, run_id: int) -> list[TargetDelivery]:
    """The copies the run still owes, in the order the targets were recorded."""
    result = await session.execute(
        select(DeliveryRow)
        .where(DeliveryRow.run_id == run_id, DeliveryRow.state.in_(OWED))
        .order_by(DeliveryRow.target)
    )
    return [to_record(row) for row in result.scalars()]


async def record(
    session: AsyncSession,
    run_id: int,
    target: str,
    *,
    state: DeliveryState,
    now: datetime,
    message_id: str | None = None,
    reason: Reason | None = None,
) -> None:
    """One attempt's outcome for one target: sent (its message id), failed for good, or
    retrying (why the last attempt failed: `reason`, its English kept in `error` too). A copy
    already sent stays sent."""
    await session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.run_id == run_id,
            DeliveryRow.target == target,
            DeliveryRow.state != DeliveryState.SENT,
        )
        .values(
            state=state,
            message_id=message_id,
            error=reason.message() if reason is not None else None,
            **reasons.columns(reason),
            attempts=DeliveryRow.attempts + 1,
            updated_at=now,
        )
    )


def any_owed(run_id: int | BindParameter[int]) -> Exists:
    """Whether the run still owes a target a copy."""
    return exists().where(DeliveryRow.run_id == run_id, DeliveryRow.state.in_(OWED))


async def settle(session: AsyncSession, run_id: int) -> None:
    """The run's own chat is settled: the run stays owed only while a target is."""
    await session.execute(
        update(RunRow)
        .where(RunRow.id == run_id)
        .values(delivery_pending=select(any_owed(run_id)).scalar_subquery())
    )


async def for_runs(
    session: AsyncSession, run_ids: Sequence[int]
) -> dict[int, list[TargetDelivery]]:
    """Each run's copies elsewhere, by run id."""
    if not run_ids:
        return {}
    result = await session.execute(
        select(DeliveryRow)
        .where(DeliveryRow.run_id.in_(list(run_ids)))
        .order_by(DeliveryRow.run_id, DeliveryRow.target)
    )
    found: dict[int, list[TargetDelivery]] = {}
    for row in result.scalars():
        found.setdefault(row.run_id, []).append(to_record(row))
    return found
