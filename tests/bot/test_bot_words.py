"""End to end: where results go and which model runs a task, asked for in words. A reply to a
task ("also post this to @news", "use the fast model") gets a change card that Confirm applies
through the same checks as /target N and /model N; a request chooses its model ("… with the
smart model"), and the words that chose it leave the prompt."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.records import Target, TargetKind
from tests.bot.targets_harness import (
    FRIDAY,
    GROUP,
    HN,
    NOWHERE,
    bot_with_destinations,
    reply_to,
)
from tests.bot_harness import ALICE, NOW, BotUnderTest, create_task
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeMessage, FakeTelegram, FakeUser

pytestmark = pytest.mark.usefixtures("litellm_imported")

MODELS = "fast=openai/fast-model,smart=openai/smart-model"
DESTINATIONS = {"team-slack": NOWHERE}


@pytest.fixture
async def bot(
    fake: FakeTelegram, llm: FakeLLM, database_url: str, tmp_path: Path
) -> AsyncIterator[BotUnderTest]:
    async with bot_with_destinations(
        fake, llm, database_url, tmp_path, DESTINATIONS, models=MODELS
    ) as bot:
        yield bot


@pytest.fixture
def dm(fake: FakeTelegram, alice: FakeUser) -> FakeChat:
    return fake.private_chat(alice)


async def a_result(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, chat: FakeChat, user: FakeUser, text: str
) -> tuple[int, FakeMessage]:
    """A task made from `text`, run once: its id and its result."""
    task_id = await create_task(fake, chat, user, text)
    llm.reply_text("first digest")
    since = fake.checkpoint()
    await fake.send_text(chat, user, f"/run {task_id}")
    result = await fake.wait_for_message(chat, lambda m: "first digest" in m.text, since=since)
    await bot.engine.wait_idle()
    return task_id, result


async def confirm(fake: FakeTelegram, chat: FakeChat, user: FakeUser, card: FakeMessage) -> str:
    """`user` presses Confirm on a change card: the alert's text, or the card as it became."""
    since = fake.checkpoint()
    query = await fake.press(chat, user, card, "Confirm")
    answered = await fake.wait_for_callback_answer(query)
    if answered.show_alert:
        return answered.text or ""
    changed = await fake.wait_for_message(
        chat, lambda m: m.message_id == card.message_id and "is changed" in m.text, since=since
    )
    return changed.text


async def targets_of(bot: BotUnderTest, chat_id: int) -> tuple[Target, ...]:
    [task] = await bot.tasks_of(chat_id)
    return task.destinations


async def test_also_posting_to_a_channel_in_words_sends_the_next_result_to_both(
    bot: BotUnderTest,
    fake: FakeTelegram,
    llm: FakeLLM,
    group: FakeChat,
    news: FakeChat,
    alice: FakeUser,
) -> None:
    task_id, result = await a_result(bot, fake, llm, group, alice, HN)
    asked = len(llm.requests)
    card = await reply_to(fake, group, alice, result, "also post this to @news")
    assert f"Change task #{task_id}?" in card.text
    assert "Now posts to: this chat" in card.text
    assert "Will post to: this chat · @news" in card.text
    assert card.button_labels == ["✅ Confirm", "✖️ Cancel"]
    assert len(llm.requests) == asked  # the rules read it: no model asked
    assert await targets_of(bot, GROUP) == (Target(TargetKind.CHAT),)  # nothing before Confirm

    changed = await confirm(fake, group, alice, card)
    assert "this chat · @news" in changed
    assert [target.label for target in await targets_of(bot, GROUP)] == ["chat", "@news"]

    llm.reply_text("friday digest")
    await bot.fire_due(FRIDAY)
    assert len([m for m in fake.messages(group) if "friday digest" in m.text]) == 1
    assert len([m for m in fake.messages(news) if "friday digest" in m.text]) == 1

    # "stop posting to @news" takes it away again; the chat stays.
    card = await reply_to(fake, group, alice, result, "stop posting to @news")
    assert "Will post to: this chat" in card.text
    await confirm(fake, group, alice, card)
    assert await targets_of(bot, GROUP) == (Target(TargetKind.CHAT),)
    assert fake.errors == []


async def test_someone_who_is_no_admin_of_the_channel_is_refused_and_nothing_changes(
    bot: BotUnderTest,
    fake: FakeTelegram,
    llm: FakeLLM,
    group: FakeChat,
    news: FakeChat,
    alice: FakeUser,
    bob: FakeUser,
) -> None:
    _, result = await a_result(bot, fake, llm, group, alice, HN)
    # Bob manages the group but is no admin of @news: refused when he asks …
    said = await reply_to(fake, group, bob, result, "also post this to @news")
    assert "Only an administrator of @news may send results there" in said.text
    assert said.buttons == []
    # … and when he confirms Alice's proposal.
    card = await reply_to(fake, group, alice, result, "send results here and to @news")
    assert "Will post to: this chat · @news" in card.text
    alert = await confirm(fake, group, bob, card)
    assert "Only an administrator of @news" in alert
    assert await targets_of(bot, GROUP) == (Target(TargetKind.CHAT),)
    # The card stays for someone who may: Alice.
    changed = await confirm(fake, group, alice, card)
    assert "this chat · @news" in changed
    # A target the task already has stays as it is: Bob may add a destination and take
    # @news away without administering it.
    card = await reply_to(fake, group, bob, result, "also post this to team-slack")
    assert "Will post to: this chat · @news · team-slack" in card.text
    await confirm(fake, group, bob, card)
    assert [t.label for t in await targets_of(bot, GROUP)] == ["chat", "@news", "team-slack"]
    card = await reply_to(fake, group, bob, result, "stop posting to @news")
    await confirm(fake, group, bob, card)
    assert [t.label for t in await targets_of(bot, GROUP)] == ["chat", "team-slack"]
    assert fake.errors == []


async def test_destinations_by_name_and_clear_answers_for_what_cannot_be(
    bot: BotUnderTest,
    fake: FakeTelegram,
    llm: FakeLLM,
    group: FakeChat,
    alice: FakeUser,
) -> None:
    task_id, result = await a_result(bot, fake, llm, group, alice, HN)
    said = await reply_to(fake, group, alice, result, "post this to nowhere instead")
    assert "I can't find nowhere" in said.text
    assert "team-slack" in said.text
    said = await reply_to(fake, group, alice, result, "stop posting to team-slack")
    assert "does not post to team-slack" in said.text
    said = await reply_to(fake, group, alice, result, "stop posting here")
    assert "would then post nowhere" in said.text
    said = await reply_to(fake, group, alice, result, "send it here")
    assert "already posts exactly there" in said.text

    card = await reply_to(fake, group, alice, result, "post this to team-slack instead")
    assert "Will post to: team-slack" in card.text
    # Targets set meanwhile make the card outdated: it applies nothing.
    since = fake.checkpoint()
    await fake.send_text(group, alice, f"/target {task_id} here team-slack")
    await fake.wait_for_message(group, lambda m: "posts to" in m.text, since=since)
    alert = await confirm(fake, group, alice, card)
    assert "was changed after this card was made" in alert
    assert [t.label for t in await targets_of(bot, GROUP)] == ["chat", "team-slack"]
    card = await reply_to(fake, group, alice, result, "post this to team-slack instead")
    await confirm(fake, group, alice, card)
    assert [target.key for target in await targets_of(bot, GROUP)] == ["destination:team-slack"]
    assert fake.errors == []


async def test_the_model_proposes_targets_for_other_languages(
    bot: BotUnderTest,
    fake: FakeTelegram,
    llm: FakeLLM,
    group: FakeChat,
    news: FakeChat,
    alice: FakeUser,
    bob: FakeUser,
) -> None:
    _, result = await a_result(bot, fake, llm, group, alice, HN)
    llm.reply_tool_calls([("propose_change", {"action": "edit", "targets": ["here", "@news"]})])
    card = await reply_to(fake, group, alice, result, "publie aussi ça dans @news")
    function = next(
        tool["function"]
        for tool in llm.requests[-1]["tools"]
        if tool["function"]["name"] == "propose_change"
    )
    assert "fast, smart, or default" in function["description"]
    assert "team-slack" in function["description"]
    system = llm.requests[-1]["messages"][0]["content"]
    assert "Its results go to here; it runs on the default model." in system
    assert "Will post to: this chat · @news" in card.text
    await confirm(fake, group, alice, card)
    assert [target.label for target in await targets_of(bot, GROUP)] == ["chat", "@news"]

    # A new schedule and a new place in one change: refused for Bob (no admin of the new
    # channel), nothing of it is applied; Alice's Confirm applies both at once.
    other = fake.channel(-1001000000003, "Other", username="other", owner=alice)
    assert other.type == "channel"
    llm.reply_tool_calls(
        [
            (
                "propose_change",
                {"action": "edit", "schedule": "every day at 7pm", "targets": ["here", "@other"]},
            )
        ]
    )
    card = await reply_to(fake, group, alice, result, "tous les jours à 19h, et aussi dans @other")
    assert "New: Every day at 19:00" in card.text
    assert "Will post to: this chat · @other" in card.text
    alert = await confirm(fake, group, bob, card)
    assert "Only an administrator of @other" in alert
    [task] = await bot.tasks_of(GROUP)
    assert (task.cron, [t.label for t in task.destinations]) == ("0 9 * * 1-5", ["chat", "@news"])
    await confirm(fake, group, alice, card)
    [task] = await bot.tasks_of(GROUP)
    assert (task.cron, [t.label for t in task.destinations]) == ("0 19 * * *", ["chat", "@other"])

    # A model the model proposes that MODELS lacks is answered with the choices.
    llm.reply_tool_calls([("propose_change", {"action": "edit", "model": "turbo"})])
    said = await reply_to(fake, group, alice, result, "nimm das Turbo-Modell")
    assert "There is no model named turbo. The models are: fast, smart, or default." in said.text
    assert fake.errors == []


async def test_a_request_chooses_its_model_and_a_reply_changes_it(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    since = fake.checkpoint()
    await fake.send_text(dm, alice, "every day at 9 summarize HN with the smart model")
    card = await fake.wait_for_message(dm, lambda m: "Confirm" in m.button_labels[0], since=since)
    assert "Model: smart" in card.text
    assert "Task: Summarize HN\n" in card.text  # the model's words left the prompt
    await fake.press(dm, alice, card, "Confirm")
    await fake.wait_for_message(dm, lambda m: "Scheduled" in m.text, since=since)
    [task] = await bot.tasks_of(ALICE)
    assert (task.prompt, task.model) == ("Summarize HN", "smart")

    llm.reply_text("smart digest")
    result = await bot.fire_due(NOW.replace(day=27))
    assert len(result) == 1
    assert llm.requests[-1]["model"] == "smart-model"
    [answer] = [m for m in fake.messages(dm) if "smart digest" in m.text]

    asked = len(llm.requests)
    card = await reply_to(fake, dm, alice, answer, "use the fast model")
    assert "Model now: smart" in card.text
    assert "New model: fast" in card.text
    assert len(llm.requests) == asked
    changed = await confirm(fake, dm, alice, card)
    assert "Model: fast" in changed
    [task] = await bot.tasks_of(ALICE)
    assert task.model == "fast"
    llm.reply_text("fast digest")
    await bot.fire_due(NOW.replace(day=28))
    assert llm.requests[-1]["model"] == "fast-model"

    said = await reply_to(fake, dm, alice, answer, "use the turbo model")
    assert "There is no model named turbo. The models are: fast, smart, or default." in said.text
    said = await reply_to(fake, dm, alice, answer, "switch to fast")
    assert "already runs on that model" in said.text
    card = await reply_to(fake, dm, alice, answer, "switch to the default model")
    assert "New model: openai/gpt-4o-mini" in card.text
    # The model chosen meanwhile with /model makes the card outdated.
    since = fake.checkpoint()
    await fake.send_text(dm, alice, f"/model {task.id} smart")
    await fake.wait_for_message(dm, lambda m: "now runs on smart" in m.text, since=since)
    assert "was changed after this card was made" in await confirm(fake, dm, alice, card)
    [task] = await bot.tasks_of(ALICE)
    assert task.model == "smart"
    card = await reply_to(fake, dm, alice, answer, "switch to the default model")
    await confirm(fake, dm, alice, card)
    [task] = await bot.tasks_of(ALICE)
    assert task.model is None

    # A model MODELS does not have stays in the prompt, and the card says so.
    since = fake.checkpoint()
    await fake.send_text(dm, alice, "every day at 10 explain attention with the turbo model")
    card = await fake.wait_for_message(dm, lambda m: "Confirm" in m.button_labels[0], since=since)
    assert "There is no model named turbo, so those words stay part of the task." in card.text
    assert "Explain attention with the turbo model" in card.text
    assert fake.errors == []


async def test_without_models_words_about_models_are_not_eaten(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, tmp_path: Path, dm: FakeChat, alice: FakeUser
) -> None:
    async with bot_with_destinations(fake, llm, pg_url, tmp_path, DESTINATIONS) as bot:
        since = fake.checkpoint()
        await fake.send_text(dm, alice, "every day at 9 summarize HN with the smart model")
        card = await fake.wait_for_message(
            dm, lambda m: "Confirm" in m.button_labels[0], since=since
        )
        assert "Summarize HN with the smart model" in card.text
        assert "no models to choose from" in card.text
        task_id, answer = await a_result(
            bot, fake, llm, dm, alice, "every day at 9 summarize the news"
        )
        said = await reply_to(fake, dm, alice, answer, "use the fast model")
        assert "There is no model named fast: this bot has no models to choose from" in said.text
        [task] = [task for task in await bot.tasks_of(ALICE) if task.id == task_id]
        assert task.model is None
        assert fake.errors == []
