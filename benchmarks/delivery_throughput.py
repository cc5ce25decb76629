"""1,000 tasks in 1,000 chats due in the same minute: how fast do results reach Telegram?

The real bot (PTB Application with cronpilot's rate limiter, engine, runner, LiteLLM client)
against the fake Bot API server with Telegram's limits (30 messages a second overall, about one
a second per chat) and a fake LLM that answers at once. Prints messages delivered per second
(target ≥ 25; Telegram's ceiling is 30) and how many 429 answers the bot provoked (target 0).

    uv run python benchmarks/delivery_throughput.py [--chats 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import time
from datetime import UTC, datetime, timedelta

from common import scratch_database, seed
from sqlalchemy import select

from bot.ratelimit import MessageRateLimiter
from core.logs import configure
from scheduler.llm import LiteLLMClient
from storage.database import create_engine, create_sessionmaker
from storage.migrate import upgrade_to_head
from storage.models import RunRow
from tests.bot_harness import BotUnderTest, FakeClock, bot_settings
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram, RateLimits

DUE = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


async def measure(url: str, chats: int) -> None:
    configure(level="WARNING")
    await upgrade_to_head(url)
    database = create_engine(url)
    await seed(
        create_sessionmaker(database),
        chats=chats,
        tasks=chats,
        next_run_at=[DUE] * chats,
        now=DUE - timedelta(days=1),
    )
    await database.dispose()
    await LiteLLMClient(api_base=None, api_key=None).warm_up()
    gc.collect()
    gc.freeze()

    async with FakeTelegram(rate_limits=RateLimits()) as fake, FakeLLM() as llm:
        for index in range(chats):
            user = fake.user(10_000_000 + index, f"User {index}")
            fake.private_chat(user)
        settings = bot_settings(fake, llm, url, allowed_users="*")
        # Started a second before the instant, so that nothing is due yet.
        clock = FakeClock(DUE - timedelta(seconds=1))
        bot = BotUnderTest(fake, llm, settings, clock, MessageRateLimiter())
        await bot.start()
        try:
            started = time.perf_counter()
            runs = await bot.fire_due(DUE)
            elapsed = time.perf_counter() - started
            async with bot.engine._sessions() as session:
                problems = (
                    await session.execute(
                        select(RunRow.status, RunRow.error, RunRow.delivery_error).where(
                            (RunRow.status != "succeeded") | RunRow.delivery_error.is_not(None)
                        )
                    )
                ).all()
        finally:
            await bot.stop()
        sent = [call for call in fake.calls if call.method.lower() == "sendmessage"]

    print(f"runs claimed and finished: {len(runs)}")
    for problem, count in collections.Counter(problems).most_common(5):
        print(f"  {count} × {problem}")
    print(f"result messages delivered: {len(sent)} in {elapsed:.1f} s")
    print(f"messages per second: {len(sent) / elapsed:.1f} (Telegram allows 30)")
    print(f"429 answers from the Bot API: {fake.rate_limited_count}")
    print(f"other errors from the Bot API: {len(fake.errors) - fake.rate_limited_count}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=1_000)
    arguments = parser.parse_args()
    with scratch_database("cronpilot_bench_delivery") as database_url:
        asyncio.run(measure(database_url, arguments.chats))
