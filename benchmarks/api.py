"""HTTP API latency: listing a chat's tasks when it has 1,000 of them, and parsing a request.

The whole bot runs against the fake Bot API and a fake model on a scratch PostgreSQL
database; a token comes from /token as a person gets one. 1,000 tasks are written into
Alice's chat, then GET /api/v1/tasks?chat_id=…&page=N (pages spread over the whole list) and
POST /api/v1/parse (a request the rules parser reads, so no model call) are each timed
SAMPLES times through the ASGI app in process (the API's own work: token check, database,
JSON; no socket). The per-caller rate limit is lifted for the run, as it would only answer 429.
Target: p95 ≤ 50 ms for both.

The requests are timed once the bot has loaded the LLM library, as in a bot that has been up
for more than a few seconds. With --while-loading they are timed while it loads in the
background (it shares the interpreter, and so the event loop's time, for some seconds after
start), which is where the tail of earlier measurements came from.

    uv run python benchmarks/api.py [--while-loading]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import time
from datetime import UTC, datetime

import httpx
from common import percentile, scratch_database
from sqlalchemy import insert

from storage.database import create_engine, create_sessionmaker
from storage.migrate import upgrade_to_head
from storage.models import TaskRow
from tests.bot_harness import ALICE, BotUnderTest, bot_settings
from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram, RateLimits
from tests.web.api_harness import token_for
from web.api import build_api
from web.ratelimit import SignInLimiter

TASKS = 1_000
SAMPLES = 300
TARGET_P95_MS = 50.0
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


async def add_tasks(database_url: str, chat_id: int) -> None:
    engine = create_engine(database_url)
    try:
        sessions = create_sessionmaker(engine)
        async with sessions() as session, session.begin():
            await session.execute(
                insert(TaskRow),
                [
                    {
                        "chat_id": chat_id,
                        "created_by": chat_id,
                        "name": f"task {i}",
                        "prompt": "Summarize the news",
                        "kind": "cron",
                        "cron": "0 9 * * *",
                        "timezone": "UTC",
                        "state": "active",
                        "next_run_at": NOW,
                        "consecutive_failures": 0,
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for i in range(TASKS)
                ],
            )
    finally:
        await engine.dispose()


async def timed(call: object, count: int) -> list[float]:
    seconds = []
    for i in range(count):
        started = time.perf_counter()
        response = await call(i)  # type: ignore[operator]
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return seconds


def line(label: str, seconds: list[float]) -> str:
    p50, p95 = percentile(seconds, 0.5) * 1000, percentile(seconds, 0.95) * 1000
    verdict = "met" if p95 <= TARGET_P95_MS else "MISSED"
    target = f"target p95 ≤ {TARGET_P95_MS:.0f} ms: {verdict}"
    return f"{label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({target})"


async def main(database_url: str, *, while_loading: bool) -> None:
    await upgrade_to_head(database_url)
    async with FakeTelegram(rate_limits=RateLimits.unlimited()) as fake, FakeLLM() as llm:
        bot = BotUnderTest(
            fake, llm, bot_settings(fake, llm, database_url, http_port=0), FakeClock(NOW)
        )
        runtime = await bot.start()
        try:
            token = await token_for(fake, fake.user(ALICE, "Alice"))
            await add_tasks(database_url, ALICE)
            if not while_loading:
                await runtime.llm.warm_up()  # the load the runtime started; idle before timing
            door = runtime.api_door
            assert door is not None
            app = build_api(dataclasses.replace(door, rate_limiter=SignInLimiter(burst=10**9)))
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://cronpilot.test",
                headers={"Authorization": f"Bearer {token}"},
            ) as api:
                first = (await api.get("/tasks", params={"chat_id": ALICE})).json()
                assert first["total"] == TASKS, first["total"]
                pages = first["pages"]

                async def list_page(i: int) -> httpx.Response:
                    return await api.get("/tasks", params={"chat_id": ALICE, "page": 1 + i % pages})

                async def parse(i: int) -> httpx.Response:
                    return await api.post(
                        "/parse", json={"text": f"every day at {7 + i % 12}:30 check the news"}
                    )

                await timed(list_page, 20)  # warm-up
                await timed(parse, 20)
                listing = await timed(list_page, SAMPLES)
                parsing = await timed(parse, SAMPLES)
            print(f"{TASKS} tasks in one chat, {pages} pages, {SAMPLES} requests each")
            print(line("GET /api/v1/tasks (a page)", listing))
            print(line("POST /api/v1/parse (rules)", parsing))
        finally:
            await bot.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--while-loading", action="store_true")
    arguments = parser.parse_args()
    with scratch_database("cronpilot_bench_api") as url:
        asyncio.run(main(url, while_loading=arguments.while_loading))
