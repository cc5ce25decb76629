"""A result's copies to the targets beside the task's own chat: other Telegram chats and
channels, and the operator's destinations. Each copy is recorded per run (storage/deliveries.py:
sent with its message id, failed with why, or retrying) and retried with backoff on its own, so
a target that keeps failing holds back none of the others; a restart sends each target only what
it is still owed (the run stays owed, under its owner's lease, until every copy is settled)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
)

from core import metrics
from core.logs import get_logger
from scheduler.clock import Clock
from scheduler.delivery import CopyDelivery, DeliveryDelayedError, DeliveryError
from scheduler.destinations import DestinationError, Destinations
from storage import deliveries
from storage.records import DeliveryState, Run, Target, TargetDelivery, TargetKind, Task
from storage.retry import Backoff, failure, patiently

log = get_logger(__name__)

# A destination that keeps refusing is given up after this many attempts (about ten minutes
# with the production backoff: 1 s, 2 s, 4 s … then every five minutes).
DESTINATION_ATTEMPTS = 8


# A copy's state as the deliveries metric names its outcome.
_METRIC = {DeliveryState.SENT: "delivered", DeliveryState.FAILED: "failed"}


class _Retry(Exception):
    """One attempt failed in a way worth trying again; `reason` says why."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Outcome:
    state: DeliveryState
    message_id: str | None = None
    error: str | None = None


def target_of(delivery: TargetDelivery) -> Target:
    """The target a recorded copy is for, read back from its key."""
    kind, _, rest = delivery.target.partition(":")
    if kind == TargetKind.DESTINATION:
        return Target(TargetKind.DESTINATION, name=rest)
    chat, _, thread = rest.partition(":")
    return Target(
        TargetKind.TELEGRAM,
        chat_id=int(chat),
        thread_id=int(thread) if thread else None,
        name=delivery.label,
    )


class TargetSender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        copies: CopyDelivery | None,
        destinations: Destinations | None,
        clock: Clock,
        *,
        backoff: Backoff,
        database_backoff: Backoff,
    ) -> None:
        self._sessions = sessions
        self._copies = copies
        self._destinations = destinations
        self._clock = clock
        self._backoff = backoff
        self._database_backoff = database_backoff

    async def owe(self, session: AsyncSession, task: Task, run: Run) -> bool:
        """In the run's closing transaction: its answer is owed to each target beside the
        task's own chat. Whether any is."""
        targets = task.elsewhere
        await deliveries.owe(session, run.id, targets, now=self._clock.now())
        return bool(targets)

    async def deliver(self, task: Task, run: Run) -> bool:
        """Send every copy the run still owes, each on its own with its own retries; whether
        it owed any."""
        async with self._sessions() as session:
            owed = await deliveries.owed(session, run.id)
        if owed:
            await asyncio.gather(*(self._deliver_one(task, run, copy) for copy in owed))
        return bool(owed)

    async def settle(self, run: Run) -> None:
        """The run's own chat is settled too: it is owed nothing once every copy is settled."""

        async def settle() -> None:
            async with self._sessions() as session, session.begin():
                await deliveries.settle(session, run.id)

        await patiently(settle, what="run.targets_settled", backoff=self._database_backoff)

    async def _deliver_one(self, task: Task, run: Run, copy: TargetDelivery) -> None:
        target = target_of(copy)
        outcome = await self._attempts(task, run, target)
        await self._record(run, copy.target, outcome)
        metrics.observe_delivery(_METRIC[outcome.state], target.kind.value)
        if outcome.state is DeliveryState.FAILED:
            log.warning(
                "delivery.target_failed",
                run_id=run.id,
                task_id=task.id,
                target=target.label,
                reason=outcome.error,
            )
            if target.kind is TargetKind.TELEGRAM:
                await self._tell_owner(task, run, target, outcome.error or "")

    async def _attempts(self, task: Task, run: Run, target: Target) -> Outcome:
        text = run.output or ""

        async def once() -> Outcome:
            return await self._send(task, run, target, text)

        async def note_retry(state: RetryCallState) -> None:
            error = failure(state)
            reason = error.reason if isinstance(error, _Retry) else str(error)
            metrics.observe_delivery("retrying", target.kind.value)
            log.warning(
                "delivery.target_retry",
                run_id=run.id,
                target=target.label,
                attempt=state.attempt_number,
                retry_in=round(state.upcoming_sleep, 2),
                reason=reason,
            )
            await self._record(run, target.key, Outcome(DeliveryState.RETRYING, error=reason))

        def wait(state: RetryCallState) -> float:
            error = failure(state)
            asked = error.retry_after if isinstance(error, _Retry) else None
            return max(asked or 0.0, self._backoff(state))

        stop = stop_after_attempt(
            DESTINATION_ATTEMPTS if target.kind is TargetKind.DESTINATION else 10_000
        )
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_Retry),
            wait=wait,
            stop=stop,
            before_sleep=note_retry,
            reraise=True,
        )
        try:
            return await retrying(once)
        except _Retry as given_up:
            return Outcome(DeliveryState.FAILED, error=given_up.reason)

    async def _send(self, task: Task, run: Run, target: Target, text: str) -> Outcome:
        if target.kind is TargetKind.DESTINATION:
            if self._destinations is None or target.name not in self._destinations:
                return Outcome(DeliveryState.FAILED, error="no such destination any more")
            try:
                await self._destinations.send(str(target.name), task.name, text)
            except DestinationError as refused:
                raise _Retry(refused.reason) from None
            return Outcome(DeliveryState.SENT)
        if self._copies is None:
            return Outcome(DeliveryState.FAILED, error="Telegram is not connected")
        try:
            message_id = await self._copies.send_copy(task, run, target, text)
        except DeliveryDelayedError as delayed:
            raise _Retry(str(delayed), delayed.retry_after) from None
        except DeliveryError as refused:
            return Outcome(DeliveryState.FAILED, error=str(refused))
        return Outcome(DeliveryState.SENT, message_id=str(message_id))

    async def _record(self, run: Run, key: str, outcome: Outcome) -> None:
        async def record() -> None:
            async with self._sessions() as session, session.begin():
                await deliveries.record(
                    session,
                    run.id,
                    key,
                    state=outcome.state,
                    now=self._clock.now(),
                    message_id=outcome.message_id,
                    error=outcome.error,
                )

        await patiently(record, what="run.target_delivery", backoff=self._database_backoff)

    async def _tell_owner(self, task: Task, run: Run, target: Target, reason: str) -> None:
        """The target refused: the task's own chat is told, once while it keeps refusing."""
        async with self._sessions() as session:
            told = await deliveries.failed_before(session, task.id, target.key, run.id)
        if told or self._copies is None:
            return
        try:
            await self._copies.send_target_refused(task, target, reason)
        except DeliveryError as error:  # a footnote; the refusal itself is recorded
            log.warning("delivery.target_notice_failed", task_id=task.id, error=str(error))
