"""WEBAPP_URL: the menu button opens the Mini App, and /tasks in a private chat offers it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.bot_harness import ALICE, BOB, NOW, BotUnderTest, FakeClock, bot_settings, create_task
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.usefixtures("litellm_imported")

WEBAPP = "https://bot.example.com/app/"


@pytest.fixture
async def bot(fake: FakeTelegram, llm: FakeLLM, pg_url: str) -> AsyncIterator[BotUnderTest]:
    settings = bot_settings(fake, llm, pg_url, webapp_url=WEBAPP)
    under_test = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


@pytest.mark.usefixtures("bot")
async def test_menu_button_and_tasks_open_the_dashboard(fake: FakeTelegram) -> None:
    assert fake.menu_buttons[None] == {
        "type": "web_app",
        "text": "Dashboard",
        "web_app": {"url": WEBAPP},
    }
    alice = fake.user(ALICE, "Alice")
    dm = fake.private_chat(alice)
    await create_task(fake, dm, alice, "every weekday at 9am summarize Hacker News")
    await fake.send_text(dm, alice, "/tasks")
    listing = await fake.wait_for_message(dm, lambda m: m.has_button("Open dashboard"))
    dashboard = [b for b in listing.buttons if b.text == "Open dashboard"]
    assert [b.web_app_url for b in dashboard] == [WEBAPP]
    # The task buttons are still there.
    assert any(b.callback_data for b in listing.buttons)

    # Telegram opens Mini Apps from inline buttons in private chats only: none in groups.
    bob = fake.user(BOB, "Bob")
    team = fake.group(-1001234567890, "Team", owner=alice, members=[bob])
    await fake.send_text(team, alice, "/tasks")
    group_listing = await fake.wait_for_message(team)
    assert not group_listing.has_button("Open dashboard")


async def test_without_webapp_url_nothing_changes(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str
) -> None:
    bot = BotUnderTest(fake, llm, bot_settings(fake, llm, pg_url), FakeClock(NOW))
    await bot.start()
    try:
        alice = fake.user(ALICE, "Alice")
        dm = fake.private_chat(alice)
        await fake.send_text(dm, alice, "/tasks")
        listing = await fake.wait_for_message(dm)
        assert not listing.has_button("Open dashboard")
        assert fake.menu_buttons == {}
    finally:
        await bot.stop()
