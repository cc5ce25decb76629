"""A result's copies to the targets beside the task's own chat: other Telegram chats and
channels, and the operator's destinations. Each copy is recorded per run (storage/deliveries.py:
sent with its message id, failed with why, or retrying) and retried with backoff on its own, so
a target that keeps failing holds back none of the others; a restart sends each target only what
it is still owed (the run stays owed, under its owner's lease, until every copy is settled).

What is tried again: what heals by itself (a Telegram flood wait, a 5xx or a lost connection; a
destination's HTTP error or unreachable service), up to TARGET_ATTEMPTS times, the first retry
within seconds and later ones up to four minutes apart; then the copy is given up
(`DeliveryGaveUp`). What Telegram refuses outright (the bot was removed, may not post, the chat
is gone) is not tried again in that run: the target is checked again (`TargetChecks`: is the
chat there, may the bot post, does whoever chose it still administer it), the copy records why,
and the task's own chat is told once (storage/target_notices.py) until a copy gets through
there again. The target stays in the task's list; the next run tries it again."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
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
from core.reasons import (
    DeliveryGaveUp,
    DestinationUnknown,
    Reason,
    TargetRefused,
    TelegramBusy,
    TelegramNotConnected,
    logged,
)
from scheduler.clock import Clock
from scheduler.delivery import (
    CopyDelivery,
    DeliveryDelayedError,
    DeliveryError,
    TargetChecks,
)
from scheduler.destinations import DestinationError, Destinations, UnknownDestinationError
from storage import deliveries, message_parts, target_notices
from storage.records import DeliveryState, Run, Target, TargetDelivery, TargetKind, Task
from storage.retry import Backoff, failure, patiently

log = get_logger(__name__)

# A target failing in a way that heals by itself is given up after this many attempts: with
# TARGET_BACKOFF, retries after 5 s, 10 s, 20 s, 40 s, 80 s, 160 s and 240 s, about nine minutes
# in all, so a copy is settled before the operator's check of results owed for ten minutes
# (application/watch.py) would call it stuck.
TARGET_ATTEMPTS = 8
TARGET_BACKOFF = Backoff(first=5.0, longest=240.0)


# A copy's state as the deliveries metric names its outcome.
_METRIC = {DeliveryState.SENT: "delivered", DeliveryState.FAILED: "failed"}


class _Retry(Exception):
    """One attempt failed in a way worth trying again; `reason` says why."""

    def __init__(self, reason: Reason, retry_after: float | None = None) -> None:
        super().__init__(str(reason))
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Outcome:
    state: DeliveryState
    message_ids: Sequence[int] = ()
    reason: Reason | None = None
    # The platform's own words for a refusal not yet checked (TargetChecks words it).
    refusal: str | None = None


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
        checks: TargetChecks | None = None,
    ) -> None:
        self._sessions = sessions
        self._copies = copies
        self._destinations = destinations
        self._clock = clock
        self._backoff = backoff
        self._database_backoff = database_backoff
        self._checks = checks

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
        # The task's own entry when it still has one: it knows who chose the target.
        target = next((t for t in task.elsewhere if t.key == copy.target), None) or target_of(copy)
        outcome = await self._attempts(task, run, target)
        if outcome.refusal is not None:
            outcome = Outcome(
                DeliveryState.FAILED, reason=await self._why(task, target, outcome.refusal)
            )
        tell = await self._record(task, run, target, outcome)
        metrics.observe_delivery(_METRIC[outcome.state], target.kind.value)
        if outcome.state is DeliveryState.FAILED:
            log.warning(
                "delivery.target_failed",
                run_id=run.id,
                task_id=task.id,
                target=target.label,
                told=tell,
                **logged(outcome.reason),
            )
            if tell and outcome.reason is not None:
                await self._tell_owner(task, target, outcome.reason)

    async def _attempts(self, task: Task, run: Run, target: Target) -> Outcome:
        text = run.output or ""

        async def once() -> Outcome:
            return await self._send(task, run, target, text)

        async def note_retry(state: RetryCallState) -> None:
            error = failure(state)
            reason = error.reason if isinstance(error, _Retry) else None
            metrics.observe_delivery("retrying", target.kind.value)
            log.warning(
                "delivery.target_retry",
                run_id=run.id,
                target=target.label,
                attempt=state.attempt_number,
                retry_in=round(state.upcoming_sleep, 2),
                **logged(reason),
            )
            await self._record(task, run, target, Outcome(DeliveryState.RETRYING, reason=reason))

        def wait(state: RetryCallState) -> float:
            error = failure(state)
            asked = error.retry_after if isinstance(error, _Retry) else None
            return max(asked or 0.0, self._backoff(state))

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_Retry),
            wait=wait,
            stop=stop_after_attempt(TARGET_ATTEMPTS),
            before_sleep=note_retry,
            reraise=True,
        )
        try:
            return await retrying(once)
        except _Retry as given_up:
            reason = DeliveryGaveUp(attempts=TARGET_ATTEMPTS, error=given_up.reason)
            return Outcome(DeliveryState.FAILED, reason=reason)

    async def _send(self, task: Task, run: Run, target: Target, text: str) -> Outcome:
        if target.kind is TargetKind.DESTINATION:
            if self._destinations is None or target.name not in self._destinations:
                return Outcome(DeliveryState.FAILED, reason=DestinationUnknown())
            try:
                await self._destinations.send(str(target.name), task.name, text)
            except UnknownDestinationError as gone:
                return Outcome(DeliveryState.FAILED, reason=gone.why)
            except DestinationError as refused:
                raise _Retry(refused.why) from None
            return Outcome(DeliveryState.SENT)
        if self._copies is None:
            return Outcome(DeliveryState.FAILED, reason=TelegramNotConnected())
        try:
            message_ids = await self._copies.send_copy(task, run, target, text)
        except DeliveryDelayedError as delayed:
            raise _Retry(TelegramBusy(words=str(delayed)), delayed.retry_after) from None
        except DeliveryError as refused:
            return Outcome(DeliveryState.FAILED, refusal=str(refused))
        return Outcome(DeliveryState.SENT, message_ids=message_ids)

    async def _why(self, task: Task, target: Target, refusal: str) -> Reason:
        """A Telegram target refused: checked again, so that the record says what is wrong."""
        if self._checks is None:
            return TargetRefused(words=refusal)
        return await self._checks.recheck(task, target, refusal)

    async def _record(self, task: Task, run: Run, target: Target, outcome: Outcome) -> bool:
        """The copy's outcome, in one unit of work with what follows from it: a sent copy's
        messages are findable (a reply to them is a follow-up) and its target works again; a
        failed one is told to the task's chat unless it already was. Whether to tell."""

        async def record() -> bool:
            async with self._sessions() as session, session.begin():
                await deliveries.record(
                    session,
                    run.id,
                    target.key,
                    state=outcome.state,
                    now=self._clock.now(),
                    message_id=str(outcome.message_ids[0]) if outcome.message_ids else None,
                    reason=outcome.reason,
                )
                if outcome.state is DeliveryState.SENT:
                    if target.chat_id is not None:
                        await message_parts.add(
                            session, target.chat_id, outcome.message_ids, run_id=run.id
                        )
                    await target_notices.clear(session, task.id, target.key)
                    return False
                # Told through the bot; a process without it (the terminal) leaves it to the bot.
                can_tell = self._copies is not None
                if outcome.state is DeliveryState.FAILED and outcome.reason and can_tell:
                    return await target_notices.claim(
                        session,
                        task.id,
                        target.key,
                        reason_code=outcome.reason.code,
                        now=self._clock.now(),
                    )
                return False

        return await patiently(record, what="run.target_delivery", backoff=self._database_backoff)

    async def _tell_owner(self, task: Task, target: Target, reason: Reason) -> None:
        """The target refused: the task's own chat is told, once until it works again."""
        if self._copies is None:
            return
        try:
            await self._copies.send_target_refused(task, target, reason)
        except DeliveryError as error:
            # Not told after all: the next refusal tries again.
            log.warning("delivery.target_notice_failed", task_id=task.id, error=str(error))

            async def forget() -> None:
                async with self._sessions() as session, session.begin():
                    await target_notices.clear(session, task.id, target.key)

            await patiently(forget, what="run.target_notice", backoff=self._database_backoff)
