"""End to end: a picture with a request is read by a parser model that sees (the fake
provider gets the picture as an image content part); a model that cannot see gets a
sentence; a picture in a reply to a result goes to the follow-up model."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.bot_harness import ALICE, NOW, BotUnderTest, FakeClock, answer_to, bot_settings
from tests.fakes.llm import FakeLLM, pictures_in
from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser

pytestmark = pytest.mark.usefixtures("litellm_imported")

POSTER = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4 + b"\xff\xd9"
EVENT = "Remind me: Lisbon Jazz Night at Casa Independente, Sat 12 Dec 2026 at 21:00"


def settings_for(fake: FakeTelegram, llm: FakeLLM, url: str, parser_model: str) -> Any:
    return bot_settings(fake, llm, url, parser_model=parser_model)


@pytest.fixture
async def bot(fake: FakeTelegram, llm: FakeLLM, pg_url: str) -> AsyncIterator[BotUnderTest]:
    settings = settings_for(fake, llm, pg_url, "openai/gpt-4o-mini")
    under_test = BotUnderTest(fake, llm, settings, FakeClock(NOW))
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


def data_url(picture: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(picture).decode()


async def test_a_poster_with_remind_me_the_day_before_becomes_a_one_shot_naming_the_event(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    llm.reply_tool_calls(
        [
            (
                "schedule_task",
                {
                    "understood": True,
                    "kind": "once",
                    "run_at": "2026-12-11T09:00:00",
                    "prompt": EVENT,
                },
            )
        ]
    )
    sent = await fake.send_file(dm, alice, "photo", POSTER, caption="remind me the day before")
    card = await answer_to(fake, dm, sent)
    assert "Schedule this task?" in card.text
    assert EVENT in card.text
    assert "Fri 11 Dec 2026 09:00 CET" in card.text
    [request] = llm.requests
    # The parser's model got the words and the picture as Telegram delivered it.
    assert pictures_in(request) == [data_url(POSTER)]
    [user] = [m for m in request["messages"] if m["role"] == "user"]
    assert user["content"][0] == {"type": "text", "text": "remind me the day before"}
    assert "poster" in request["messages"][0]["content"]

    await fake.press(dm, alice, card, "Confirm")
    await fake.wait_for_message(dm, lambda m: "Scheduled" in m.text)
    [task] = await bot.tasks_of(ALICE)
    assert (task.kind.value, task.prompt) == ("once", EVENT)
    assert task.next_run_at is not None
    assert task.next_run_at.isoformat() == "2026-12-11T08:00:00+00:00"
    assert fake.errors == []


async def test_an_image_file_without_words_is_read_too(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    llm.reply_tool_calls(
        [("schedule_task", {"understood": False, "reason": "the poster shows no date"})]
    )
    sent = await fake.send_file(
        dm, alice, "document", POSTER, mime_type="image/png", file_name="poster.png"
    )
    answer = await answer_to(fake, dm, sent)
    assert answer.text.startswith("🤔 The poster shows no date.")
    assert pictures_in(llm.requests[-1]) == [
        "data:image/png;base64," + base64.b64encode(POSTER).decode()
    ]


async def test_a_parser_model_that_cannot_see_gets_a_sentence(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, dm: FakeChat, alice: FakeUser
) -> None:
    settings = settings_for(fake, llm, pg_url, "openai/gpt-3.5-turbo")
    under_test = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await under_test.start()
    try:
        sent = await fake.send_file(dm, alice, "photo", POSTER, caption="remind me the day before")
        answer = await answer_to(fake, dm, sent)
    finally:
        await under_test.stop()
    assert answer.text == (
        "📎 The model that reads requests here (openai/gpt-3.5-turbo) cannot see pictures; "
        "write the request as text."
    )
    assert llm.requests == []


async def test_a_picture_in_a_reply_to_a_result_goes_to_the_followup_model(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    await fake.send_text(dm, alice, "every day at 7 tell me the weather in Lisbon")
    card = await fake.wait_for_message(dm, lambda m: m.has_button("Confirm"))
    await fake.press(dm, alice, card, "Confirm")
    await fake.wait_for_message(dm, lambda m: "Scheduled" in m.text)
    [task] = await bot.tasks_of(ALICE)
    llm.reply_text("Sunny, 21 °C.")
    await fake.send_text(dm, alice, f"/run {task.id}")
    result = await fake.wait_for_message(dm, lambda m: "Sunny" in m.text)
    await bot.engine.wait_idle()

    llm.reply_text("That cloud is a cumulus: no rain.")
    sent = await fake.send_file(
        dm, alice, "photo", POSTER, caption="will this rain?", reply_to=result
    )
    answer = await fake.wait_for_message(dm, lambda m: m.reply_to_message_id == sent.message_id)
    assert answer.text == "That cloud is a cumulus: no rain."
    request = llm.requests[-1]
    assert pictures_in(request) == [data_url(POSTER)]
    assert request["messages"][-1] == {"role": "user", "content": "will this rain?"}


@pytest.mark.parametrize(
    ("kind", "options", "expected"),
    [
        pytest.param(
            "document",
            {"mime_type": "image/tiff", "file_name": "scan.tiff"},
            "I can read JPEG, PNG, WebP and GIF pictures, and “scan.tiff” is image/tiff.",
            id="wrong-mime",
        ),
        pytest.param(
            "photo",
            {"file_size": 15 * 1024 * 1024},
            "That picture is larger than the 10 MB I can show a model.",
            id="oversized",
        ),
    ],
)
async def test_a_hostile_picture_gets_a_sentence(
    bot: BotUnderTest,
    fake: FakeTelegram,
    llm: FakeLLM,
    dm: FakeChat,
    alice: FakeUser,
    kind: str,
    options: dict[str, Any],
    expected: str,
) -> None:
    sent = await fake.send_file(dm, alice, kind, POSTER, caption="remind me", **options)
    answer = await answer_to(fake, dm, sent)
    assert answer.text == f"📎 {expected}"
    assert llm.requests == []
    assert fake.file_downloads == []
