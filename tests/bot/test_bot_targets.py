"""End to end: targets. /target N sets where a task's results go (its chat, a channel, a JSON
webhook through Apprise); each target is delivered, retried and recorded on its own, and a
restart sends each only what it is still owed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.metrics import REGISTRY
from scheduler.runner import targets as target_runner
from storage.records import DeliveryState
from tests.bot.targets_harness import (
    FRIDAY,
    GROUP,
    HN,
    MONDAY,
    NOWHERE,
    Receiver,
    answer,
    bot_with_destinations,
    eventually,
    results,
)
from tests.bot_harness import OPERATOR, BotUnderTest, create_task
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser

pytestmark = pytest.mark.usefixtures("litellm_imported")


@pytest.fixture
async def bot(
    fake: FakeTelegram, llm: FakeLLM, database_url: str, receiver: Receiver, tmp_path: Path
) -> AsyncIterator[BotUnderTest]:
    destinations = {"hook": receiver.url, "team-slack": NOWHERE}
    async with bot_with_destinations(fake, llm, database_url, tmp_path, destinations) as bot:
        yield bot


async def test_results_go_to_the_chat_and_a_channel_and_a_webhook_at_once(
    bot: BotUnderTest,
    fake: FakeTelegram,
    llm: FakeLLM,
    group: FakeChat,
    news: FakeChat,
    alice: FakeUser,
    receiver: Receiver,
) -> None:
    task_id = await create_task(fake, group, alice, HN)
    said = await answer(fake, group, alice, f"/target {task_id} here @news hook")
    assert f"Task #{task_id} posts to this chat · @news · hook" in said
    assert "json://" not in said
    card = await answer(fake, group, alice, f"/task {task_id}")
    assert "this chat · @news · hook" in card

    def delivered(kind: str) -> float:
        found = REGISTRY.get_sample_value(
            "cronpilot_deliveries_total", {"target": kind, "outcome": "delivered"}
        )
        return found or 0.0

    before = {kind: delivered(kind) for kind in ("chat", "telegram", "destination")}
    llm.reply_text("friday digest")
    await bot.fire_due(FRIDAY)
    assert {kind: delivered(kind) - count for kind, count in before.items()} == {
        "chat": 1,
        "telegram": 1,
        "destination": 1,
    }
    assert len(results(fake, group, "friday digest")) == 1
    [copy] = results(fake, news, "friday digest")
    assert copy.buttons == []
    assert len(receiver.received) == 1
    assert "friday digest" in receiver.received[0]["message"]

    history = await answer(fake, group, alice, f"/history {task_id}")
    assert "✓ this chat · ✓ @news · ✓ hook" in history
    [run, *_] = await bot.history(GROUP, task_id)
    assert not run.delivery_pending


async def test_refusals_change_nothing(
    bot: BotUnderTest,
    fake: FakeTelegram,
    group: FakeChat,
    news: FakeChat,
    alice: FakeUser,
    bob: FakeUser,
) -> None:
    task_id = await create_task(fake, group, alice, HN)
    # Bob manages the group but is no admin of the channel.
    said = await answer(fake, group, bob, f"/target {task_id} here @news")
    assert "Only an administrator of @news" in said
    # The bot may not post in a channel where it is no admin.
    quiet = fake.channel(-1001000000003, "Quiet", username="quiet", owner=alice, bot_is_admin=False)
    assert quiet.type == "channel"
    said = await answer(fake, group, alice, f"/target {task_id} @quiet")
    assert "I may not post in @quiet" in said
    said = await answer(fake, group, alice, f"/target {task_id} nowhere")
    assert "I can't find nowhere" in said
    assert "hook, team-slack" in said
    [task] = await bot.tasks_of(GROUP)
    assert task.targets == ()


async def test_a_failing_webhook_is_retried_without_holding_back_the_others(
    bot: BotUnderTest,
    fake: FakeTelegram,
    llm: FakeLLM,
    group: FakeChat,
    news: FakeChat,
    alice: FakeUser,
    receiver: Receiver,
) -> None:
    task_id = await create_task(fake, group, alice, HN)
    await answer(fake, group, alice, f"/target {task_id} here @news hook")
    receiver.statuses = [500, 500]
    llm.reply_text("friday digest")
    await bot.fire_due(FRIDAY)
    assert len(receiver.received) == 1
    assert receiver.attempts == 3
    assert len(results(fake, news, "friday digest")) == 1
    assert len(results(fake, group, "friday digest")) == 1
    history = await answer(fake, group, alice, f"/history {task_id}")
    assert "✓ hook" in history


async def test_a_restart_sends_each_target_only_what_it_still_owes(
    bot: BotUnderTest,
    fake: FakeTelegram,
    llm: FakeLLM,
    group: FakeChat,
    news: FakeChat,
    alice: FakeUser,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The quick test backoff would give the webhook up after about 2 s; on a loaded machine
    # that can come before the restart, which is what this test is about.
    monkeypatch.setattr(target_runner, "TARGET_ATTEMPTS", 10_000)
    task_id = await create_task(fake, group, alice, HN)
    await answer(fake, group, alice, f"/target {task_id} here @news hook")
    receiver.failing = True
    llm.reply_text("friday digest")
    bot.clock.current = FRIDAY
    await bot.engine.claim_due()

    async def retrying() -> bool:
        [run, *_] = await bot.history(GROUP, task_id)
        assert bot.runtime is not None
        copies = await bot.runtime.use_cases.targets.outcomes(OPERATOR, task_id, [run.id])
        states = {copy.label: copy.state for copy in copies.get(run.id, [])}
        return states.get("hook") is DeliveryState.RETRYING and states.get("@news") is (
            DeliveryState.SENT
        )

    await eventually(retrying)
    await bot.restart()
    receiver.failing = False
    await asyncio.wait_for(receiver.arrived.wait(), 10)
    await bot.engine.wait_idle()
    assert len(receiver.received) == 1
    assert len(results(fake, news, "friday digest")) == 1
    assert len(results(fake, group, "friday digest")) == 1
    [run, *_] = await bot.history(GROUP, task_id)
    assert not run.delivery_pending


async def test_a_channel_that_stops_taking_results_is_told_once(
    bot: BotUnderTest,
    fake: FakeTelegram,
    llm: FakeLLM,
    group: FakeChat,
    news: FakeChat,
    alice: FakeUser,
) -> None:
    task_id = await create_task(fake, group, alice, HN)
    await answer(fake, group, alice, f"/target {task_id} here @news")
    news.bot_is_admin = False
    for day, text in ((FRIDAY, "friday digest"), (MONDAY, "monday digest")):
        llm.reply_text(text)
        await bot.fire_due(day)
        assert len(results(fake, group, text)) == 1
    notices = results(fake, group, "could not post its result to @news")
    assert len(notices) == 1
    history = await answer(fake, group, alice, f"/history {task_id}")
    assert "✗ @news" in history
