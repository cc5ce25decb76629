"""A result on its way to the chat: retried with backoff while the platform cannot take it now,
never sooner than Telegram said (retry_after), and not retried when it never can."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from structlog.testing import capture_logs

from scheduler.delivery import ChatUnreachableError, DeliveryDelayedError, DeliveryError
from scheduler.runner.sending import ResultSender, Sent
from storage.records import Run, Task
from storage.retry import Backoff
from tests.fakes.clock import FakeClock
from tests.fakes.delivery import FakeDelivery
from tests.fakes.records import NOW, a_run, a_task

TASK = a_task()
RUN = a_run(TASK)


class TroubledDelivery(FakeDelivery):
    """Raises the given errors on the first attempts to send a result, then sends it."""

    def __init__(self, *errors: DeliveryError) -> None:
        super().__init__()
        self.errors = list(errors)
        self.attempts = 0
        self.attempted = asyncio.Event()

    async def send_result(self, task: Task, run: Run, text: str) -> Sequence[int]:
        self.attempts += 1
        self.attempted.set()
        if self.errors:
            raise self.errors.pop(0)
        return await super().send_result(task, run, text)


def sender(delivery: FakeDelivery, backoff: Backoff) -> ResultSender:
    # Sending touches no database; the record is another step.
    return ResultSender(
        async_sessionmaker(),
        delivery,
        FakeClock(NOW),
        database_backoff=backoff,
        delivery_backoff=backoff,
    )


async def send(sending: ResultSender) -> Sent:
    return await sending.send(TASK, RUN, RUN.status, RUN.output, RUN.reason)


async def test_a_flood_wait_is_waited_out_as_long_as_telegram_asked() -> None:
    delivery = TroubledDelivery(
        DeliveryDelayedError("Too Many Requests: retry after 0.05", retry_after=0.05),
        DeliveryDelayedError("Bad Gateway"),
        # Asked for less than the backoff's wait: the backoff's wait.
        DeliveryDelayedError("Too Many Requests: retry after 0.001", retry_after=0.001),
    )
    loop = asyncio.get_running_loop()
    before = loop.time()
    with capture_logs() as logs:
        sent = await send(sender(delivery, Backoff(first=0.01, longest=0.02)))
    # A sleep may end late, never early (beyond the clock's resolution).
    assert loop.time() - before >= 0.05 + 0.02 + 0.02 - 0.003
    assert [(e["event"], e["attempt"], e["retry_in"], e["reason"]) for e in logs] == [
        ("delivery.retry", 1, 0.05, "Too Many Requests: retry after 0.05"),
        ("delivery.retry", 2, 0.02, "Bad Gateway"),
        ("delivery.retry", 3, 0.02, "Too Many Requests: retry after 0.001"),
    ]
    assert (logs[0]["run_id"], logs[0]["chat_id"]) == (RUN.id, TASK.chat_id)
    assert delivery.attempts == 4
    assert delivery.results == [(TASK.id, "The news.")]
    assert sent == Sent(delivery.next_message_id, None, chat_gone=False)


@pytest.mark.parametrize(
    ("error", "chat_gone"),
    [
        (ChatUnreachableError("Forbidden: bot was blocked by the user"), True),
        (DeliveryError("Bad Request: message is too long"), False),
    ],
)
async def test_a_message_that_can_never_arrive_is_not_retried(
    error: DeliveryError, chat_gone: bool
) -> None:
    delivery = TroubledDelivery(error)
    with capture_logs() as logs:
        sent = await send(sender(delivery, Backoff(first=60, longest=60)))
    assert (delivery.attempts, logs) == (1, [])
    assert sent == Sent(None, str(error), chat_gone=chat_gone)


async def test_a_shutdown_ends_a_flood_wait() -> None:
    delivery = TroubledDelivery(DeliveryDelayedError("Too Many Requests", retry_after=30))
    sending = asyncio.create_task(send(sender(delivery, Backoff(first=0.01, longest=0.01))))
    await delivery.attempted.wait()
    sending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sending
    assert (delivery.attempts, delivery.results) == (1, [])
