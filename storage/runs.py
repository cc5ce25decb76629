"""Repository for runs, the log of every occurrence. Callers own the transaction."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Exists,
    RowMapping,
    Select,
    bindparam,
    func,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from core.reasons import Reason
from storage import chats, deliveries, message_parts, reasons, tasks
from storage.dialects import id_in, insert_for, is_postgres
from storage.models import (
    MODEL_CHARS,
    SCHEDULED_OCCURRENCE,
    AttachmentRow,
    ChatRow,
    RunRow,
    TaskRow,
    WorkerRow,
)
from storage.records import Chat, Run, RunStatus, RunTrigger, Task


def to_record(row: RunRow) -> Run:
    return Run(
        id=row.id,
        task_id=row.task_id,
        scheduled_for=row.scheduled_for,
        trigger=RunTrigger(row.trigger),
        status=RunStatus(row.status),
        started_at=row.started_at,
        finished_at=row.finished_at,
        output=row.output,
        reason=reasons.read(row.reason_code, row.reason_facts),
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        cost=row.cost,
        delivered_message_id=row.delivered_message_id,
        delivery_error=row.delivery_error,
        owner=row.owner,
        delivery_pending=row.delivery_pending,
        tool_calls=tool_calls_from(row.tool_calls),
        model=row.model,
        attempt=row.attempt,
        retry_of=row.retry_of,
        retry_at=row.retry_at,
        restarts=row.restarts or 0,
        payload=row.payload,
        parent_run_id=row.parent_run_id,
    )


def tool_calls_from(stored: Any) -> tuple[tuple[str, int], ...]:
    """The stored [[name, count], …] as a tuple; anything malformed is left out."""
    if not isinstance(stored, list):
        return ()
    return tuple(
        (str(item[0]), int(item[1]))
        for item in stored
        if isinstance(item, list) and len(item) == 2 and isinstance(item[1], int)
    )


def _from_mapping(mapping: RowMapping) -> Run:
    values = dict(mapping)
    values["reason"] = reasons.read(values.pop("reason_code"), values.pop("reason_facts"))
    values["tool_calls"] = tool_calls_from(values.get("tool_calls"))
    values["trigger"] = RunTrigger(values["trigger"])
    values["status"] = RunStatus(values["status"])
    return Run(**values)


async def add(
    session: AsyncSession,
    *,
    task_id: int,
    scheduled_for: datetime,
    trigger: RunTrigger,
    status: RunStatus,
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
    reason: Reason | None = None,
    owner: str | None = None,
    payload: str | None = None,
) -> Run:
    row = RunRow(
        task_id=task_id,
        scheduled_for=scheduled_for,
        trigger=trigger,
        status=status,
        started_at=started_at,
        finished_at=finished_at,
        **reasons.columns(reason),
        owner=owner,
        delivery_pending=False,
        payload=payload,
    )
    session.add(row)
    await session.flush()
    return to_record(row)


async def get(session: AsyncSession, run_id: int) -> Run | None:
    row = await session.get(RunRow, run_id, populate_existing=True)
    return to_record(row) if row is not None else None


async def finish(
    session: AsyncSession,
    run_id: int,
    *,
    status: RunStatus,
    finished_at: datetime,
    output: str | None = None,
    reason: Reason | None = None,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
    cost: float | None = None,
    owner: str | None = None,
    delivery_pending: bool = False,
    delivered_message_id: int | None = None,
    tool_calls: Sequence[tuple[str, int]] = (),
    model: str | None = None,
    retry_at: datetime | None = None,
) -> Run | None:
    """Close a run (`retry_at`: when it tries again, for a failure that heals). A run that
    is no longer `running` is left as it is and None is returned, unless `owner` owns it:
    then the answer it has is recorded even over an `interrupted` that another process wrote
    while it could not see this one's heartbeat (a database outage), and writing the same
    outcome twice (a retried commit) is harmless. A run another process took over (and is
    running again) is no longer `owner`'s to close. `model` is kept to MODEL_CHARS."""
    values = {
        "status": status,
        "finished_at": finished_at,
        "output": output,
        **reasons.columns(reason),
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "cost": cost,
        "delivery_pending": delivery_pending,
        "delivered_message_id": delivered_message_id,
        "tool_calls": [[name, count] for name, count in tool_calls] or None,
        "model": model[:MODEL_CHARS] if model is not None else None,
        "retry_at": retry_at,
    }
    result = await session.execute(
        _finish_statement(by_owner=owner is not None),
        {"run_id": run_id, "closer": owner, **{f"new_{k}": v for k, v in values.items()}},
        execution_options={"populate_existing": True},
    )
    row = result.scalar_one_or_none()
    return to_record(row) if row is not None else None


_FINISHED_COLUMNS = (
    "status",
    "finished_at",
    "output",
    "reason_code",
    "reason_facts",
    "prompt_tokens",
    "completion_tokens",
    "cost",
    "delivery_pending",
    "delivered_message_id",
    "tool_calls",
    "model",
    "retry_at",
)


# The UPDATEs sent for every run skip the ORM's session synchronization: by default the ORM
# evaluates each UPDATE's WHERE and values against the objects its session holds (in Python,
# for every statement, even with none held), which the 09:00 burst's profile put at a tenth of
# the process's CPU. Their sessions are short and read nothing through the ORM after them that
# they change without a refresh (`finish` returns its row with populate_existing).
_UNSYNCHRONIZED = {"synchronize_session": False}


@functools.cache
def _finish_statement(*, by_owner: bool) -> Any:
    """`finish`'s statement, built once (built for every run, its thirteen values took about
    as much CPU as sending it)."""
    closable = (
        RunRow.owner == bindparam("closer") if by_owner else RunRow.status == RunStatus.RUNNING
    )
    return (
        update(RunRow)
        .where(RunRow.id == bindparam("run_id"), closable)
        .values({name: bindparam(f"new_{name}") for name in _FINISHED_COLUMNS})
        .returning(RunRow)
        .execution_options(**_UNSYNCHRONIZED)
    )


async def set_delivery(
    session: AsyncSession, run_id: int, *, message_id: int | None, error: str | None
) -> None:
    """The run's message was delivered (`message_id`) or never can be (`error`) to its own
    chat; the run stays owed while a copy to another target is (storage/deliveries.py)."""
    await session.execute(
        _set_delivery_statement(),
        {"run_id": run_id, "message_id": message_id, "error": error},
    )


@functools.cache
def _set_delivery_statement() -> Any:
    """`set_delivery`'s statement, built once (it is sent for every result)."""
    run_id: BindParameter[int] = bindparam("run_id")
    return (
        update(RunRow)
        .where(RunRow.id == run_id)
        .values(
            delivered_message_id=bindparam("message_id"),
            delivery_error=bindparam("error"),
            delivery_pending=select(deliveries.any_owed(run_id)).scalar_subquery(),
        )
        .execution_options(**_UNSYNCHRONIZED)
    )


async def keep_owed(session: AsyncSession, run_id: int) -> None:
    """The run owes copies to other targets: it stays owed (and leased) until they are sent."""
    await session.execute(update(RunRow).where(RunRow.id == run_id).values(delivery_pending=True))


async def of_task(session: AsyncSession, task_id: int, run_ids: Sequence[int]) -> set[int]:
    """Which of these runs are the task's."""
    if not run_ids:
        return set()
    result = await session.execute(
        select(RunRow.id).where(RunRow.task_id == task_id, RunRow.id.in_(list(run_ids)))
    )
    return set(result.scalars())


async def list_for_task(session: AsyncSession, task_id: int, *, limit: int = 10) -> list[Run]:
    """The newest runs of a task, newest first."""
    result = await session.execute(
        select(RunRow)
        .where(RunRow.task_id == task_id)
        .order_by(RunRow.scheduled_for.desc(), RunRow.id.desc())
        .limit(limit)
    )
    return [to_record(row) for row in result.scalars()]


async def recent_outputs(session: AsyncSession, task_id: int, *, limit: int) -> list[Run]:
    """The task's last answers worth remembering (succeeded, with output), oldest first."""
    result = await session.execute(_worth_remembering(task_id, limit))
    return [to_record(row) for row in reversed(result.scalars().all())]


def _worth_remembering(
    task_id: int | ColumnElement[int] | InstrumentedAttribute[int],
    limit: int | BindParameter[int],
) -> Select[RunRow]:
    """The task's last `limit` answers (succeeded, with output), newest first."""
    return (
        select(RunRow)
        .where(
            RunRow.task_id == task_id,
            RunRow.status == RunStatus.SUCCEEDED,
            RunRow.output.is_not(None),
        )
        .order_by(RunRow.finished_at.desc(), RunRow.id.desc())
        .limit(limit)
    )


async def count_since(
    session: AsyncSession, task_id: int, *, reason: type[Reason], since: datetime, excluding: int
) -> int:
    """How many of the task's runs since `since` ended for this reason (other than one)."""
    result = await session.execute(
        select(func.count())
        .select_from(RunRow)
        .where(
            RunRow.task_id == task_id,
            RunRow.reason_code == reason.code,
            RunRow.finished_at >= since,
            RunRow.id != excluding,
        )
    )
    return int(result.scalar_one())


async def find_delivered(session: AsyncSession, chat_id: int, message_id: int) -> Run | None:
    """The run whose result was posted as `message_id` in `chat_id` (as its first message or a
    later part)."""
    part = await message_parts.find(session, chat_id, message_id)
    if part is not None:
        if part.run_id is None:
            return None
        row = await session.get(RunRow, part.run_id, populate_existing=True)
        return to_record(row) if row is not None else None
    result = await session.execute(
        select(RunRow)
        .join(TaskRow, TaskRow.id == RunRow.task_id)
        .where(TaskRow.chat_id == chat_id, RunRow.delivered_message_id == message_id)
        .order_by(RunRow.id.desc())
        .limit(1)
    )
    row = result.scalar_one_or_none()
    return to_record(row) if row is not None else None


def _ownerless(me: str, alive_since: datetime) -> ColumnElement[bool]:
    """Rows whose owner is not this process and is gone: no owner at all, an owner that
    retired, or one whose heartbeat is older than `alive_since`."""
    alive = select(WorkerRow.id).where(WorkerRow.heartbeat_at >= alive_since)
    return or_(RunRow.owner.is_(None), ~RunRow.owner.in_(alive.scalar_subquery()))


def _orphans(
    me: str, alive_since: datetime, mine: Sequence[int] | None
) -> list[ColumnElement[bool]]:
    """Whose runs to take: those whose owner is gone or, with `mine`, these runs of this
    process's own that none of its tasks carries any longer (scheduler/engine.py `take_back`)."""
    if mine is not None:
        return [RunRow.owner == me, RunRow.id.in_(list(mine))]
    return [or_(RunRow.owner.is_(None), RunRow.owner != me), _ownerless(me, alive_since)]


async def owned_open(session: AsyncSession, *, me: str) -> list[tuple[int, int | None]]:
    """This process's runs still `running` or owing their result, as (id, parent run id)."""
    result = await session.execute(
        select(RunRow.id, RunRow.parent_run_id).where(
            RunRow.owner == me,
            or_(RunRow.status == RunStatus.RUNNING, RunRow.delivery_pending.is_(True)),
        )
    )
    return [(run_id, parent) for run_id, parent in result.all()]


async def interrupt_orphans(
    session: AsyncSession,
    *,
    me: str,
    alive_since: datetime,
    now: datetime,
    reason: Reason,
    unless_scheduled_since: datetime | None = None,
    max_restarts: int | None = None,
    mine: Sequence[int] | None = None,
) -> list[Run]:
    """Mark interrupted the runs still `running` whose owner is gone; never this process's
    (but those of `mine`, see `_orphans`). With `unless_scheduled_since` and `max_restarts`,
    only those `adopt_running` would not take (older occurrences, runs started again too
    often): the rest wait for it."""
    beyond_rescue: list[ColumnElement[bool]] = []
    if unless_scheduled_since is not None and max_restarts is not None:
        beyond_rescue.append(
            or_(
                RunRow.scheduled_for < unless_scheduled_since,
                RunRow.restarts >= max_restarts,
            )
        )
    result = await session.execute(
        update(RunRow)
        .where(
            RunRow.status == RunStatus.RUNNING,
            *_orphans(me, alive_since, mine),
            *beyond_rescue,
        )
        .values(status=RunStatus.INTERRUPTED, finished_at=now, **reasons.columns(reason))
        .returning(RunRow),
        execution_options={"populate_existing": True},
    )
    return [to_record(row) for row in result.scalars()]


async def adopt_running(
    session: AsyncSession,
    *,
    me: str,
    alive_since: datetime,
    scheduled_since: datetime,
    max_restarts: int,
    limit: int = 500,
    mine: Sequence[int] | None = None,
) -> list[Run]:
    """Take over runs still `running` whose owner is gone (or those of `mine`, see
    `_orphans`), to run them again: only those of occurrences since `scheduled_since` (older
    ones are past catching up) and started again fewer than `max_restarts` times (a run that
    takes its process down each time stops there). Several processes may call this at once;
    each run goes to one. Oldest first."""
    return await _adopt(
        session,
        me,
        alive_since,
        [
            RunRow.status == RunStatus.RUNNING,
            RunRow.scheduled_for >= scheduled_since,
            RunRow.restarts < max_restarts,
        ],
        {"restarts": RunRow.restarts + 1, "started_at": None},
        limit,
        mine,
    )


async def adopt_undelivered(
    session: AsyncSession,
    *,
    me: str,
    alive_since: datetime,
    limit: int = 500,
    mine: Sequence[int] | None = None,
) -> list[Run]:
    """Take over finished runs whose message is still owed and whose owner is gone (this
    process after a restart has a new id), or those of `mine` (see `_orphans`); return them,
    oldest first."""
    return await _adopt(
        session, me, alive_since, [RunRow.delivery_pending.is_(True)], {}, limit, mine
    )


async def _adopt(
    session: AsyncSession,
    me: str,
    alive_since: datetime,
    which: Sequence[ColumnElement[bool]],
    changes: dict[str, Any],
    limit: int,
    mine: Sequence[int] | None = None,
) -> list[Run]:
    """Make this process the owner of up to `limit` of the runs `which` picks among those whose
    owner is gone or, with `mine`, among these of its own (and apply `changes`); several
    processes may call this at once and each run goes to one (PostgreSQL skips the rows
    another is taking). Oldest first."""
    orphaned = (
        select(RunRow.id)
        .where(*which, *_orphans(me, alive_since, mine))
        .order_by(RunRow.id)
        .limit(limit)
    )
    if is_postgres(session):
        orphaned = orphaned.with_for_update(skip_locked=True)
    result = await session.execute(
        update(RunRow)
        .where(RunRow.id.in_(orphaned.scalar_subquery()))
        .values(owner=me, **changes)
        .returning(RunRow),
        execution_options={"populate_existing": True},
    )
    return sorted((to_record(row) for row in result.scalars()), key=lambda run: run.id)


async def undelivered(session: AsyncSession, task_id: int) -> int:
    """How many of the task's results are still owed to its chat."""
    result = await session.execute(
        select(func.count())
        .select_from(RunRow)
        .where(RunRow.task_id == task_id, RunRow.delivery_pending.is_(True))
    )
    return int(result.scalar_one())


@dataclass(frozen=True, slots=True)
class NewRun:
    task_id: int
    scheduled_for: datetime
    trigger: RunTrigger
    status: RunStatus
    started_at: datetime | None = None
    finished_at: datetime | None = None
    reason: Reason | None = None
    owner: str | None = None


async def add_occurrences(session: AsyncSession, occurrences: Sequence[NewRun]) -> list[Run]:
    """Insert runs, silently dropping any scheduled occurrence that is already recorded.

    This is the exactly-once guard: the unique index on (task_id, scheduled_for) for the
    schedule's own triggers lets only one process ever record a given occurrence; the rows
    returned are the ones this call won.
    """
    if not occurrences:
        return []
    if is_postgres(session):
        return await _add_occurrences_postgres(session, occurrences)
    table = RunRow.__table__
    statement = (
        insert_for(session, table)
        .values([_occurrence_values(item) for item in occurrences])
        .on_conflict_do_nothing(
            index_elements=[table.c.task_id, table.c.scheduled_for],
            index_where=text(SCHEDULED_OCCURRENCE),
        )
        .returning(*table.c)
    )
    result = await session.execute(statement)
    return [_from_mapping(row._mapping) for row in result]


def _occurrence_values(item: NewRun) -> dict[str, object]:
    return {
        "task_id": item.task_id,
        "scheduled_for": item.scheduled_for,
        "trigger": item.trigger,
        "status": item.status,
        "started_at": item.started_at,
        "finished_at": item.finished_at,
        **reasons.columns(item.reason),
        "owner": item.owner,
    }


# One statement with one array per column, whatever the number of rows: PostgreSQL prepares
# it once, where a thousand-row VALUES list would be planned afresh every time.
# The one interpolated part is a constant of ours, hence the noqa.
_UNNEST_INSERT = text(
    f"""
    INSERT INTO runs
        (task_id, scheduled_for, trigger, status, started_at, finished_at, reason_code,
         reason_facts, owner)
    SELECT task_id, scheduled_for, trigger, status, started_at, finished_at, reason_code,
        CAST(reason_facts AS JSONB), owner
    FROM unnest(
        CAST(:task_id AS BIGINT[]), CAST(:scheduled_for AS TIMESTAMPTZ[]),
        CAST(:trigger AS VARCHAR[]), CAST(:status AS VARCHAR[]),
        CAST(:started_at AS TIMESTAMPTZ[]), CAST(:finished_at AS TIMESTAMPTZ[]),
        CAST(:reason_code AS VARCHAR[]), CAST(:reason_facts AS TEXT[]), CAST(:owner AS VARCHAR[])
    ) AS occurrence(task_id, scheduled_for, trigger, status, started_at, finished_at,
        reason_code, reason_facts, owner)
    ON CONFLICT (task_id, scheduled_for) WHERE {SCHEDULED_OCCURRENCE} DO NOTHING
    RETURNING id, task_id, scheduled_for, trigger
    """  # noqa: S608
).columns(RunRow.id, RunRow.task_id, RunRow.scheduled_for, RunRow.trigger)


async def _add_occurrences_postgres(
    session: AsyncSession, occurrences: Sequence[NewRun]
) -> list[Run]:
    rows = [_occurrence_values(item) for item in occurrences]

    def column(name: str) -> list[object]:
        return [_array_item(value) for value in (row[name] for row in rows)]

    names = (
        "task_id",
        "scheduled_for",
        "trigger",
        "status",
        "started_at",
        "finished_at",
        "reason_code",
        "reason_facts",
        "owner",
    )
    result = await session.execute(_UNNEST_INSERT, {name: column(name) for name in names})
    # Only the ids come back (a thousand whole rows took longer to read than to insert); the
    # rest of each new row is what was inserted.
    asked: dict[tuple[int, datetime, str], list[NewRun]] = {}
    for item in occurrences:
        asked.setdefault((item.task_id, item.scheduled_for, item.trigger.value), []).append(item)
    won = []
    for run_id, task_id, scheduled_for, trigger in result.tuples():
        item = asked[(task_id, scheduled_for, RunTrigger(trigger).value)].pop(0)
        won.append(
            Run(
                id=run_id,
                task_id=task_id,
                scheduled_for=scheduled_for,
                trigger=item.trigger,
                status=item.status,
                started_at=item.started_at and item.started_at.astimezone(UTC),
                finished_at=item.finished_at and item.finished_at.astimezone(UTC),
                output=None,
                reason=item.reason,
                prompt_tokens=None,
                completion_tokens=None,
                cost=None,
                delivered_message_id=None,
                delivery_error=None,
                owner=item.owner,
            )
        )
    return won


def _array_item(value: object) -> object:
    """A value as an element of the statement's arrays: enums by value, documents as JSON text."""
    if isinstance(value, RunTrigger | RunStatus):
        return value.value
    if isinstance(value, dict):
        return json.dumps(value)
    return value


async def running_task_ids(session: AsyncSession, task_ids: Sequence[int]) -> set[int]:
    """Which of these tasks have a run still going."""
    if not task_ids:
        return set()
    result = await session.execute(
        select(RunRow.task_id)
        .where(RunRow.status == RunStatus.RUNNING, id_in(session, RunRow.task_id, task_ids))
        .distinct()
    )
    return set(result.scalars())


async def mark_started(session: AsyncSession, run_id: int, *, started_at: datetime) -> bool:
    """The run leaves the queue and really starts; False if it is no longer running."""
    result = await session.execute(
        update(RunRow)
        .where(RunRow.id == run_id, RunRow.status == RunStatus.RUNNING)
        .values(started_at=started_at)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Starting:
    """What a run that really starts reads (`start`)."""

    task: Task
    chat: Chat | None
    # The task's last answers worth remembering (`recent_outputs`), oldest first.
    memory: list[Run]
    # Whether the task has documents (then they are read).
    has_documents: bool


async def start(
    session: AsyncSession, run: Run, *, started_at: datetime, memory: int
) -> Starting | None:
    """The run leaves the queue and really starts (`mark_started`); return its task, the
    task's chat and last `memory` answers as they are now, or None if it is no longer running
    or its task is gone. On PostgreSQL one statement (the update in a CTE, the answers in a
    lateral join) where five took five round trips."""
    if not is_postgres(session):
        if not await mark_started(session, run.id, started_at=started_at):
            return None
        task = await tasks.get(session, run.task_id)
        if task is None:
            return None
        has_documents = await session.scalar(
            select(_task_has_documents()).where(TaskRow.id == task.id)
        )
        return Starting(
            task,
            await chats.get(session, task.chat_id),
            await recent_outputs(session, task.id, limit=memory),
            bool(has_documents),
        )
    parameters = {"run_id": run.id, "started_at": started_at, "memory": memory}
    rows = (await session.execute(_start_statement(), parameters)).all()
    if not rows:
        return None
    task_row, chat_row, _, has_documents = rows[0]
    return Starting(
        tasks.to_record(task_row),
        chats.to_record(chat_row) if chat_row is not None else None,
        [to_record(row[2]) for row in rows if row[2] is not None],
        bool(has_documents),
    )


def _task_has_documents() -> Exists:
    return select(AttachmentRow.id).where(AttachmentRow.task_id == TaskRow.id).exists()


@functools.cache
def _start_statement() -> Select[TaskRow, ChatRow, RunRow, bool]:
    """`start`'s statement on PostgreSQL, built once: built for every run, it took more of the
    process's CPU than running it (SQLAlchemy's aliasing and column collections)."""
    started = (
        update(RunRow)
        .where(RunRow.id == bindparam("run_id"), RunRow.status == RunStatus.RUNNING)
        .values(started_at=bindparam("started_at"))
        .returning(RunRow.task_id)
        .cte("started")
    )
    remembered = _worth_remembering(TaskRow.id, bindparam("memory")).lateral("remembered")
    answer = aliased(RunRow, remembered)
    return (
        select(TaskRow, ChatRow, answer, _task_has_documents())
        .join_from(started, TaskRow, TaskRow.id == started.c.task_id)
        .outerjoin(ChatRow, ChatRow.id == TaskRow.chat_id)
        .outerjoin(remembered, true())
        .order_by(answer.finished_at, answer.id)
    )


async def interrupt(
    session: AsyncSession, run_ids: Sequence[int], *, now: datetime, reason: Reason
) -> int:
    """Mark these runs interrupted if they are still running."""
    if not run_ids:
        return 0
    result = await session.execute(
        update(RunRow)
        .where(RunRow.id.in_(list(run_ids)), RunRow.status == RunStatus.RUNNING)
        .values(status=RunStatus.INTERRUPTED, finished_at=now, **reasons.columns(reason))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
