"""A run skipped before it called the model, because money ran out (the chat's budget, a task's
monthly cap): recorded `skipped` with its reason, and the chat told only by the first such skip
since `since` (once a day for the budget, once a month for the cap)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import metrics
from core.logs import get_logger
from core.reasons import Reason, logged
from scheduler.delivery import ChatUnreachableError, DeliveryError
from scheduler.runner.sending import ResultSender, Sent
from storage import runs
from storage.records import Run, RunStatus, Task

log = get_logger(__name__)


async def skip_and_tell_once(
    sessions: async_sessionmaker[AsyncSession],
    sender: ResultSender,
    task: Task,
    run: Run,
    reason: Reason,
    *,
    now: datetime,
    since: datetime,
    tell: Callable[[], Awaitable[object]],
    **facts: object,
) -> None:
    """Record `run` skipped for `reason`; unless a skip for the same reason since `since` told
    the chat already, `tell` it (a notice, not a result: a refusal is recorded, not retried).
    `facts` go into the log line beside the reason's own."""
    async with sessions() as session, session.begin():
        finished = await runs.finish(
            session,
            run.id,
            status=RunStatus.SKIPPED,
            finished_at=now,
            reason=reason,
            owner=run.owner,
        )
        if finished is None:
            return
        told = await runs.count_since(
            session, task.id, reason=type(reason), since=since, excluding=run.id
        )
    metrics.observe_run(RunStatus.SKIPPED.value, run.trigger.value, None, 0, 0, None)
    log.info(
        "run.finished",
        run_id=run.id,
        task_id=task.id,
        chat_id=task.chat_id,
        trigger=run.trigger.value,
        status=RunStatus.SKIPPED.value,
        **logged(reason),
        **facts,
    )
    if told:
        return
    try:
        await tell()
    except ChatUnreachableError as gone:
        await sender.record(task, finished, Sent(None, str(gone), chat_gone=True))
    except DeliveryError as refused:
        await sender.record(task, finished, Sent(None, str(refused), chat_gone=False))
