"""The bot process's CPU for one LiteLLM call and for one Bot API message, without a database.

The two halves of a run that are not the database, each measured alone: `--calls` LiteLLM
calls through `LiteLLMClient` against the fake LLM, and as many results sent through the bot's
delivery (typing…, then the message, as a run posts it) against the fake Bot API without flood
limits. The fakes run in a process of their own, so only the bot's side is counted: CPU time
(`time.process_time`, every thread of the process) divided by the calls, which a loaded machine
disturbs far less than wall-clock figures. `--concurrency` calls are in flight at once, as runs
are in a burst.

    uv run python benchmarks/per_call_cpu.py [--calls 500] [--concurrency 20] [--only llm|bot]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection

from bot.ratelimit import MessageRateLimiter
from bot.telegram_bot import TelegramBot
from core.logs import configure
from scheduler.llm import LiteLLMClient
from tests.fakes.llm import FakeLLM, TextReply
from tests.fakes.records import a_run, a_task
from tests.fakes.telegram import FakeTelegram, RateLimits

MODEL = "gpt-4o-mini"  # in LiteLLM's cost map, so every call is priced
FIRST_CHAT = 10_000_000
ANSWER = "Here is today's summary: nothing new on the three sites you follow."


def serve_fakes(chats: int, connection: Connection) -> None:
    """The far side, in a process of its own: the fake LLM and the fake Bot API (no limits)."""
    asyncio.run(_serve_fakes(chats, connection))


async def _serve_fakes(chats: int, connection: Connection) -> None:
    async with (
        FakeTelegram(rate_limits=RateLimits.unlimited()) as fake,
        FakeLLM(default=lambda request: TextReply(ANSWER, 120, 30)) as llm,
    ):
        for index in range(chats):
            fake.private_chat(fake.user(FIRST_CHAT + index, f"User {index}"))
        connection.send((fake.token, fake.base_url, llm.base_url))
        await asyncio.get_running_loop().run_in_executor(None, connection.recv)


async def cpu_per_call(
    calls: int, concurrency: int, call: Callable[[int], Awaitable[object]]
) -> float:
    """Milliseconds of the process's CPU per call, `concurrency` calls in flight at once
    (after a warm-up round, whose first calls import and open what later calls reuse)."""
    for index in range(concurrency):
        await call(index)
    slots = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with slots:
            await call(index)

    gc.collect()
    cpu = time.process_time()
    await asyncio.gather(*(one(index) for index in range(calls)))
    await asyncio.sleep(0.2)  # what the calls left running in the background (logging) ends
    return (time.process_time() - cpu) / calls * 1000


async def measure(calls: int, concurrency: int, only: str | None) -> None:
    configure(level="WARNING")
    ours, theirs = multiprocessing.Pipe()
    far_side = multiprocessing.get_context("spawn").Process(
        target=serve_fakes, args=(calls, theirs), daemon=True
    )
    far_side.start()
    loop = asyncio.get_running_loop()
    token, telegram_url, llm_url = await loop.run_in_executor(None, ours.recv)
    try:
        if only in (None, "llm"):
            client = LiteLLMClient(api_base=llm_url, api_key="sk-bench-0123456789")
            await client.warm_up()
            gc.collect()
            gc.freeze()

            async def ask(index: int) -> object:
                completion = await client.complete(
                    [{"role": "user", "content": f"Summarise the news, please ({index})."}],
                    model=MODEL,
                    timeout=30,
                )
                assert completion.cost, "every call is priced"
                return completion

            per_call = await cpu_per_call(calls, concurrency, ask)
            print(f"LiteLLM call: {per_call:.2f} ms CPU per call ({calls} calls)")
        if only in (None, "bot"):
            bot = TelegramBot(token, base_url=telegram_url, rate_limiter=MessageRateLimiter())
            await bot.open_delivery(lambda chat_id: _english())

            async def post(index: int) -> object:
                chat_id = FIRST_CHAT + index % calls
                task = a_task(id=index + 1, chat_id=chat_id)
                run = a_run(task, id=index + 1, output=ANSWER)
                async with bot.delivery.working(chat_id):
                    pass
                return await bot.delivery.send_result(task, run, ANSWER)

            try:
                per_call = await cpu_per_call(calls, concurrency, post)
            finally:
                await bot.close_delivery()
            print(f"Bot API result (typing…, sendMessage): {per_call:.2f} ms CPU per result")
    finally:
        ours.send("done")
        far_side.join(10)


async def _english() -> str:
    return "en"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--only", choices=("llm", "bot"), default=None)
    arguments = parser.parse_args()
    asyncio.run(measure(arguments.calls, arguments.concurrency, arguments.only))
