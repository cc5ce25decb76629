"""End to end: the bot speaks the chat's language (/language), else the user's, else English."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.bot_harness import ALICE, BOB, NOW, BotUnderTest, FakeClock, bot_settings
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeMessage, FakeTelegram, FakeUser

pytestmark = pytest.mark.usefixtures("litellm_imported")


@pytest.fixture
async def bot(fake: FakeTelegram, llm: FakeLLM, pg_url: str) -> AsyncIterator[BotUnderTest]:
    under_test = BotUnderTest(fake, llm, bot_settings(fake, llm, pg_url), FakeClock(NOW))
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


async def say(fake: FakeTelegram, chat: FakeChat, user: FakeUser, text: str) -> FakeMessage:
    await fake.send_text(chat, user, text)
    return await fake.wait_for_message(chat)


async def test_language_follows_the_app_until_the_chat_chooses_one(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    boris = fake.user(ALICE, "Boris", language_code="ru")
    dm = fake.private_chat(boris)

    shown = await say(fake, dm, boris, "/language")
    assert "Здесь я говорю на языке вашего приложения Telegram: Русский" in shown.text
    assert "/language de Deutsch" in shown.text

    chosen = await say(fake, dm, boris, "/language DE")
    assert chosen.text == "🌐 Erledigt: Ab jetzt spreche ich in diesem Chat Deutsch."
    assert "Die Sprache dieses Chats ist Deutsch" in (await say(fake, dm, boris, "/language")).text

    # A regional code means its language.
    chosen = await say(fake, dm, boris, "/language pt-BR")
    assert chosen.text == "🌐 Pronto: a partir de agora falo Português neste chat."

    refused = await say(fake, dm, boris, "/language tlh")
    assert refused.text.startswith("❌ Não falo “tlh”.")
    assert "/language ru Русский" in refused.text

    back = await say(fake, dm, boris, "/language auto")
    assert back.text == "🌐 Готово: снова говорю на языке вашего приложения Telegram."


async def test_the_command_menu_is_set_in_every_language(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    default = dict(fake.commands)
    russian = dict(fake.commands_for({"type": "default"}, "ru"))
    assert default["language"] == "show or set the language I speak here"
    assert russian["tasks"] == "задачи этого чата"
    assert russian.keys() == default.keys()
    for code in ("de", "es", "fr", "pt"):
        assert dict(fake.commands_for({"type": "default"}, code)).keys() == default.keys()


async def test_a_group_speaks_english_until_an_admin_chooses(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    owner = fake.user(ALICE, "Alice", language_code="fr")
    member = fake.user(BOB, "Bob", language_code="es")
    group = fake.group(-100123, "Team", owner=owner, members=[member])

    shown = await say(fake, group, member, "/language")
    assert "This chat speaks English" in shown.text
    refused = await say(fake, group, member, "/language es")
    assert refused.text == "Only this group's admins can create or change tasks here."

    chosen = await say(fake, group, owner, "/language fr")
    assert chosen.text == "🌐 C’est fait : désormais, je parle Français dans ce chat."
    # Everyone in the group now reads French, whatever their own app says.
    shown = await say(fake, group, member, "/language")
    assert "La langue de ce chat est : Français" in shown.text
