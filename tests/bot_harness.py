"""The real bot (PTB Application, engine, runner, use cases) against fake Telegram and LLM servers.

Everything is real except the two servers at the far ends and the clock, which the test moves:
the PTB Application long-polls the fake Bot API over HTTP and the runner calls the fake
OpenAI-compatible server through LiteLLM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import BaseRateLimiter

from bot.ratelimit import MessageRateLimiter
from core.settings import Settings, load_settings
from cronpilot.runtime import Runtime, build_runtime
from storage.records import Run, Task
from storage.retry import Backoff
from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser

BERLIN = ZoneInfo("Europe/Berlin")
# A Thursday, as in the product brief's examples.
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN)
ALICE, BOB, CAROL, MALLORY = 111, 222, 333, 666


async def create_task(fake: FakeTelegram, chat: FakeChat, user: FakeUser, text: str) -> int:
    """Send a request, press Confirm on its card, return the new task's id."""
    await fake.send_text(chat, user, text)
    card = await fake.wait_for_message(chat, lambda m: m.has_button("Confirm"))
    await fake.press(chat, user, card, "Confirm")
    scheduled = await fake.wait_for_message(chat, lambda m: "Scheduled" in m.text)
    found = re.search(r"task #(\d+)", scheduled.text)
    assert found is not None
    return int(found.group(1))


def bot_settings(fake: FakeTelegram, llm: FakeLLM, database_url: str, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": fake.token,
        "telegram_api_base_url": fake.base_url,
        "database_url": database_url,
        "llm_api_base": llm.base_url,
        "llm_api_key": "sk-test-e2e-key-0123456789",
        "allowed_users": f"{ALICE},{BOB},{CAROL}",
        "default_timezone": "Europe/Berlin",
        "parser_model": "off",
        "run_timeout_seconds": 10,
        # Flow tests send many messages at one fake instant; the limit has its own tests.
        "user_messages_per_minute": 10_000,
    }
    values.update(changes)
    return load_settings(**values)


def fast_limiter() -> MessageRateLimiter:
    """No pacing: flow tests exchange a handful of messages with an unlimited fake."""
    return MessageRateLimiter(overall=None, per_group=None, per_chat=None)


# Database work and deliveries are retried within a second, not after the production waits.
QUICK_RETRIES = Backoff(first=0.05, longest=0.5)


@dataclass
class BotUnderTest:
    fake: FakeTelegram
    llm: FakeLLM
    settings: Settings
    clock: FakeClock
    rate_limiter: BaseRateLimiter[Any] | None = None
    runtime: Runtime | None = field(default=None, init=False)

    async def start(self) -> Runtime:
        self.runtime = build_runtime(
            self.settings,
            clock=self.clock,
            rate_limiter=self.rate_limiter or fast_limiter(),
            retry_backoff=QUICK_RETRIES,
        )
        await self.runtime.start()
        await self.runtime.take_updates(poll_interval=0, poll_timeout=1)
        return self.runtime

    async def stop(self) -> None:
        if self.runtime is None:
            return
        await self.runtime.stop_updates()
        await self.runtime.stop()
        self.runtime = None

    async def restart(self) -> Runtime:
        await self.stop()
        return await self.start()

    @property
    def engine(self) -> Any:
        assert self.runtime is not None
        return self.runtime.engine

    async def fire_due(self, at: datetime) -> list[Run]:
        """Move the clock to `at`, let the engine claim what is due and run it to the end."""
        self.clock.current = at
        claims = await self.engine.claim_due()
        await self.engine.wait_idle()
        return [claim.run for claim in claims]

    async def tasks_of(self, chat_id: int) -> list[Task]:
        assert self.runtime is not None
        app = self.runtime.services.app
        first = await app.tasks.list(chat_id)
        found = list(first.tasks)
        for number in range(1, first.pages):
            found.extend((await app.tasks.list(chat_id, page=number)).tasks)
        return found

    async def history(self, chat_id: int, task_id: int) -> list[Run]:
        assert self.runtime is not None
        return await self.runtime.services.app.runs.history(chat_id, task_id, limit=100)
