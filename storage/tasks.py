"""Repository for tasks. Callers own the transaction."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, true, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage import spending
from storage.dialects import id_in, is_postgres
from storage.models import RunRow, SpendingRow, TaskRow
from storage.records import (
    HERE,
    NewTask,
    RunStatus,
    Spending,
    Target,
    TargetKind,
    Task,
    TaskKind,
    TaskMode,
    TaskState,
)


def to_record(row: TaskRow) -> Task:
    return Task(
        id=row.id,
        chat_id=row.chat_id,
        created_by=row.created_by,
        name=row.name,
        prompt=row.prompt,
        kind=TaskKind(row.kind),
        cron=row.cron,
        run_at=row.run_at,
        every_seconds=row.every_seconds,
        timezone=row.timezone,
        state=TaskState(row.state),
        next_run_at=row.next_run_at,
        last_run_at=row.last_run_at,
        consecutive_failures=row.consecutive_failures,
        created_at=row.created_at,
        updated_at=row.updated_at,
        model=row.model,
        tools=tuple(str(key) for key in row.tools) if isinstance(row.tools, list) else None,
        monthly_cap_usd=row.monthly_cap_usd,
        mode=TaskMode(row.mode),
        thread_id=row.thread_id,
        targets=targets_from(row.targets),
        has_trigger=row.trigger_hash is not None,
        after_task_id=row.after_task_id,
        after_always=row.after_always,
        quiet_changed=row.quiet_changed,
    )


def targets_document(targets: Sequence[Target]) -> list[dict[str, Any]] | None:
    """Targets as stored; none (its own chat) as NULL."""
    if not targets or tuple(targets) == (HERE,):
        return None
    return [
        {
            key: value
            for key, value in (
                ("kind", target.kind.value),
                ("chat_id", target.chat_id),
                ("thread_id", target.thread_id),
                ("name", target.name),
                ("set_by", target.set_by),
            )
            if value is not None
        }
        for target in targets
    ]


def targets_from(stored: Any) -> tuple[Target, ...]:
    """The stored targets; an entry that cannot be read is kept out (never guessed at)."""
    if not isinstance(stored, list):
        return ()
    found = []
    for item in stored:
        if not isinstance(item, dict) or item.get("kind") not in TargetKind.__members__.values():
            continue
        chat_id, thread_id, name = item.get("chat_id"), item.get("thread_id"), item.get("name")
        set_by = item.get("set_by")
        found.append(
            Target(
                TargetKind(item["kind"]),
                chat_id=chat_id if isinstance(chat_id, int) else None,
                thread_id=thread_id if isinstance(thread_id, int) else None,
                name=name if isinstance(name, str) else None,
                set_by=set_by if isinstance(set_by, int) else None,
            )
        )
    return tuple(found)


async def set_targets(
    session: AsyncSession,
    task_id: int,
    targets: Sequence[Target],
    *,
    thread_id: int | None,
    now: datetime,
) -> Task | None:
    """Where the task's results go from now on, and the topic of its own chat it posts in."""
    row = await session.get(TaskRow, task_id, with_for_update=True, populate_existing=True)
    if row is None:
        return None
    row.targets = targets_document(targets)
    row.thread_id = thread_id
    row.updated_at = now
    await session.flush()
    return to_record(row)


async def add(session: AsyncSession, new: NewTask, *, now: datetime) -> Task:
    row = TaskRow(
        chat_id=new.chat_id,
        created_by=new.created_by,
        name=new.name,
        prompt=new.prompt,
        kind=new.kind,
        cron=new.cron,
        run_at=new.run_at,
        every_seconds=new.every_seconds,
        timezone=new.timezone,
        mode=new.mode,
        state=TaskState.ACTIVE,
        next_run_at=new.next_run_at,
        last_run_at=None,
        consecutive_failures=0,
        created_at=now,
        updated_at=now,
        model=new.model,
        tools=list(new.tools) if new.tools is not None else None,
        monthly_cap_usd=new.monthly_cap_usd,
        thread_id=new.thread_id,
        targets=targets_document(new.targets),
    )
    session.add(row)
    await session.flush()
    return to_record(row)


async def get(session: AsyncSession, task_id: int, *, for_update: bool = False) -> Task | None:
    statement = select(TaskRow).where(TaskRow.id == task_id)
    if for_update:
        statement = statement.with_for_update()
    row = (
        await session.execute(statement, execution_options={"populate_existing": True})
    ).scalar_one_or_none()
    return to_record(row) if row is not None else None


async def by_ids(session: AsyncSession, task_ids: Sequence[int]) -> dict[int, Task]:
    """The tasks of these ids that still exist, in one query."""
    if not task_ids:
        return {}
    result = await session.execute(
        select(TaskRow).where(id_in(session, TaskRow.id, sorted(set(task_ids)))),
        execution_options={"populate_existing": True},
    )
    return {row.id: to_record(row) for row in result.scalars()}


async def list_all(session: AsyncSession, *, chat_id: int | None = None) -> list[Task]:
    """Every task (of one chat, if given), by id: the operator's view."""
    statement = select(TaskRow).order_by(TaskRow.id)
    if chat_id is not None:
        statement = statement.where(TaskRow.chat_id == chat_id)
    result = await session.execute(statement)
    return [to_record(row) for row in result.scalars()]


async def list_for_chat(
    session: AsyncSession, chat_id: int, *, offset: int = 0, limit: int = 10
) -> list[Task]:
    result = await session.execute(
        select(TaskRow)
        .where(TaskRow.chat_id == chat_id)
        .order_by(TaskRow.id)
        .offset(offset)
        .limit(limit)
    )
    return [to_record(row) for row in result.scalars()]


async def count_for_chat(
    session: AsyncSession, chat_id: int, *, states: Sequence[TaskState] | None = None
) -> int:
    statement = select(func.count()).select_from(TaskRow).where(TaskRow.chat_id == chat_id)
    if states is not None:
        statement = statement.where(TaskRow.state.in_(list(states)))
    return int((await session.execute(statement)).scalar_one())


async def update_definition(
    session: AsyncSession,
    task_id: int,
    *,
    name: str,
    prompt: str,
    kind: TaskKind,
    cron: str | None,
    run_at: datetime | None,
    every_seconds: int | None,
    timezone: str,
    next_run_at: datetime | None,
    now: datetime,
    mode: TaskMode | None = None,
) -> Task | None:
    """Replace what the task does and when (and, given, its mode); it becomes active with a
    fresh failure count."""
    changes: dict[str, object] = {} if mode is None else {"mode": mode}
    result = await session.execute(
        update(TaskRow)
        .where(TaskRow.id == task_id)
        .values(
            name=name,
            prompt=prompt,
            kind=kind,
            cron=cron,
            run_at=run_at,
            every_seconds=every_seconds,
            timezone=timezone,
            state=TaskState.ACTIVE if next_run_at is not None else TaskState.FINISHED,
            next_run_at=next_run_at,
            consecutive_failures=0,
            updated_at=now,
            **changes,
        )
        .returning(TaskRow),
        execution_options={"populate_existing": True},
    )
    row = result.scalar_one_or_none()
    return to_record(row) if row is not None else None


async def set_mode(
    session: AsyncSession, task_id: int, mode: TaskMode, *, now: datetime
) -> Task | None:
    """Whether the task's runs ask the model or post a reminder."""
    result = await session.execute(
        update(TaskRow)
        .where(TaskRow.id == task_id)
        .values(mode=mode, updated_at=now)
        .returning(TaskRow),
        execution_options={"populate_existing": True},
    )
    row = result.scalar_one_or_none()
    return to_record(row) if row is not None else None


async def reschedule_once(
    session: AsyncSession, task_id: int, *, run_at: datetime, now: datetime
) -> Task | None:
    """A one-shot task (a snoozed reminder) runs again, once, at `run_at`."""
    result = await session.execute(
        update(TaskRow)
        .where(TaskRow.id == task_id)
        .values(
            kind=TaskKind.ONCE,
            cron=None,
            every_seconds=None,
            run_at=run_at,
            state=TaskState.ACTIVE,
            next_run_at=run_at,
            updated_at=now,
        )
        .returning(TaskRow),
        execution_options={"populate_existing": True},
    )
    row = result.scalar_one_or_none()
    return to_record(row) if row is not None else None


async def set_state(
    session: AsyncSession,
    task_id: int,
    state: TaskState,
    *,
    next_run_at: datetime | None,
    now: datetime,
    reset_failures: bool = False,
) -> Task | None:
    values: dict[str, object] = {"state": state, "next_run_at": next_run_at, "updated_at": now}
    if reset_failures:
        values["consecutive_failures"] = 0
    result = await session.execute(
        update(TaskRow).where(TaskRow.id == task_id).values(**values).returning(TaskRow),
        execution_options={"populate_existing": True},
    )
    row = result.scalar_one_or_none()
    return to_record(row) if row is not None else None


async def pause_all_in_chat(session: AsyncSession, chat_id: int, *, now: datetime) -> list[int]:
    """Pause every active task of a chat (it blocked the bot); return their ids."""
    result = await session.execute(
        update(TaskRow)
        .where(TaskRow.chat_id == chat_id, TaskRow.state == TaskState.ACTIVE)
        .values(state=TaskState.PAUSED, next_run_at=None, updated_at=now)
        .returning(TaskRow.id)
    )
    return sorted(result.scalars())


async def record_outcome(
    session: AsyncSession, task_id: int, *, failed: bool, finished_at: datetime, counts: bool = True
) -> int | None:
    """Count a finished run against the task; return the consecutive failure count.

    Only runs that `count` (scheduled ones) change the count: a run someone asked for says
    nothing about whether the schedule keeps failing."""
    result = await session.execute(
        update(TaskRow)
        .where(TaskRow.id == task_id)
        .values(
            consecutive_failures=_failures(failed=failed, counts=counts), last_run_at=finished_at
        )
        .returning(TaskRow.consecutive_failures)
    )
    return result.scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class Counted:
    """A finished run counted against its task (`count_run`)."""

    failures: int
    # Active tasks run after it (/after): the run may have followers to start. False only
    # where known (PostgreSQL); SQLite does not say, and its followers are always looked up.
    followed: bool


async def count_run(
    session: AsyncSession,
    task_id: int,
    *,
    failed: bool,
    finished_at: datetime,
    counts: bool,
    spent: Spending | None = None,
) -> Counted | None:
    """`record_outcome`, and in the same statement whether any active task runs after this
    one (most have none, and need not be asked for their followers) and, on PostgreSQL, the
    run's expense recorded (`spent`, in a CTE): one round trip where three took three."""
    postgres = is_postgres(session)
    if spent is not None and not postgres:
        await spending.add(session, spent)
        spent = None
    statement = _count_run_statement(
        failed=failed, counts=counts, spends=spent is not None, asks=postgres
    )
    parameters: dict[str, Any] = {"task_id": task_id, "finished_at": finished_at}
    if spent is not None:
        parameters.update({f"spent_{name}": value for name, value in asdict(spent).items()})
    result = await session.execute(statement, parameters)
    row = result.one_or_none()
    if row is None:
        return None
    return Counted(row[0], bool(row[1]) if postgres else True)


@functools.cache
def _count_run_statement(*, failed: bool, counts: bool, spends: bool, asks: bool) -> Any:
    """`count_run`'s statement, built once for each kind of outcome (built for every run, the
    aliased subquery took more CPU than the round trip). `asks`: whether tasks follow it, in
    RETURNING; SQLite's answer there is always no (correlated subqueries in RETURNING do not
    see the row), and SQLite has no round trips to save, so there it is not asked."""
    follower = aliased(TaskRow)
    followed = (
        select(follower.id)
        .where(follower.after_task_id == TaskRow.id, follower.state == TaskState.ACTIVE)
        .correlate(TaskRow)
        .exists()
    )
    statement = (
        update(TaskRow)
        .where(TaskRow.id == bindparam("task_id"))
        .values(
            consecutive_failures=_failures(failed=failed, counts=counts),
            last_run_at=bindparam("finished_at"),
        )
        .returning(TaskRow.consecutive_failures, followed if asks else true())
        # No session synchronization, as storage.runs' per-run UPDATEs (_UNSYNCHRONIZED there);
        # a task read after it in the run's close is read with populate_existing (set_state).
        .execution_options(synchronize_session=False)
    )
    if spends:
        names = [field.name for field in fields(Spending)]
        expense = insert(SpendingRow).values({name: bindparam(f"spent_{name}") for name in names})
        statement = statement.add_cte(expense.cte("spent"))
    return statement


def _failures(*, failed: bool, counts: bool) -> Any:
    if counts:
        return TaskRow.consecutive_failures + 1 if failed else 0
    return TaskRow.consecutive_failures


async def delete(session: AsyncSession, task_id: int) -> bool:
    result = await session.execute(sql_delete(TaskRow).where(TaskRow.id == task_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class DueTask:
    task: Task
    # A run of this task is still going (its new occurrence will be recorded as skipped).
    busy: bool


async def lock_due(session: AsyncSession, *, due_before: datetime, limit: int) -> list[DueTask]:
    """Active tasks whose next run is at or before `due_before`, earliest first.

    On PostgreSQL the rows stay locked until the transaction ends and rows another process
    holds are skipped, so two bot processes share the due work instead of both doing it. SQLite
    serialises writers anyway (every transaction begins IMMEDIATE).
    """
    table = TaskRow.__table__
    running = (
        select(RunRow.id)
        .where(RunRow.task_id == table.c.id, RunRow.status == RunStatus.RUNNING)
        .exists()
    )
    statement = (
        select(table, running.label("busy"))
        .where(table.c.next_run_at <= due_before)
        .order_by(table.c.next_run_at, table.c.id)
        .limit(limit)
    )
    if is_postgres(session):
        statement = statement.with_for_update(skip_locked=True, of=table)
    # Core rows, not entities: this is the hot path when thousands of tasks fall due together.
    result = await session.execute(statement)
    due = []
    for row in result:
        values = dict(row._mapping)
        busy = bool(values.pop("busy"))
        tools = values.get("tools")
        values["tools"] = tuple(str(key) for key in tools) if isinstance(tools, list) else None
        values["targets"] = targets_from(values.get("targets"))
        values["has_trigger"] = values.pop("trigger_hash") is not None
        due.append(DueTask(Task(**values), busy))
    return due


@dataclass(frozen=True, slots=True)
class Advance:
    """Where a claimed task goes next: its following run, or finished when there is none."""

    task_id: int
    next_run_at: datetime | None


async def advance(session: AsyncSession, advances: Sequence[Advance], *, now: datetime) -> None:
    """Move claimed tasks on, one statement per distinct next run: tasks due together mostly
    share their schedule, so a thousand of them usually take one or two statements."""
    by_next: dict[datetime | None, list[int]] = {}
    for item in advances:
        by_next.setdefault(item.next_run_at, []).append(item.task_id)
    for next_run_at, task_ids in by_next.items():
        await session.execute(
            update(TaskRow)
            .where(id_in(session, TaskRow.id, task_ids))
            .values(
                next_run_at=next_run_at,
                state=TaskState.ACTIVE if next_run_at is not None else TaskState.FINISHED,
                updated_at=now,
            )
        )


async def due_instants(
    session: AsyncSession, *, until: datetime, limit: int = 10_000
) -> list[datetime]:
    """The distinct next-run instants up to `until`, earliest first."""
    result = await session.execute(
        select(TaskRow.next_run_at)
        .where(TaskRow.next_run_at <= until)
        .group_by(TaskRow.next_run_at)
        .order_by(TaskRow.next_run_at)
        .limit(limit)
    )
    return [instant for instant in result.scalars() if instant is not None]
