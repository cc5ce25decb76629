"""While the LLM library loads (seconds, in the background after start), the bot answers what
needs no model at once, and a run started meanwhile waits for the library, it is not refused."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pytest

from application.permissions import Actor
from cronpilot.runtime import YOUNG_COLLECTION_THRESHOLD, build_runtime
from scheduler.llm import Completion, LiteLLMClient
from storage.records import RunStatus
from tests.bot_harness import (
    ALICE,
    BERLIN,
    NOW,
    QUICK_RETRIES,
    FakeClock,
    bot_settings,
    create_task,
    fast_limiter,
)
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.usefixtures("litellm_imported")


class LoadingLLM:
    """The real LiteLLM client behind a library that has not finished loading until `loaded`
    is set: its warm-up and its calls wait for that, as `LiteLLMClient`'s wait for the import."""

    def __init__(self, client: LiteLLMClient) -> None:
        self.client = client
        self.loaded = asyncio.Event()
        self.waiting = 0

    async def warm_up(self) -> None:
        await self.loaded.wait()
        await self.client.warm_up()

    async def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        model: str,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        timeout: float,  # noqa: ASYNC109
    ) -> Completion:
        self.waiting += 1
        await self.loaded.wait()
        return await self.client.complete(
            messages, model=model, tools=tools, tool_choice=tool_choice, timeout=timeout
        )


async def test_the_bot_answers_before_the_library_loads_and_a_run_waits_for_it(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str
) -> None:
    settings = bot_settings(fake, llm, pg_url)
    loading = LoadingLLM(LiteLLMClient.from_settings(settings))
    clock = FakeClock(NOW)
    runtime = build_runtime(
        settings,
        clock=clock,
        llm=loading,
        rate_limiter=fast_limiter(),
        retry_backoff=QUICK_RETRIES,
    )
    alice = fake.user(ALICE, "Alice")
    dm = fake.private_chat(alice)
    gc.set_threshold(700)  # Python's default
    await runtime.start()
    await runtime.take_updates(poll_interval=0, poll_timeout=1)
    try:
        # Collections of the young objects every few thousand allocations, not every 700.
        assert gc.get_threshold()[0] == YOUNG_COLLECTION_THRESHOLD
        # Commands and a card the rules read need no model.
        await fake.send_text(dm, alice, "/start")
        greeting = await fake.wait_for_message(dm)
        assert "Europe/Berlin" in greeting.text
        task_id = await create_task(fake, dm, alice, "every day at 9am tell me a joke")

        # A run due now waits for the library; nothing reached the model, nothing was sent.
        llm.reply_text("A joke")
        since = fake.checkpoint()
        clock.current = datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN)
        [claim] = await runtime.engine.claim_due()
        for _ in range(200):
            if loading.waiting:
                break
            await asyncio.sleep(0.01)
        assert loading.waiting == 1
        assert llm.requests == []
        assert runtime.engine.in_flight == 1

        # The library loaded: the run goes on and its result arrives.
        loading.loaded.set()
        await fake.wait_for_message(dm, lambda m: "A joke" in m.text, since=since)
        await runtime.engine.wait_idle()
        [run] = await runtime.use_cases.runs.history(Actor.operator(), task_id, limit=1)
        assert run.id == claim.run.id
        assert run.status is RunStatus.SUCCEEDED
    finally:
        loading.loaded.set()
        await runtime.stop_updates()
        await runtime.stop()
