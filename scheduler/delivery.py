"""The port through which results leave the scheduler. The bot implements it for Telegram;
the scheduler never imports `telegram`."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from core.errors import CronpilotError
from core.reasons import Reason
from storage.records import Run, Target, Task


class DeliveryError(CronpilotError):
    """The chat platform refused the message for good (sending it again would fail again);
    the text says why."""


class ChatUnreachableError(DeliveryError):
    """The chat is gone for good: the bot was blocked, kicked, or the chat was deleted."""


class DeliveryDelayedError(DeliveryError):
    """The message could not be sent now (flood wait, server error, network): try again,
    not before `retry_after` seconds when the platform said so."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Delivery(Protocol):
    def working(self, chat_id: int) -> AbstractAsyncContextManager[None]:
        """Show that a run is working (Telegram's "typing…") for as long as the block lasts."""
        ...

    async def send_result(self, task: Task, run: Run, text: str) -> Sequence[int]:
        """Post a run's answer; return the ids of its messages, first to last (a long answer
        takes several)."""
        ...

    async def send_failure(self, task: Task, run: Run, reason: Reason) -> int:
        """Tell the chat that a run failed and offer to retry; return the message id."""
        ...

    async def send_paused(self, task: Task, reason: Reason) -> None:
        """Tell the chat that the task was paused and why, and offer to resume it."""
        ...

    async def send_nothing_to_report(self, task: Task, run: Run) -> int:
        """Tell the chat that a run someone asked for had nothing to report; return the
        message id. (Scheduled runs with nothing to report stay silent.)"""
        ...

    async def send_budget_reached(self, task: Task, spent_usd: float, budget_usd: float) -> None:
        """Tell the chat that a run was skipped because its monthly budget is spent."""
        ...

    async def send_skipped(self, task: Task, reason: Reason) -> None:
        """Tell the chat that a run was skipped and why (the task's own cap is spent)."""
        ...

    async def settle_failure(self, task: Task, failed: Run, later: Run) -> None:
        """Edit the failure notice of `failed` (its `delivered_message_id`, "will try again
        at …") to say that `later`, a later try of the same run, succeeded. Raises
        DeliveryError when the notice cannot be edited (too old, deleted); the caller lets it
        be."""
        ...


class CopyDelivery(Protocol):
    """Copies of results to the other Telegram chats and channels a task posts to."""

    async def send_copy(self, task: Task, run: Run, target: Target, text: str) -> Sequence[int]:
        """Post the run's answer to `target` (no buttons); return its messages' ids, first to
        last. Raises DeliveryDelayedError to try again later, DeliveryError when refused."""
        ...

    async def send_target_refused(self, task: Task, target: Target, reason: Reason) -> None:
        """Tell the task's own chat (and topic) that `target` refused its result, and why."""
        ...


class TargetChecks(Protocol):
    """Checks a Telegram target again after it refused a copy (application/targets.py holds the
    rule: the one it holds when the target is set)."""

    async def recheck(self, task: Task, target: Target, refusal: str) -> Reason:
        """Why `target` refused: it is gone, the bot may no longer post there, whoever chose it
        no longer administers it, or else `refusal` (the platform's words) as it stands."""
        ...
