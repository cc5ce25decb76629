"""What the end-to-end tests of targets share (where a task's results go: its chat, a group, a
channel, a destination through Apprise): a JSON webhook that receives results, the bot started
with named destinations, Alice and Bob with their group and channel, and the steps of asking the
bot something. tests/bot/conftest.py registers the fixtures."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.bot_harness import ALICE, BERLIN, BOB, NOW, BotUnderTest, FakeClock, bot_settings
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeMessage, FakeTelegram, FakeUser

GROUP, NEWS = -1001000000001, -1001000000002
HN = "/new every weekday at 9am summarize the top Hacker News stories"
FRIDAY = datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN)
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)
# A destination nothing listens at.
NOWHERE = "json://127.0.0.1:9/never"


class Receiver:
    """A JSON webhook on a local port: answers each POST with the next status (then 200)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.failing = False
        self.attempts = 0
        self.arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """Its Apprise URL, for a destinations file."""
        return f"json://127.0.0.1:{self.port}/hook"

    async def _post(self, request: web.Request) -> web.Response:
        self.attempts += 1
        status = self.statuses.pop(0) if self.statuses else (500 if self.failing else 200)
        if status == 200:
            self.received.append(json.loads(await request.text()))
            self.arrived.set()
        return web.Response(status=status, text="{}")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._post)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    await found.start()
    try:
        yield found
    finally:
        await found.stop()


@asynccontextmanager
async def bot_with_destinations(
    fake: FakeTelegram,
    llm: FakeLLM,
    database_url: str,
    tmp_path: Path,
    destinations: Mapping[str, str],
    **changes: Any,
) -> AsyncIterator[BotUnderTest]:
    """The bot started with DESTINATIONS_CONFIG naming `destinations` (name: Apprise URL) and
    the settings `changes`; stopped after the block."""
    config = tmp_path / "destinations.yaml"
    lines = "".join(f"{name}: {url}\n" for name, url in destinations.items())
    config.write_text(lines, encoding="utf-8")
    settings = bot_settings(fake, llm, database_url, destinations_config=str(config), **changes)
    bot = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


@pytest.fixture
def alice(fake: FakeTelegram) -> FakeUser:
    return fake.user(ALICE, "Alice")


@pytest.fixture
def bob(fake: FakeTelegram) -> FakeUser:
    return fake.user(BOB, "Bob")


@pytest.fixture
def group(fake: FakeTelegram, alice: FakeUser, bob: FakeUser) -> FakeChat:
    """Alice's group, which Bob administers too."""
    return fake.group(GROUP, "Team", owner=alice, admins=[bob])


@pytest.fixture
def news(fake: FakeTelegram, alice: FakeUser) -> FakeChat:
    """Alice's channel @news, where the bot is an administrator."""
    return fake.channel(NEWS, "News", username="news", owner=alice)


async def answer(fake: FakeTelegram, chat: FakeChat, user: FakeUser, text: str) -> str:
    """`user` writes `text` in `chat`; the text of the bot's reply to it."""
    return (await reply_to(fake, chat, user, None, text)).text


async def reply_to(
    fake: FakeTelegram, chat: FakeChat, user: FakeUser, message: FakeMessage | None, text: str
) -> FakeMessage:
    """`user` replies `text` to `message` (None: writes it); the bot's answer to it."""
    since = fake.checkpoint()
    sent = await fake.send_text(chat, user, text, reply_to=message)
    return await fake.wait_for_message(
        chat, lambda m: m.reply_to_message_id == sent.message_id, since=since
    )


def results(fake: FakeTelegram, chat: FakeChat, text: str) -> list[FakeMessage]:
    """The messages in `chat` that contain `text`."""
    return [m for m in fake.messages(chat) if text in m.text]


async def eventually(probe: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await probe():
        assert loop.time() < deadline, "never happened"
        await asyncio.sleep(0.02)
