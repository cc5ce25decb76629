"""End to end: long answers as a document, Markdown pictures as photos and albums, tables
aligned; over the fake Bot API and the fake LLM, with what was sent recorded exactly once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.records import RunStatus
from tests.bot_harness import (
    ALICE,
    NOW,
    BotUnderTest,
    FakeClock,
    bot_settings,
    create_task,
)
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeMessage, FakeTelegram, FakeUser

pytestmark = pytest.mark.usefixtures("litellm_imported")

REPORT = "every day at 9am write the market report"
CHART = "https://charts.example.com/sales.png"
LOGO = "https://img.example.com/logo.jpg"
PICTURES = f"The week in two pictures.\n\n![Sales by week]({CHART})\n\n![Our logo]({LOGO})"


def long_answer(characters: int) -> str:
    """A Markdown report of exactly `characters` characters, its last line unmistakable."""
    line = "- **Item**: prices moved a little today, and here is a sentence about why.\n"
    end = "\nTHE END OF THE REPORT"
    body = "# Market report\n\n" + line * (characters // len(line) + 1)
    return body[: characters - len(end)] + end


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


async def run_now(
    bot: BotUnderTest, fake: FakeTelegram, chat: FakeChat, user: FakeUser, task_id: int
) -> list[FakeMessage]:
    """Run now, to the end; the bot's messages since, but for "Running task #N now"."""
    since = fake.checkpoint()
    await fake.send_text(chat, user, f"/run {task_id}")
    await fake.wait_for_message(chat, lambda m: m.text.startswith("📋"))
    await bot.engine.wait_idle()
    return [m for m in fake.messages(chat) if m.last_event > since and not m.text.startswith("🚀")]


async def test_a_long_answer_is_its_first_lines_and_the_whole_as_a_document(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, REPORT)
    answer = long_answer(20_000)
    assert len(answer) == 20_000
    llm.reply_text(answer)
    preview, document = await run_now(bot, fake, dm, alice, task_id)

    # One message instead of six, then the document: no split messages.
    assert preview.media is None
    assert len(preview.text) < 1500
    assert preview.text.startswith("📋 ")
    assert "Market report" in preview.text
    assert "THE END OF THE REPORT" not in preview.text
    assert "The whole answer (20,0" in preview.text
    assert preview.has_button("Run again")
    assert preview.has_button("Pause")
    assert document.media is not None
    assert document.media.kind == "document"
    assert document.media.source.endswith(".md")
    assert document.media.content.decode("utf-8") == answer
    [upload] = fake.calls_to("sendDocument")
    assert upload["chat_id"] == str(dm.id)

    # The document is part of the result: a reply to it is a follow-up question about it.
    llm.reply_text("Prices moved because of the report's second line.")
    question = await fake.send_text(dm, alice, "why did prices move?", reply_to=document)
    reply = await fake.wait_for_message(dm, lambda m: m.reply_to_message_id == question.message_id)
    assert "second line" in reply.text
    assert llm.requests[-1]["messages"][-2]["content"].startswith("# Market report")


async def test_pictures_in_the_answer_arrive_as_an_album_after_the_text(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, REPORT)
    llm.reply_text(PICTURES)
    text, *photos = await run_now(bot, fake, dm, alice, task_id)

    assert "The week in two pictures." in text.text
    assert text.has_button("Run again")
    assert [(photo.media.source, photo.text) for photo in photos if photo.media] == [
        (CHART, "Sales by week"),
        (LOGO, "Our logo"),
    ]
    assert len({photo.media.media_group_id for photo in photos if photo.media}) == 1
    assert len(fake.calls_to("sendMediaGroup")) == 1
    assert fake.calls_to("sendPhoto") == []
    [run] = await bot.history(dm.id, task_id)
    assert run.status is RunStatus.SUCCEEDED
    assert run.delivered_message_id == text.message_id


async def test_a_picture_telegram_cannot_fetch_falls_back_to_its_link(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    fake.unreachable_urls.add(LOGO)
    task_id = await create_task(fake, dm, alice, REPORT)
    llm.reply_text(PICTURES)
    text, photo, link = await run_now(bot, fake, dm, alice, task_id)

    assert "The week in two pictures." in text.text
    # The album was refused as a whole; the chart still came as a photo, the logo as its link.
    assert [error.description for error in fake.errors] == [
        "Bad Request: failed to get HTTP URL content",
        "Bad Request: failed to get HTTP URL content",
    ]
    assert photo.media is not None
    assert photo.media.source == CHART
    assert link.media is None
    assert link.text == "🖼 Our logo"
    assert [entity.url for entity in link.entities] == [LOGO]
    assert link.entity_texts("text_link") == ["Our logo"]


async def test_a_table_arrives_aligned_in_a_monospace_block(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, REPORT)
    llm.reply_text(
        "Closing prices:\n\n| Stock | Price |\n|:--|--:|\n| ACME | 3.5 |\n"
        "| [Globex](https://globex.example.com) | 120.25 |"
    )
    [result] = await run_now(bot, fake, dm, alice, task_id)

    [table] = result.entity_texts("pre")
    assert table.splitlines() == [
        "Stock  |  Price",
        "-------+-------",
        "ACME   |    3.5",
        "Globex | 120.25",
    ]
    assert "|" not in result.text.replace(table, "")
    # The link a monospace block cannot carry is listed under the table.
    assert result.entity_texts("text_link") == ["Globex"]


async def test_a_long_follow_up_answer_is_a_document_replying_to_the_question(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, REPORT)
    llm.reply_text("Prices rose.")
    [result] = await run_now(bot, fake, dm, alice, task_id)
    answer = long_answer(13_000)
    llm.reply_text(answer)
    question = await fake.send_text(dm, alice, "tell me everything", reply_to=result)
    document = await fake.wait_for_message(dm, lambda m: m.media is not None)

    assert document.reply_to_message_id == question.message_id
    assert document.media is not None
    assert document.media.source == "answer.md"
    assert document.media.content.decode("utf-8") == answer
    preview = document.chat.message(document.message_id - 1)
    assert preview is not None
    assert preview.reply_to_message_id == question.message_id
    assert "is in the document below" in preview.text


async def test_a_shutdown_between_the_message_and_the_document_sends_each_once(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, REPORT)
    since = fake.checkpoint()
    llm.reply_text(long_answer(15_000))
    fake.delay_next("sendDocument", 0.5)
    await fake.send_text(dm, alice, f"/run {task_id}")
    await fake.wait_for_message(dm, lambda m: "document below" in m.text)
    await bot.stop()  # while the document is on its way

    await bot.start()
    await bot.engine.wait_idle()
    sent = [m for m in fake.messages(dm) if m.last_event > since and not m.text.startswith("🚀")]
    assert ["document" if m.media else "text" for m in sent] == ["text", "document"]
    [run] = await bot.history(dm.id, task_id)
    assert not run.delivery_pending
    assert run.delivered_message_id == sent[0].message_id


async def test_a_later_part_telegram_cannot_take_now_is_tried_again_alone(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, REPORT)
    fake.fail_next("sendMediaGroup", 502, "Bad Gateway", html=True)
    llm.reply_text(PICTURES)
    text, *photos = await run_now(bot, fake, dm, alice, task_id)

    # The text went once; the album was asked twice and arrived once.
    assert "The week in two pictures." in text.text
    assert [photo.media.source for photo in photos if photo.media] == [CHART, LOGO]
    assert len(fake.calls_to("sendMediaGroup")) == 2
    assert sum("The week in two pictures." in m.text for m in fake.messages(dm)) == 1


async def test_a_refused_document_becomes_the_whole_answer_in_messages(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, REPORT)
    fake.fail_next("sendDocument", 400, "Bad Request: file is too big")
    answer = long_answer(13_000)
    llm.reply_text(answer)
    preview, *messages = await run_now(bot, fake, dm, alice, task_id)

    assert "document below" in preview.text
    assert all(message.media is None for message in messages)
    assert len(messages) == 4
    # Split at line ends, each message without the line break it was split at.
    assert "\n".join(message.text for message in messages) == answer
