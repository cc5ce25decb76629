"""End to end: voice notes, audio files and video notes heard (fake Bot API files, the fake
provider's /audio/transcriptions through LiteLLM) and read like typed text."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from storage.database import create_engine, create_sessionmaker
from storage.models import SpendingRow
from tests.bot_harness import ALICE, BOB, NOW, BotUnderTest, FakeClock, answer_to, bot_settings
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser

pytestmark = pytest.mark.usefixtures("litellm_imported")

OGG = b"OggS\x00\x02" + bytes(range(256)) * 8
WEATHER = "every day at 7 tell me the weather in Lisbon"


@pytest.fixture
async def bot(fake: FakeTelegram, llm: FakeLLM, pg_url: str) -> AsyncIterator[BotUnderTest]:
    settings = bot_settings(fake, llm, pg_url, transcription_model="openai/whisper-1")
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


async def spending_kinds(url: str) -> list[tuple[str, float | None]]:
    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            rows = (await session.execute(select(SpendingRow))).scalars()
            return [(row.kind, row.cost) for row in rows]
    finally:
        await engine.dispose()


async def test_a_voice_request_is_heard_quoted_on_its_card_and_scheduled_on_confirm(
    bot: BotUnderTest,
    fake: FakeTelegram,
    llm: FakeLLM,
    dm: FakeChat,
    alice: FakeUser,
    pg_url: str,
) -> None:
    llm.transcribe_as(WEATHER)
    sent = await fake.send_file(dm, alice, "voice", OGG, mime_type="audio/ogg", duration=4)
    card = await answer_to(fake, dm, sent)
    assert card.text.startswith(f"🎤 “{WEATHER}”")
    assert "Schedule this task?" in card.text
    assert "0 7 * * *" in card.text
    # The file came from the Bot API server as sent, and went to the provider unchanged.
    assert fake.calls_to("getFile") == [{"file_id": sent.upload[1]["file_id"]}]  # type: ignore[index]
    assert fake.file_downloads == ["voices/file_1.oga"]
    [request] = llm.transcription_requests
    assert (request["file"], request["model"]) == (OGG, "whisper-1")
    assert request.headers["Authorization"] == "Bearer sk-test-e2e-key-0123456789"

    await fake.press(dm, alice, card, "Confirm")
    await fake.wait_for_message(dm, lambda m: "Scheduled" in m.text)
    [task] = await bot.tasks_of(ALICE)
    assert task.cron == "0 7 * * *"
    assert task.prompt == "Tell me the weather in Lisbon"
    # The transcription is on the chat's bill (whisper-1 is priced by the second).
    assert ("transcription", 0.00035) in await spending_kinds(pg_url)
    assert fake.errors == []


async def test_audio_files_and_video_notes_are_heard_too(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    llm.transcribe_as("every monday at 8 send me the week's plan")
    sent = await fake.send_file(
        dm, alice, "audio", b"ID3" + OGG, mime_type="audio/mpeg", file_name="plan.mp3"
    )
    card = await answer_to(fake, dm, sent)
    assert "🎤 “every monday at 8 send me the week's plan”" in card.text
    assert llm.transcription_requests[-1]["filename"] == "plan.mp3"

    llm.transcribe_as("tomorrow at 10 remind me to call the bank")
    sent = await fake.send_file(dm, alice, "video_note", b"\x00\x00\x00\x18ftypmp42" + OGG)
    card = await answer_to(fake, dm, sent)
    assert "🎤 “tomorrow at 10 remind me to call the bank”" in card.text
    assert llm.transcription_requests[-1]["filename"] == "video_note.mp4"


async def test_a_voice_reply_to_a_result_gets_a_followup_answer(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    await fake.send_text(dm, alice, WEATHER)
    card = await fake.wait_for_message(dm, lambda m: m.has_button("Confirm"))
    await fake.press(dm, alice, card, "Confirm")
    await fake.wait_for_message(dm, lambda m: "Scheduled" in m.text)
    [task] = await bot.tasks_of(ALICE)
    llm.reply_text("Sunny, 21 °C.")
    await fake.send_text(dm, alice, f"/run {task.id}")
    result = await fake.wait_for_message(dm, lambda m: "Sunny" in m.text)
    await bot.engine.wait_idle()

    llm.transcribe_as("and what about tomorrow?")
    llm.reply_text("Rain tomorrow.")
    sent = await fake.send_file(dm, alice, "voice", OGG, reply_to=result, mime_type="audio/ogg")
    answer = await fake.wait_for_message(dm, lambda m: m.reply_to_message_id == sent.message_id)
    assert answer.text == "Rain tomorrow."
    user_turns = [m["content"] for m in llm.requests[-1]["messages"] if m["role"] == "user"]
    assert user_turns[-1] == "and what about tomorrow?"
    assert len(await bot.tasks_of(ALICE)) == 1


async def test_a_voice_answer_to_edit_replaces_the_card(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    await fake.send_text(dm, alice, WEATHER)
    card = await fake.wait_for_message(dm, lambda m: m.has_button("Confirm"))
    await fake.press(dm, alice, card, "Edit")
    prompt = await fake.wait_for_message(dm, lambda m: m.force_reply)
    llm.transcribe_as("every day at 8 tell me the weather in Porto")
    sent = await fake.send_file(dm, alice, "voice", OGG, reply_to=prompt, mime_type="audio/ogg")
    new_card = await fake.wait_for_message(
        dm, lambda m: m.message_id > sent.message_id and m.has_button("Confirm")
    )
    assert new_card.text.startswith("🎤 “every day at 8 tell me the weather in Porto”")
    assert "0 8 * * *" in new_card.text
    await fake.wait_for_message(
        dm, lambda m: m.message_id == card.message_id and not m.has_button("Confirm")
    )


async def test_in_a_group_only_a_recording_meant_for_the_bot_is_heard(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, alice: FakeUser
) -> None:
    bob = fake.user(BOB, "Bob")
    group = fake.group(-100123, "Team", owner=alice, members=[bob], bot_is_admin=True)
    await fake.send_file(group, alice, "voice", OGG, mime_type="audio/ogg")
    llm.transcribe_as("every friday at 16 summarize the week")
    sent = await fake.send_file(
        group, alice, "voice", OGG, mime_type="audio/ogg", caption="@cronpilot_test_bot"
    )
    card = await answer_to(fake, group, sent)
    assert card.text.startswith("🎤 “every friday at 16 summarize the week”")
    # The first, not addressed to the bot, was neither fetched nor heard.
    assert len(llm.transcription_requests) == 1
    assert len(fake.file_downloads) == 1


async def test_without_a_transcription_model_a_voice_note_gets_one_sentence(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, dm: FakeChat, alice: FakeUser
) -> None:
    under_test = BotUnderTest(fake, llm, bot_settings(fake, llm, pg_url), FakeClock(NOW))
    await under_test.start()
    try:
        sent = await fake.send_file(dm, alice, "voice", OGG, mime_type="audio/ogg")
        answer = await answer_to(fake, dm, sent)
    finally:
        await under_test.stop()
    assert answer.text == (
        "🎤 Voice notes are not set up here: the operator has not chosen a transcription "
        "model (TRANSCRIPTION_MODEL). Please type your request."
    )
    assert fake.file_downloads == []
    assert llm.transcription_requests == []


@pytest.mark.parametrize(
    ("kind", "data", "options", "expected"),
    [
        pytest.param(
            "voice",
            OGG,
            {"duration": 600, "mime_type": "audio/ogg"},
            "That recording is 600 seconds long; I listen to at most 120 seconds",
            id="too-long",
        ),
        pytest.param(
            "voice",
            OGG,
            {"file_size": 25 * 1024 * 1024, "mime_type": "audio/ogg"},
            "That file is larger than the 20 MB I can download",
            id="oversized",
        ),
        pytest.param(
            "audio",
            b"%PDF-1.7",
            {"mime_type": "application/pdf", "file_name": "notes.mp3"},
            "That file is application/pdf, not a recording I can listen to",
            id="wrong-mime",
        ),
        pytest.param(
            "voice",
            b"",
            {"duration": 0, "mime_type": "audio/ogg"},
            "That recording is empty; there is nothing to listen to",
            id="zero-length",
        ),
        pytest.param(
            "voice",
            b"",
            {"duration": 2, "mime_type": "audio/ogg", "file_size": 4000},
            "That recording is empty; there is nothing to listen to",
            id="empty-download",
        ),
    ],
)
async def test_a_hostile_recording_gets_a_sentence_and_the_bot_goes_on(
    bot: BotUnderTest,
    fake: FakeTelegram,
    llm: FakeLLM,
    dm: FakeChat,
    alice: FakeUser,
    kind: str,
    data: bytes,
    options: dict[str, object],
    expected: str,
) -> None:
    sent = await fake.send_file(dm, alice, kind, data, **options)  # type: ignore[arg-type]
    answer = await answer_to(fake, dm, sent)
    assert answer.text.startswith(f"📎 {expected}")
    assert llm.transcription_requests == []
    # Nothing stalled: the next request is answered as usual.
    sent = await fake.send_text(dm, alice, WEATHER)
    assert (await answer_to(fake, dm, sent)).has_button("Confirm")


async def test_a_failed_or_empty_transcription_gets_a_sentence(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    llm.transcription_error(500, "upstream exploded")
    sent = await fake.send_file(dm, alice, "voice", OGG, mime_type="audio/ogg")
    answer = await answer_to(fake, dm, sent)
    assert answer.text.startswith("🎤 I could not hear that recording: ")

    llm.transcribe_as("   ")
    sent = await fake.send_file(dm, alice, "voice", OGG, mime_type="audio/ogg")
    answer = await answer_to(fake, dm, sent)
    assert answer.text == "📎 I could not make out any words in that recording."
    assert await bot.tasks_of(ALICE) == []
