"""End to end: replies to results and task cards, follow-up questions and changes in words."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from storage.database import create_engine, create_sessionmaker
from storage.models import FollowupRow
from storage.records import RunStatus, TaskState
from tests.bot_harness import (
    ALICE,
    BOB,
    NOW,
    BotUnderTest,
    FakeClock,
    bot_settings,
    create_task,
)
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeMessage, FakeTelegram, FakeUser

pytestmark = pytest.mark.usefixtures("litellm_imported")

HN = "every weekday at 9am summarize the top Hacker News stories"
DIGEST = "**1.** Rust 2.0 released\n**2.** A new SQLite storage engine\n**3.** Show HN: a tiny CPU"


@pytest.fixture
async def bot(fake: FakeTelegram, llm: FakeLLM, pg_url: str) -> AsyncIterator[BotUnderTest]:
    under_test = BotUnderTest(fake, llm, bot_settings(fake, llm, pg_url), FakeClock(NOW))
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


@pytest.fixture
def alice(fake: FakeTelegram) -> FakeUser:
    return fake.user(ALICE, "Alice")


@pytest.fixture
def dm(fake: FakeTelegram, alice: FakeUser) -> FakeChat:
    return fake.private_chat(alice)


async def digest_result(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, chat: FakeChat, user: FakeUser
) -> tuple[int, FakeMessage]:
    """A task, run once: its id and its result message."""
    task_id = await create_task(fake, chat, user, HN)
    llm.reply_text(DIGEST, prompt_tokens=300, completion_tokens=40)
    await fake.send_text(chat, user, f"/run {task_id}")
    result = await fake.wait_for_message(chat, lambda m: "Rust 2.0" in m.text)
    await bot.engine.wait_idle()
    return task_id, result


async def reply_to(
    fake: FakeTelegram, chat: FakeChat, user: FakeUser, message: FakeMessage, text: str
) -> tuple[FakeMessage, FakeMessage]:
    """`user` replies `text` to `message`; returns their message and the bot's reply to it."""
    sent = await fake.send_text(chat, user, text, reply_to=message)
    answer = await fake.wait_for_message(chat, lambda m: m.reply_to_message_id == sent.message_id)
    return sent, answer


async def answer_recorded(url: str, message: FakeMessage) -> None:
    """Wait until the bot has recorded which message carries its answer: it does so right
    after sending, and a reply quicker than that would not find its thread."""
    async with asyncio.timeout(5):
        while not any(  # noqa: ASYNC110 - the database has no event to wait on
            row.message_id == message.message_id for row in await followup_rows(url)
        ):
            await asyncio.sleep(0.02)


def contents(request: dict[str, Any], role: str) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == role]


def tool_names(request: dict[str, Any]) -> list[str]:
    return [tool["function"]["name"] for tool in request.get("tools", [])]


async def followup_rows(url: str) -> list[FollowupRow]:
    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            return list((await session.execute(select(FollowupRow))).scalars())
    finally:
        await engine.dispose()


async def test_followup_question_is_answered_with_the_result_as_context(
    bot: BotUnderTest,
    fake: FakeTelegram,
    llm: FakeLLM,
    dm: FakeChat,
    alice: FakeUser,
    pg_url: str,
) -> None:
    task_id, result = await digest_result(bot, fake, llm, dm, alice)
    asked = len(llm.requests)
    actions = len(fake.chat_actions(dm))

    llm.reply_text("The **second** one: *A new SQLite storage engine*.", prompt_tokens=70)
    question, answer = await reply_to(fake, dm, alice, result, "which one is about databases?")
    assert answer.text == "The second one: A new SQLite storage engine."
    assert "second" in answer.entity_texts("bold")
    [request] = llm.requests[asked:]
    # The model got the task, that run's answer and the question, with the task's tools.
    system = contents(request, "system")[0]
    assert f"task #{task_id}" in system
    assert "Summarize the top Hacker News stories" in system
    assert contents(request, "assistant") == [DIGEST]
    assert contents(request, "user")[-1] == "which one is about databases?"
    assert {"web_fetch", "current_time", "propose_change"} <= set(tool_names(request))
    assert "typing" in fake.chat_actions(dm)[actions:]

    # A reply to the answer continues the thread.
    await answer_recorded(pg_url, answer)
    llm.reply_text("Rust 2.0.")
    _, second = await reply_to(fake, dm, alice, answer, "and the first?")
    assert second.text == "Rust 2.0."
    request = llm.requests[-1]
    assert contents(request, "assistant") == [
        DIGEST,
        "The **second** one: *A new SQLite storage engine*.",
    ]
    assert contents(request, "user")[-2:] == ["which one is about databases?", "and the first?"]

    # Both are recorded, with their tokens, against the task and its run; no task was created.
    rows = sorted(await followup_rows(pg_url), key=lambda row: row.id)
    assert [(row.question, row.status, row.task_id) for row in rows] == [
        ("which one is about databases?", RunStatus.SUCCEEDED, task_id),
        ("and the first?", RunStatus.SUCCEEDED, task_id),
    ]
    assert rows[0].prompt_tokens == 70
    assert rows[0].message_id == answer.message_id
    assert rows[1].parent_id == rows[0].id
    assert rows[0].run_id == rows[1].run_id is not None
    assert [task.id for task in await bot.tasks_of(ALICE)] == [task_id]
    assert question.reply_to_message_id == result.message_id
    assert fake.errors == []


async def test_a_reply_with_a_schedule_changes_the_same_task_after_confirm(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id, result = await digest_result(bot, fake, llm, dm, alice)
    asked = len(llm.requests)

    _, card = await reply_to(fake, dm, alice, result, "only on weekdays at 8am")
    assert f"Change task #{task_id}?" in card.text
    assert "Now: Monday to Friday at 09:00 (0 9 * * 1-5)" in card.text
    assert "New: Monday to Friday at 08:00 (0 8 * * 1-5)" in card.text
    assert re.findall(r"• (.+)", card.text) == [
        "Fri 27 Nov 2026 08:00 CET",
        "Mon 30 Nov 2026 08:00 CET",
        "Tue 01 Dec 2026 08:00 CET",
    ]
    assert card.button_labels == ["✅ Confirm", "✖️ Cancel"]
    assert len(llm.requests) == asked  # a schedule phrase needs no model
    # Nothing changes before Confirm.
    [task] = await bot.tasks_of(ALICE)
    assert task.cron == "0 9 * * 1-5"

    query = await fake.press(dm, alice, card, "Confirm")
    assert (await fake.wait_for_callback_answer(query)).text == f"Task #{task_id} changed"
    changed = await fake.wait_for_message(dm, lambda m: "is changed" in m.text)
    assert changed.message_id == card.message_id
    assert "0 8 * * 1-5" in changed.text
    [task] = await bot.tasks_of(ALICE)
    assert (task.id, task.cron, task.state) == (task_id, "0 8 * * 1-5", TaskState.ACTIVE)
    assert task.prompt == "Summarize the top Hacker News stories"
    assert len(await bot.history(ALICE, task_id)) == 1  # its history is kept

    # The task card (/task N) takes a change the same way.
    await fake.send_text(dm, alice, f"/task {task_id}")
    detail = await fake.wait_for_message(dm, lambda m: m.text.startswith(f"Task #{task_id}"))
    _, card = await reply_to(fake, dm, alice, detail, "every day at 7pm")
    assert "New: Every day at 19:00 (0 19 * * *)" in card.text
    await fake.press(dm, alice, card, "Confirm")
    await fake.wait_for_message(dm, lambda m: "is changed" in m.text)
    [task] = await bot.tasks_of(ALICE)
    assert (task.id, task.cron) == (task_id, "0 19 * * *")
    assert fake.errors == []


async def test_a_reply_changes_the_prompt_through_the_model(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id, result = await digest_result(bot, fake, llm, dm, alice)
    shorter = "Summarize the top 3 Hacker News stories in three short bullet points"
    llm.reply_tool_calls([("propose_change", {"action": "edit", "prompt": shorter})])
    _, card = await reply_to(fake, dm, alice, result, "shorter, three bullet points")
    request = llm.requests[-1]
    assert contents(request, "assistant") == [DIGEST]
    assert contents(request, "user")[-1] == "shorter, three bullet points"
    parameters = next(
        tool["function"]["parameters"]
        for tool in request["tools"]
        if tool["function"]["name"] == "propose_change"
    )
    assert set(parameters["properties"]) == {
        "action",
        "schedule",
        "cron",
        "prompt",
        "targets",
        "model",
    }
    assert "Now: Summarize the top Hacker News stories" in card.text
    assert f"New: {shorter}" in card.text
    assert "Monday to Friday at 09:00" in card.text  # the schedule stays
    [task] = await bot.tasks_of(ALICE)
    assert task.prompt == "Summarize the top Hacker News stories"

    await fake.press(dm, alice, card, "Confirm")
    await fake.wait_for_message(dm, lambda m: "is changed" in m.text)
    [task] = await bot.tasks_of(ALICE)
    assert (task.id, task.prompt, task.cron) == (task_id, shorter, "0 9 * * 1-5")

    # The next run uses the new prompt.
    llm.reply_text("• one\n• two\n• three")
    await fake.send_text(dm, alice, f"/run {task_id}")
    await fake.wait_for_message(dm, lambda m: "three" in m.text)
    assert contents(llm.requests[-1], "user")[-1].endswith(shorter)
    assert fake.errors == []


async def test_cancel_on_a_change_card_changes_nothing(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id, result = await digest_result(bot, fake, llm, dm, alice)
    llm.reply_tool_calls([("propose_change", {"action": "pause"})])
    _, card = await reply_to(fake, dm, alice, result, "pause this")
    assert f"Pause task #{task_id}" in card.text
    confirm = next(b.callback_data for b in card.buttons if "Confirm" in b.text)
    assert confirm is not None

    query = await fake.press(dm, alice, card, "Cancel")
    assert (await fake.wait_for_callback_answer(query)).text == "Cancelled"
    cancelled = await fake.wait_for_message(dm, lambda m: "stays as it was" in m.text)
    assert cancelled.message_id == card.message_id
    assert cancelled.buttons == []
    [task] = await bot.tasks_of(ALICE)
    assert task.state is TaskState.ACTIVE

    # The old card's Confirm, replayed, and a forged one are refused.
    for data in (confirm, "cc:forged00"):
        query = await fake.press_data(dm, alice, cancelled, data)
        answer = await fake.wait_for_callback_answer(query)
        assert answer.show_alert
        assert "no longer open" in (answer.text or "")
    [task] = await bot.tasks_of(ALICE)
    assert task.state is TaskState.ACTIVE

    # Confirm on a fresh one pauses the same task.
    llm.reply_tool_calls([("propose_change", {"action": "pause"})])
    _, card = await reply_to(fake, dm, alice, result, "stop")
    await fake.press(dm, alice, card, "Confirm")
    await fake.wait_for_message(dm, lambda m: "is paused" in m.text)
    [task] = await bot.tasks_of(ALICE)
    assert (task.id, task.state) == (task_id, TaskState.PAUSED)
    assert fake.errors == []


async def test_unclear_replies_get_help_and_groups_keep_their_rules(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM
) -> None:
    alice, bob = fake.user(ALICE, "Alice"), fake.user(BOB, "Bob")
    team = fake.group(-1001234567890, "Team", owner=alice, members=[bob])
    await fake.send_text(team, alice, f"/new {HN}")
    card = await fake.wait_for_message(team, lambda m: m.has_button("Confirm"))
    await fake.press(team, alice, card, "Confirm")
    scheduled = await fake.wait_for_message(team, lambda m: "Scheduled" in m.text)
    task_id = int(re.search(r"task #(\d+)", scheduled.text).group(1))  # type: ignore[union-attr]
    llm.reply_text(DIGEST)
    await fake.send_text(team, alice, f"/run {task_id}")
    result = await fake.wait_for_message(team, lambda m: "Rust 2.0" in m.text)
    await bot.engine.wait_idle()

    # A member may ask…
    llm.reply_text("It is about a programming language.")
    _, answer = await reply_to(fake, team, bob, result, "what is the first one about?")
    assert answer.text == "It is about a programming language."
    # …but not change, neither by a schedule phrase nor through the model.
    _, refused = await reply_to(fake, team, bob, result, "only on weekdays at 8am")
    assert "Only this group's admins" in refused.text
    llm.reply_tool_calls([("propose_change", {"action": "delete"})])
    _, refused = await reply_to(fake, team, bob, result, "delete it")
    assert "Only this group's admins" in refused.text
    # Neither a question nor a change: a short help.
    llm.reply_text("NOT_A_QUESTION")
    _, helped = await reply_to(fake, team, alice, result, "hmm")
    assert f"task #{task_id}'s results" in helped.text
    [task] = await bot.tasks_of(team.id)
    assert (task.id, task.state) == (task_id, TaskState.ACTIVE)
    assert fake.errors == []


async def test_phrases_that_are_more_than_a_schedule_go_to_the_model(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, "every day at 9am send me a quote")
    await fake.send_text(dm, alice, f"/task {task_id}")
    detail = await fake.wait_for_message(dm, lambda m: m.text.startswith(f"Task #{task_id}"))
    # The rules would read "skip weekends" as "on weekends": the model is asked instead.
    llm.reply_tool_calls([("propose_change", {"action": "edit", "cron": "0 9 * * 1-5"})])
    _, card = await reply_to(fake, dm, alice, detail, "skip weekends")
    assert "New: Monday to Friday at 09:00 (0 9 * * 1-5)" in card.text
    assert contents(llm.requests[-1], "user")[-1] == "skip weekends"
    # "make it 7pm" is a new time of day, not a single run at 7pm.
    llm.reply_tool_calls([("propose_change", {"action": "edit", "schedule": "every day at 7pm"})])
    _, card = await reply_to(fake, dm, alice, detail, "make it 7pm")
    assert "New: Every day at 19:00 (0 19 * * *)" in card.text
    # A proposal that is not allowed is explained, and changes nothing.
    llm.reply_tool_calls([("propose_change", {"action": "edit", "cron": "* * * * *"})])
    _, refused = await reply_to(fake, dm, alice, detail, "run it every minute")
    assert "couldn't turn that into a change" in refused.text or "can't be used" in refused.text
    [task] = await bot.tasks_of(ALICE)
    assert (task.id, task.cron) == (task_id, "0 9 * * *")
    assert fake.errors == []


async def test_a_russian_user_gets_the_change_card_in_russian(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM
) -> None:
    boris = fake.user(ALICE, "Boris", language_code="ru")
    chat = fake.private_chat(boris)
    task_id, result = await digest_result(bot, fake, llm, chat, boris)
    llm.reply_tool_calls([("propose_change", {"action": "pause"})])
    _, card = await reply_to(fake, chat, boris, result, "поставь на паузу")
    assert f"Приостановить задачу №{task_id}" in card.text
    assert card.button_labels == ["✅ Подтвердить", "✖️ Отмена"]
    # The model is told to answer in the chat's language.
    assert "Write in Russian" in contents(llm.requests[-1], "system")[0]
    query = await fake.press(chat, boris, card, "Подтвердить")
    assert (await fake.wait_for_callback_answer(query)).text == f"Задача №{task_id} изменена"
    await fake.wait_for_message(chat, lambda m: "приостановлена" in m.text)
    [task] = await bot.tasks_of(ALICE)
    assert task.state is TaskState.PAUSED


async def test_a_failure_notice_can_be_asked_about_and_old_cards_go_stale(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, HN)
    llm.reply_error(401, "Incorrect API key provided")
    await fake.send_text(dm, alice, f"/run {task_id}")
    notice = await fake.wait_for_message(dm, lambda m: "failed" in m.text)
    await bot.engine.wait_idle()
    llm.reply_text("The provider refused the key; ask the operator to check LLM_API_KEY.")
    _, answer = await reply_to(fake, dm, alice, notice, "why did it fail?")
    assert "LLM_API_KEY" in answer.text
    assert contents(llm.requests[-1], "assistant")[0].startswith("(This run failed: ")

    # Two cards for the same task: once one is confirmed, the other is refused.
    first_text, second_text = "only on weekdays at 8am", "every day at 7pm"
    _, first = await reply_to(fake, dm, alice, notice, first_text)
    _, second = await reply_to(fake, dm, alice, notice, second_text)
    await fake.press(dm, alice, second, "Confirm")
    await fake.wait_for_message(dm, lambda m: "is changed" in m.text)
    query = await fake.press(dm, alice, first, "Confirm")
    refused = await fake.wait_for_callback_answer(query)
    assert refused.show_alert
    assert f"Task #{task_id} was changed after this card was made" in (refused.text or "")
    [task] = await bot.tasks_of(ALICE)
    assert (task.id, task.cron) == (task_id, "0 19 * * *")
    assert fake.errors == []


async def test_follow_ups_count_against_the_monthly_budget(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, dm: FakeChat, alice: FakeUser
) -> None:
    settings = bot_settings(fake, llm, pg_url, chat_monthly_budget_usd=0.01)
    bot = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await bot.start()
    try:
        task_id, result = await digest_result(bot, fake, llm, dm, alice)
        # 100,000 + 10,000 tokens of gpt-4o-mini: $0.015 + $0.006, past the budget.
        llm.reply_text("The second one.", prompt_tokens=100_000, completion_tokens=10_000)
        _, answer = await reply_to(fake, dm, alice, result, "which one is about databases?")
        assert answer.text == "The second one."
        asked = len(llm.requests)
        _, refused = await reply_to(fake, dm, alice, result, "and the first?")
        assert "budget" in refused.text
        assert len(llm.requests) == asked  # the model was not asked
        await fake.send_text(dm, alice, "/usage")
        report = await fake.wait_for_message(dm, lambda m: "Usage in" in m.text)
        # The run's 340 tokens and the follow-up's 110,000, on the task's line.
        assert f"#{task_id} Summarize the top Hacker News stories: 1 run · 110,340 tokens" in (
            report.text
        )
    finally:
        await bot.stop()
