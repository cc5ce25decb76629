"""A finished run's message on its way to the chat: sent with retries until it arrives or
never can, then recorded; a chat that is gone pauses its tasks; a failure that paused its task
gets a footnote saying so."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from core import metrics
from core.logs import get_logger
from core.reasons import FailedInARow, InternalError, Reason
from scheduler.clock import Clock
from scheduler.delivery import (
    ChatUnreachableError,
    Delivery,
    DeliveryDelayedError,
    DeliveryError,
)
from scheduler.runner.targets import TargetSender
from storage import chats, message_parts, retries, runs, tasks
from storage.database import autocommitting
from storage.records import Run, RunStatus, RunTrigger, Task, TaskState
from storage.retry import Backoff, failure, patiently

log = get_logger(__name__)

FAILURES_BEFORE_PAUSE = 3
# Runs the schedule started; only they count towards pausing a failing task, and only they
# stay silent when there is nothing to report.
SCHEDULED_TRIGGERS = frozenset({RunTrigger.SCHEDULE, RunTrigger.CATCH_UP})
# A shutdown that lands between a message going out and its record waits this long for the
# record, so the next start does not send the message a second time.
RECORD_GRACE_SECONDS = 5.0
# Telegram down or flooded: try again after 1 s, 2 s, 4 s … and then every 5 minutes.
DELIVERY_BACKOFF = Backoff(first=1.0, longest=300.0)


@dataclass(frozen=True, slots=True)
class Sent:
    """What became of a run's message: its id, or why it can never be delivered."""

    message_id: int | None
    error: str | None
    chat_gone: bool
    # The later messages of a result split into several.
    parts: tuple[int, ...] = ()


def owes_message(status: RunStatus, output: str | None, trigger: RunTrigger) -> bool:
    """Whether the chat is owed a message: an answer, a failure, or, for a run someone asked
    for (Run now, Retry), that there was nothing to report; scheduled silent runs stay silent."""
    if status is RunStatus.SILENT:
        return trigger not in SCHEDULED_TRIGGERS
    return (status is RunStatus.SUCCEEDED and bool(output)) or status is RunStatus.FAILED


def _outcome(sent: Sent) -> str:
    """What became of an owed result, as the deliveries metric names it."""
    if sent.message_id is not None:
        return "delivered"
    return "chat_gone" if sent.chat_gone else "failed"


def _as_asked_or(backoff: Backoff) -> Callable[[RetryCallState], float]:
    """The backoff's wait, or longer when the platform said how long (Telegram's retry_after
    on a flood wait)."""

    def wait(state: RetryCallState) -> float:
        delayed = failure(state)
        asked = delayed.retry_after if isinstance(delayed, DeliveryDelayedError) else None
        return max(asked or 0.0, backoff(state))

    return wait


class ResultSender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        delivery: Delivery,
        clock: Clock,
        *,
        database_backoff: Backoff,
        delivery_backoff: Backoff,
        targets: TargetSender | None = None,
    ) -> None:
        self._sessions = sessions
        self._statements = autocommitting(sessions)
        self._delivery = delivery
        self._clock = clock
        self._database_backoff = database_backoff
        self._delivery_backoff = delivery_backoff
        self._targets = targets
        # Runs this process closed owing no copy: their delivery need not read the copies owed
        # (a run closed by another process, or before a restart, is not here and is read).
        self._without_copies: set[int] = set()

    async def owe_targets(self, session: AsyncSession, task: Task, run: Run) -> Run:
        """In the run's closing transaction: its answer is owed to the task's other targets
        too (the run then stays owed until each has it)."""
        if self._targets is None:
            return run
        if not await self._targets.owe(session, task, run):
            self._without_copies.add(run.id)
            return run
        self._without_copies.discard(run.id)  # an earlier attempt of this transaction said none
        await runs.keep_owed(session, run.id)
        return replace(run, delivery_pending=True)

    async def deliver(self, run: Run, task: Task) -> None:
        """Send what a finished run still owes: its own chat's message (`deliver_here`) and,
        each on its own, the copies to its other targets; the run is owed nothing once all
        are settled."""
        if self._targets is None:
            await self.deliver_here(run, task)
            return
        if run.id in self._without_copies:
            # Closed here owing no copy, and copies are owed only when a run closes: recording
            # the chat's message settles it (runs.set_delivery).
            self._without_copies.discard(run.id)
            if await self.deliver_here(run, task):
                return
        recorded, copies = await asyncio.gather(
            self.deliver_here(run, task), self._targets.deliver(task, run)
        )
        # Recording the chat's message settles the run too when no copy was owed (runs.
        # set_delivery): then there is nothing left to settle.
        if copies or not recorded:
            await self._targets.settle(run)

    async def deliver_here(self, run: Run, task: Task) -> bool:
        """Send the message a finished run owes its chat, retrying with backoff until it is
        delivered or can never be; then record which. Cancelled (a shutdown) before the message
        went out, the run stays marked as owing it and the next start sends it; after, the
        record is still written (within RECORD_GRACE_SECONDS), so it is not sent twice.
        Whether it recorded anything (not when the chat had its message before a restart)."""
        if run.delivered_message_id is not None or run.delivery_error is not None:
            return False  # the chat had it before a restart; only other targets are still owed
        with metrics.RESULTS_OWED.track_inprogress():
            sent = await self.send(task, run, run.status, run.output, run.reason)
        # Nothing sent and nothing refused: its results go to other targets only.
        if sent.message_id is not None or sent.error is not None:
            metrics.observe_delivery(_outcome(sent))
        recording = asyncio.ensure_future(
            patiently(
                lambda: self.record(task, run, sent),
                what="run.delivery",
                backoff=self._database_backoff,
            )
        )
        try:
            await asyncio.shield(recording)
        except asyncio.CancelledError:
            # The message is out: a shutdown now must not leave it owed, to be sent again.
            await asyncio.wait({recording}, timeout=RECORD_GRACE_SECONDS)
            if not recording.done() or recording.exception() is not None:
                recording.cancel()  # nothing to cancel once it has ended
                log.warning("run.delivery_unrecorded", run_id=run.id, task_id=task.id)
            raise
        if sent.message_id is not None:
            await self.notify_if_paused(run)
        await self.settle_failures(run, task)
        return True

    async def send(
        self, task: Task, run: Run, status: RunStatus, output: str | None, reason: Reason | None
    ) -> Sent:
        if not owes_message(status, output, run.trigger):
            return Sent(None, None, chat_gone=False)
        if status is RunStatus.SUCCEEDED and not task.posts_here:
            return Sent(None, None, chat_gone=False)  # its results go elsewhere only

        async def send_once() -> Sent:
            if status is RunStatus.SUCCEEDED:
                first, *parts = await self._delivery.send_result(task, run, output or "")
                return Sent(first, None, chat_gone=False, parts=tuple(parts))
            if status is RunStatus.SILENT:
                message_id = await self._delivery.send_nothing_to_report(task, run)
            else:
                message_id = await self._delivery.send_failure(task, run, reason or InternalError())
            return Sent(message_id, None, chat_gone=False)

        def log_retry(state: RetryCallState) -> None:
            metrics.observe_delivery("retrying")
            log.warning(
                "delivery.retry",
                run_id=run.id,
                chat_id=task.chat_id,
                attempt=state.attempt_number,
                retry_in=round(state.upcoming_sleep, 2),
                reason=str(failure(state)),
            )

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(DeliveryDelayedError),
            wait=_as_asked_or(self._delivery_backoff),
            before_sleep=log_retry,
        )
        try:
            return await retrying(send_once)
        except ChatUnreachableError as gone:
            return Sent(None, str(gone), chat_gone=True)
        except DeliveryError as refused:
            return Sent(None, str(refused), chat_gone=False)

    async def record(self, task: Task, run: Run, sent: Sent) -> None:
        # Mostly one statement (the run's message id), which needs no transaction around it.
        alone = not sent.parts and not sent.chat_gone
        sessions = self._statements if alone else self._sessions
        async with sessions() as session, session.begin():
            await self.record_in(session, task, run, sent)

    async def record_in(self, session: AsyncSession, task: Task, run: Run, sent: Sent) -> None:
        """What became of the run's message, in the caller's transaction: its id and parts, or
        why it never can be delivered, and a chat that is gone paused."""
        await runs.set_delivery(session, run.id, message_id=sent.message_id, error=sent.error)
        await message_parts.add(session, task.chat_id, sent.parts, run_id=run.id)
        if sent.chat_gone:
            await self._pause_chat(session, task.chat_id)

    async def _pause_chat(self, session: AsyncSession, chat_id: int) -> None:
        """The chat blocked or removed the bot: stop running its tasks until it is back."""
        paused = await chats.mark_unreachable(session, chat_id, now=self._clock.now())
        log.warning("chat.unreachable", chat_id=chat_id, paused=paused)

    async def settle_failures(self, run: Run, task: Task) -> None:
        """After a later try succeeded: the failure notices of the tries before it ("will try
        again at 09:20") are edited to say so. A notice that can no longer be edited (too old,
        deleted) stays as it was."""
        if run.retry_of is None or run.status not in (RunStatus.SUCCEEDED, RunStatus.SILENT):
            return
        async with self._sessions() as session:
            earlier = await retries.earlier_tries(session, run)
        for failed in earlier:
            if failed.status is not RunStatus.FAILED or failed.delivered_message_id is None:
                continue
            try:
                await self._delivery.settle_failure(task, failed, run)
            except DeliveryError as error:
                log.info(
                    "delivery.failure_notice_kept",
                    run_id=failed.id,
                    message_id=failed.delivered_message_id,
                    error=str(error),
                )

    async def notify_if_paused(self, run: Run) -> None:
        """After a failure notice: if that failure paused the task, say so."""
        if run.status is not RunStatus.FAILED:
            return
        async with self._sessions() as session:
            task = await tasks.get(session, run.task_id)
        if (
            task is None
            or task.state is not TaskState.PAUSED
            or task.consecutive_failures < FAILURES_BEFORE_PAUSE
        ):
            return
        paused = FailedInARow(count=FAILURES_BEFORE_PAUSE, error=run.reason or InternalError())
        try:
            await self._delivery.send_paused(task, paused)
        except DeliveryError as error:  # the failure notice itself arrived; this is a footnote
            log.warning("delivery.pause_notice_failed", task_id=task.id, error=str(error))
