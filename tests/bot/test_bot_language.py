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
    assert refused.text.startswith("Only this group's admins can create, run or change tasks")

    chosen = await say(fake, group, owner, "/language fr")
    assert chosen.text == "🌐 C’est fait : désormais, je parle Français dans ce chat."
    # Everyone in the group now reads French, whatever their own app says.
    shown = await say(fake, group, member, "/language")
    assert "La langue de ce chat est : Français" in shown.text


@pytest.fixture
async def bot_with_llm_parser(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str
) -> AsyncIterator[BotUnderTest]:
    settings = bot_settings(fake, llm, pg_url, parser_model="openai/gpt-4o-mini")
    under_test = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


async def test_a_russian_user_gets_start_the_card_and_tasks_in_russian(
    bot_with_llm_parser: BotUnderTest, fake: FakeTelegram, llm: FakeLLM
) -> None:
    bot = bot_with_llm_parser
    boris = fake.user(ALICE, "Борис", language_code="ru")
    dm = fake.private_chat(boris)

    welcome = await say(fake, dm, boris, "/start")
    assert welcome.text.startswith("👋 Привет, я cronpilot.")
    assert "Просто напишите, что нужно сделать и когда." in welcome.text
    assert "по будням в 9 утра делай сводку главных новостей Hacker News" in welcome.text
    assert "Часовой пояс этого чата: Europe/Berlin" in welcome.text
    assert welcome.keyboard == [["📍 Отправить местоположение"]]

    # A request in Russian: the rules read English only, so the LLM parser understands it.
    llm.reply_tool_calls(
        [
            (
                "schedule_task",
                {
                    "understood": True,
                    "kind": "cron",
                    "cron": "0 9 * * 1-5",
                    "prompt": "присылай сводку главных новостей Hacker News",
                },
            )
        ]
    )
    card = await say(fake, dm, boris, "каждый будний день в 9 утра присылай сводку Hacker News")
    assert card.text.splitlines()[0] == "Запланировать эту задачу?"
    assert "📝 Задача: Присылай сводку главных новостей Hacker News" in card.text
    assert "🗓 Когда: В 09:00, понедельник по пятница" in card.text
    assert "⚙️ Cron: 0 9 * * 1-5" in card.text
    assert "🌍 Часовой пояс: Europe/Berlin" in card.text
    # Weekday and month names in Russian, from Babel.
    assert "• пт 27 нояб. 2026 09:00 CET" in card.text
    assert "Понято с помощью ИИ-модели: пожалуйста, проверьте." in card.text
    assert card.button_labels == ["✅ Подтвердить", "✏️ Изменить", "✖️ Отмена", "⏰ Просто напомни"]
    assert "🤖 Задача для ИИ: модель ИИ выполняет её при каждом запуске." in card.text

    pressed = await fake.press(dm, boris, card, "Подтвердить")
    assert (await fake.wait_for_callback_answer(pressed)).text == "Запланировано как задача №1"
    scheduled = await fake.wait_for_message(dm, lambda m: "Запланировано —" in m.text)
    assert scheduled.text.startswith("✅ Запланировано — задача №1")
    assert scheduled.button_labels == [
        "🚀 Запустить",
        "⏸ Пауза",
        "🗑 Удалить",
        "📜 История",
        "⏰ Просто напомни",
        "⏭ Пропустить следующий",
    ]

    listing = await say(fake, dm, boris, "/tasks")
    assert listing.text.splitlines()[0] == "Задачи этого чата (всего: 1)"
    assert (
        "В 09:00, понедельник по пятница · далее пт 27 нояб. 2026 09:00 CET · активна"
        in listing.text
    )
    # Pausing from the list redraws the list, in Russian.
    since = fake.checkpoint()
    await fake.press(dm, boris, listing, "⏸ Пауза #1")
    redrawn = await fake.wait_for_message(
        dm, lambda m: m.message_id == listing.message_id, since=since
    )
    assert redrawn.text.endswith("В 09:00, понедельник по пятница · далее — · ⏸ на паузе")
    assert redrawn.has_button("▶️ Возобновить #1")
    [task] = await bot.tasks_of(ALICE)

    # Results and their buttons are in Russian too, and the model is told to write Russian.
    llm.reply_text("Сегодня ничего не сгорело.")
    await fake.press(dm, boris, redrawn, "🚀 Запустить #1")
    result = await fake.wait_for_message(dm, lambda m: "Сегодня" in m.text)
    assert result.text.startswith(f"📋 {task.name} · задача №1")
    assert result.button_labels == ["🔁 Ещё раз", "⏸ Пауза"]
    assert "Write in Russian" in llm.requests[-1]["messages"][0]["content"]


async def test_reasons_from_below_the_bot_are_told_in_the_chats_language(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM
) -> None:
    """Declines, schedule errors, corrections, run failures and /history: every reason made
    below the bot reaches a Russian chat in Russian, its facts filled in."""
    boris = fake.user(ALICE, "Борис", language_code="ru")
    dm = fake.private_chat(boris)

    declined = await say(fake, dm, boris, "hello")
    assert declined.text.startswith("🤔 Я не нашёл в этом расписания. Попробуйте, например,")
    no_date = await say(fake, dm, boris, "on february 30 at 9 do x")
    assert no_date.text.startswith("🤔 Даты 30 февраля не существует.\n\n")
    too_often = await say(fake, dm, boris, "* * * * * spam")
    assert too_often.text == (
        "❌ Такое расписание не подходит: раз в 1 минуту — это чаще, чем разрешает этот бот: "
        "не чаще раза в 5 минут."
    )
    bad_cron = await say(fake, dm, boris, "0 25 * * * check the backups")
    assert bad_cron.text == "❌ Такое расписание не подходит: час 25 вне диапазона 0–23."

    card = await say(fake, dm, boris, "evry day at 8 summarize the news")
    assert "✍️ «evry» прочитано как «every»." in card.text
    await fake.press(dm, boris, card, "Подтвердить")
    await fake.wait_for_message(dm, lambda m: "Запланировано —" in m.text)

    llm.reply_error(401, "bad key")
    await fake.send_text(dm, boris, "/run 1")
    failed = await fake.wait_for_message(dm, lambda m: m.text.startswith("⚠️"))
    assert failed.text == "⚠️ Задача №1 не выполнена: провайдер LLM отклонил API-ключ (HTTP 401)"
    await bot.engine.wait_idle()
    history = await say(fake, dm, boris, "/history 1")
    assert "↳ провайдер LLM отклонил API-ключ (HTTP 401)" in history.text
    assert fake.errors == []
