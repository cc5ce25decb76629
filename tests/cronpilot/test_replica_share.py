"""Issue 27: a replica that starts beside others sends at the share its first heartbeat works
out from the start: the bot's rate limiter has it before the first message leaves (a replica
that sent at the whole rate until its first beat would push the bot over Telegram's 30 a
second while the others, not knowing it yet, share the whole). On SQLite, one process: the
whole rate, as before."""

from __future__ import annotations

from typing import Any

import pytest

from bot.ratelimit import MESSAGE_METHODS, MessageRateLimiter, Priority
from cronpilot.runtime import build_runtime
from scheduler.engine import MIN_SHARE
from storage import chats, tasks, workers
from storage.database import create_engine, create_sessionmaker
from storage.records import NewTask, TaskKind
from tests.bot_harness import ALICE, NOW, QUICK_RETRIES, bot_settings
from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.usefixtures("litellm_imported")


class RecordingLimiter(MessageRateLimiter):
    """The bot's limiter, noting in order the shares it is given and the messages it lets go."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, Any]] = []

    def share(self, fraction: float) -> None:
        self.events.append(("share", fraction))
        super().share(fraction)

    async def process_request(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Priority | None,
    ) -> Any:
        if endpoint in MESSAGE_METHODS:
            self.events.append(("send", endpoint))
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )

    def shares_before_the_first_message(self) -> list[float]:
        first = next(i for i, (kind, _) in enumerate(self.events) if kind == "send")
        return [share for kind, share in self.events[:first] if kind == "share"]


async def start_with_a_result_due(
    fake: FakeTelegram, llm: FakeLLM, url: str, *, other_replica: bool
) -> RecordingLimiter:
    """Start the bot with one run due at once (its result is the first message it sends),
    beside a live replica sending at the whole rate if `other_replica`; return its limiter."""
    chat = fake.private_chat(fake.user(ALICE, "Alice"))
    llm.reply_text("Today's summary")
    clock = FakeClock(NOW)
    database = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(database)() as session, session.begin():
            await chats.upsert(session, ALICE, type="private", title=None, now=NOW)
            await tasks.add(
                session,
                NewTask(
                    chat_id=ALICE,
                    created_by=ALICE,
                    name="news",
                    prompt="Summarize the news",
                    kind=TaskKind.CRON,
                    timezone="Europe/Berlin",
                    next_run_at=NOW,
                    cron="0 10 * * *",
                ),
                now=NOW,
            )
            if other_replica:
                await workers.beat(session, "other-replica", now=NOW, demand=100, share=1.0)
    finally:
        await database.dispose()
    limiter = RecordingLimiter()
    runtime = build_runtime(
        bot_settings(fake, llm, url), clock=clock, rate_limiter=limiter, retry_backoff=QUICK_RETRIES
    )
    await runtime.start()
    try:
        await fake.wait_for_message(chat, lambda message: "summary" in message.text)
    finally:
        await runtime.stop()
    return limiter


async def test_a_replica_starting_beside_one_that_sends_at_the_whole_rate_sends_at_what_is_free(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str
) -> None:
    limiter = await start_with_a_result_due(fake, llm, pg_url, other_replica=True)
    shares = limiter.shares_before_the_first_message()
    assert shares, limiter.events  # a share was in force before the first message left
    assert shares[-1] == MIN_SHARE  # nothing is free: the least share, not the whole
    assert max(shares) == MIN_SHARE


async def test_a_single_process_on_sqlite_sends_at_the_whole_rate(
    fake: FakeTelegram, llm: FakeLLM, sqlite_url: str
) -> None:
    limiter = await start_with_a_result_due(fake, llm, sqlite_url, other_replica=False)
    assert limiter.shares_before_the_first_message()[-1] == 1.0
