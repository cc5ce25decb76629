"""The real bot (PTB Application, engine, runner, use cases) against fake Telegram and LLM servers.

Everything is real except the two servers at the far ends and the clock, which the test moves:
the PTB Application long-polls the fake Bot API over HTTP and the runner calls the fake
OpenAI-compatible server through LiteLLM.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import BaseRateLimiter

from application.permissions import Actor
from bot.callbacks import ButtonData, ConfirmDraft, RunTask
from bot.ratelimit import MessageRateLimiter
from core.settings import Settings, load_settings
from cronpilot.runtime import Runtime, build_runtime
from scheduler.engine import TaskNotFoundError
from storage.records import Run, Task
from storage.retry import Backoff
from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeMessage, FakeTelegram, FakeUser

BERLIN = ZoneInfo("Europe/Berlin")
# A Thursday, as in the product brief's examples.
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN)
ALICE, BOB, CAROL, MALLORY = 111, 222, 333, 666
# Tests look at what the bot stored as the operator does.
OPERATOR = Actor.operator()


async def create_task(fake: FakeTelegram, chat: FakeChat, user: FakeUser, text: str) -> int:
    """Send a request, press Confirm on its card, return the new task's id (in any language:
    the buttons are found by what they do, not by their labels)."""
    await fake.send_text(chat, user, text)
    card = await fake.wait_for_message(chat, lambda m: _data(m, ConfirmDraft) is not None)
    confirm = _data(card, ConfirmDraft)
    assert confirm is not None
    since = fake.checkpoint()
    await fake.press_data(chat, user, card, confirm)
    scheduled = await fake.wait_for_message(
        chat,
        lambda m: m.message_id == card.message_id and _data(m, RunTask) is not None,
        since=since,
    )
    run = RunTask.unpack(_data(scheduled, RunTask))
    assert run is not None
    return run.task_id


async def answer_to(fake: FakeTelegram, chat: FakeChat, sent: FakeMessage) -> FakeMessage:
    """The bot's first message after `sent`."""
    return await fake.wait_for_message(
        chat, lambda m: m.message_id > sent.message_id and m.sender.id == fake.bot.id
    )


def _data(message: FakeMessage, kind: type[ButtonData]) -> str | None:
    """The callback data of the message's first button of this kind."""
    for button in message.buttons:
        if kind.matches(button.callback_data):
            return button.callback_data
    return None


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
        """The chat's tasks, as the operator sees them."""
        assert self.runtime is not None
        return await self.runtime.use_cases.tasks.every_chat(OPERATOR, chat_id=chat_id)

    async def history(self, chat_id: int, task_id: int) -> list[Run]:
        """The task's runs, as the operator sees them (it must be the chat's)."""
        assert self.runtime is not None
        app = self.runtime.use_cases
        if (await app.tasks.get(OPERATOR, task_id)).chat_id != chat_id:
            raise TaskNotFoundError(task_id)
        return await app.runs.history(OPERATOR, task_id, limit=100)
