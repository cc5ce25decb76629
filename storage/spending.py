"""Repository for the spending ledger: every LLM expense of a chat. Callers own the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import RunRow, SpendingRow, TaskRow
from storage.records import Spending

RUN = "run"
PARSE = "parse"
FOLLOW_UP = "follow_up"
TRANSCRIPTION = "transcription"


async def add(session: AsyncSession, spending: Spending) -> None:
    session.add(
        SpendingRow(
            chat_id=spending.chat_id,
            task_id=spending.task_id,
            kind=spending.kind,
            at=spending.at,
            prompt_tokens=spending.prompt_tokens,
            completion_tokens=spending.completion_tokens,
            cost=spending.cost,
        )
    )
    await session.flush()


async def spent(session: AsyncSession, chat_id: int, *, since: datetime, until: datetime) -> float:
    """The chat's known cost in USD in [since, until)."""
    result = await session.execute(
        select(func.coalesce(func.sum(SpendingRow.cost), 0.0)).where(
            SpendingRow.chat_id == chat_id, SpendingRow.at >= since, SpendingRow.at < until
        )
    )
    return float(result.scalar_one() or 0.0)


async def spent_by_task(
    session: AsyncSession, task_id: int, *, since: datetime, until: datetime
) -> float:
    """The task's known cost in USD in [since, until)."""
    result = await session.execute(
        select(func.coalesce(func.sum(SpendingRow.cost), 0.0)).where(
            SpendingRow.task_id == task_id, SpendingRow.at >= since, SpendingRow.at < until
        )
    )
    return float(result.scalar_one() or 0.0)


async def typical_run(
    session: AsyncSession, chat_id: int, *, last: int = 20
) -> tuple[int, int] | None:
    """The average prompt and completion tokens of the chat's last `last` runs; None before
    any."""
    recent = (
        select(SpendingRow.prompt_tokens, SpendingRow.completion_tokens)
        .where(SpendingRow.chat_id == chat_id, SpendingRow.kind == RUN)
        .order_by(SpendingRow.at.desc(), SpendingRow.id.desc())
        .limit(last)
        .subquery()
    )
    row = (
        await session.execute(
            select(
                func.count(), func.avg(recent.c.prompt_tokens), func.avg(recent.c.completion_tokens)
            )
        )
    ).one()
    if not row[0]:
        return None
    return round(float(row[1] or 0)), round(float(row[2] or 0))


async def average_run_cost(session: AsyncSession, task_id: int, *, last: int = 20) -> float | None:
    """The average known cost of the task's last `last` priced runs; None before any."""
    recent = (
        select(SpendingRow.cost)
        .where(
            SpendingRow.task_id == task_id, SpendingRow.kind == RUN, SpendingRow.cost.is_not(None)
        )
        .order_by(SpendingRow.at.desc(), SpendingRow.id.desc())
        .limit(last)
        .subquery()
    )
    row = (await session.execute(select(func.count(), func.avg(recent.c.cost)))).one()
    return float(row[1]) if row[0] else None


@dataclass(frozen=True, slots=True)
class SpendingGroup:
    """The chat's expenses in a period for one task (None: deleted tasks) and kind."""

    task_id: int | None
    task_name: str | None
    kind: str
    count: int
    prompt_tokens: int
    completion_tokens: int
    cost: float  # the known part
    priced: int  # how many of `count` had a known cost


async def grouped(
    session: AsyncSession, chat_id: int, *, since: datetime, until: datetime
) -> list[SpendingGroup]:
    """The chat's expenses in [since, until) per task and kind, tasks in id order."""
    result = await session.execute(
        select(
            SpendingRow.task_id,
            TaskRow.name,
            SpendingRow.kind,
            func.count(),
            func.coalesce(func.sum(SpendingRow.prompt_tokens), 0),
            func.coalesce(func.sum(SpendingRow.completion_tokens), 0),
            func.coalesce(func.sum(SpendingRow.cost), 0.0),
            func.count(SpendingRow.cost),
        )
        .outerjoin(TaskRow, TaskRow.id == SpendingRow.task_id)
        .where(SpendingRow.chat_id == chat_id, SpendingRow.at >= since, SpendingRow.at < until)
        .group_by(SpendingRow.task_id, TaskRow.name, SpendingRow.kind)
        .order_by(SpendingRow.task_id, SpendingRow.kind)
    )
    return [
        SpendingGroup(
            task_id=task_id,
            task_name=name,
            kind=kind,
            count=int(count),
            prompt_tokens=int(prompt),
            completion_tokens=int(completion),
            cost=float(cost or 0.0),
            priced=int(priced),
        )
        for task_id, name, kind, count, prompt, completion, cost, priced in result.all()
    ]


@dataclass(frozen=True, slots=True)
class ModelSpending:
    """The runs of a chat's tasks one model answered in a span, and what they cost."""

    model: str
    runs: int
    prompt_tokens: int
    completion_tokens: int
    cost: float  # the known part
    priced: int  # how many of `runs` had a known cost


async def by_model(
    session: AsyncSession, chat_id: int, *, since: datetime, until: datetime
) -> list[ModelSpending]:
    """The runs of the chat's tasks that finished in [since, until) per model that answered
    (after any fallback), the most used first; runs that asked no model are left out."""
    runs = func.count()
    result = await session.execute(
        select(
            RunRow.model,
            runs,
            func.coalesce(func.sum(RunRow.prompt_tokens), 0),
            func.coalesce(func.sum(RunRow.completion_tokens), 0),
            func.coalesce(func.sum(RunRow.cost), 0.0),
            func.count(RunRow.cost),
        )
        .join(TaskRow, TaskRow.id == RunRow.task_id)
        .where(
            TaskRow.chat_id == chat_id,
            RunRow.model.is_not(None),
            RunRow.finished_at >= since,
            RunRow.finished_at < until,
        )
        .group_by(RunRow.model)
        .order_by(runs.desc(), RunRow.model)
    )
    return [
        ModelSpending(
            model=str(model),
            runs=int(count),
            prompt_tokens=int(prompt or 0),
            completion_tokens=int(completion or 0),
            cost=float(cost or 0.0),
            priced=int(priced),
        )
        for model, count, prompt, completion, cost, priced in result.all()
    ]
