"""The fake Telegram Bot API, exercised with the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
from collections.abc import AsyncIterator, Awaitable, Sequence

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    ChatFullInfo,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)
from telegram.ext import (
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from tests.fakes.telegram import (
    DEFAULT_TOKEN,
    NOT_MODIFIED,
    POLLING_TERMINATED,
    POLLING_WHILE_WEBHOOK,
    QUERY_TOO_OLD,
    ApiErrorAnswer,
    CallbackAnswer,
    Entity,
    FakeButton,
    FakeChat,
    FakeTelegram,
    FakeUser,
    ManualClock,
    RateLimits,
)

TOKEN = DEFAULT_TOKEN


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(rate_limits=RateLimits.unlimited()) as server:
        yield server


@pytest.fixture
def alice(fake: FakeTelegram) -> FakeUser:
    return fake.user(id=111, first_name="Alice", username="alice")


@pytest.fixture
def dm(fake: FakeTelegram, alice: FakeUser) -> FakeChat:
    return fake.private_chat(alice)


@pytest.fixture
async def bot(fake: FakeTelegram, dm: FakeChat) -> AsyncIterator[Bot]:
    """A PTB Bot talking to the fake; Alice (id 111) has started it."""
    async with Bot(TOKEN, base_url=fake.base_url) as client:
        yield client


async def refused(fake: FakeTelegram, call: Awaitable[object]) -> str:
    """Await a call that Telegram must refuse with 400; returns the description it sent."""
    with pytest.raises(BadRequest):
        await call
    return fake.errors[-1].description


@contextlib.asynccontextmanager
async def polling_app(
    fake: FakeTelegram, handlers: Sequence[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]
) -> AsyncIterator[None]:
    """Run the real PTB Application, long polling the fake."""
    app = ApplicationBuilder().token(TOKEN).base_url(fake.base_url).build()
    app.add_handlers(handlers)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=dt.timedelta(seconds=1))
        try:
            yield
        finally:
            await app.updater.stop()
            await app.stop()


async def greet(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    assert update.effective_user is not None
    await update.effective_message.reply_text(f"Hello {update.effective_user.first_name}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# -- identity, routing and encodings ----------------------------------------------------------


async def test_get_me_describes_the_bot(bot: Bot) -> None:
    me = await bot.get_me()

    assert (me.id, me.username, me.is_bot) == (123456789, "cronpilot_test_bot", True)
    assert me.can_read_all_group_messages is False


async def test_wrong_token_is_unauthorized(fake: FakeTelegram) -> None:
    wrong = Bot("987654321:WRONG", base_url=fake.base_url)
    try:
        with pytest.raises(InvalidToken, match=r"^The token `987654321:WRONG` was rejected"):
            await wrong.initialize()  # what Application.initialize() does first
    finally:
        await wrong.shutdown()

    assert fake.errors == [ApiErrorAnswer("getMe", 401, "Unauthorized")]


async def test_unknown_method_is_not_found(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTeleportation", api_kwargs={"chat_id": 1})

    assert fake.errors == [ApiErrorAnswer("sendTeleportation", 404, "Not Found")]


async def test_json_multipart_and_query_string_requests(fake: FakeTelegram, dm: FakeChat) -> None:
    url = f"{fake.base_url}{TOKEN}"
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/sendMessage", json={"chat_id": 111, "text": "json"}) as r:
            assert (r.status, (await r.json())["result"]["text"]) == (200, "json")
        form = aiohttp.FormData({"chat_id": "111", "text": "multipart"})
        form.add_field("document", b"bytes", filename="notes.txt")
        async with session.post(f"{url}/sendMessage", data=form) as r:
            assert (r.status, (await r.json())["result"]["text"]) == (200, "multipart")
        async with session.get(f"{url}/sendMessage?chat_id=111&text=query") as r:
            assert r.status == 200
        async with session.get(f"{fake.base_url}0:WRONG/getMe") as r:
            assert (r.status, await r.json()) == (
                401,
                {"ok": False, "error_code": 401, "description": "Unauthorized"},
            )

    assert [message.text for message in fake.messages(dm)] == ["json", "multipart", "query"]
    assert fake.calls_to("sendMessage")[1]["document"] == "notes.txt"


# -- the real Application: commands, buttons, privacy mode -------------------------------------


async def test_application_round_trip_with_a_command_and_a_button(
    fake: FakeTelegram, alice: FakeUser, dm: FakeChat
) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("✅ Confirm", callback_data="confirm:7"),
                    InlineKeyboardButton("❌ Cancel", callback_data="cancel:7"),
                ]
            ]
        )
        await update.effective_message.reply_html(
            "<b>Every weekday at 9:00</b>\nsummarize HN", reply_markup=keyboard
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Saved")
        await query.edit_message_text(f"Scheduled — task #7 ({query.data})")

    async with polling_app(fake, [CommandHandler("start", start), CallbackQueryHandler(pressed)]):
        command = await fake.send_text(dm, alice, "/start")
        card = await fake.wait_for_message(dm, lambda m: m.has_button("Confirm"))
        assert card.text == "Every weekday at 9:00\nsummarize HN"
        assert card.entities == (Entity("bold", 0, 21),)
        assert card.buttons == [
            FakeButton("✅ Confirm", callback_data="confirm:7"),
            FakeButton("❌ Cancel", callback_data="cancel:7"),
        ]
        assert card.reply_to_message_id is None  # PTB does not quote in private chats

        query = await fake.press(dm, alice, card, "Confirm")
        done = await fake.wait_for_message(dm, lambda m: m.text.startswith("Scheduled"))
        answer = await fake.wait_for_callback_answer(query)

    assert done is card
    assert (card.text, card.edits, card.buttons) == ("Scheduled — task #7 (confirm:7)", 1, [])
    assert answer == CallbackAnswer(query.id, "Saved", show_alert=False, url=None)
    assert fake.callback_answers == [answer]
    assert command.update_id is not None
    assert query.update_id == command.update_id + 1
    methods = [call.method for call in fake.calls]
    assert methods[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    assert fake.pending_updates == 0  # the last getUpdates on stop confirmed everything
    assert fake.errors == []


async def test_group_in_privacy_mode_delivers_commands_mentions_and_replies_only(
    fake: FakeTelegram, alice: FakeUser
) -> None:
    bob = fake.user(id=222, first_name="Bob")
    team = fake.group(id=-1001234567890, title="Team", owner=alice, members=[bob])

    async with polling_app(fake, [CommandHandler("start", greet)]):
        chatter = await fake.send_text(team, bob, "good morning")
        other_bot = await fake.send_text(team, bob, "/start@some_other_bot")
        command = await fake.send_text(team, bob, "/start@cronpilot_test_bot")
        reply = await fake.wait_for_message(team)
        mention = await fake.send_text(team, bob, "@cronpilot_test_bot every day at 9")
        answer_to_bot = await fake.send_text(team, alice, "thanks", reply_to=reply)

    assert (chatter.update_id, other_bot.update_id) == (None, None)
    assert None not in (command.update_id, mention.update_id, answer_to_bot.update_id)
    assert reply.text == "Hello Bob"
    assert reply.reply_to_message_id == command.message_id  # PTB quotes in groups
    assert [m.text for m in fake.messages(team)] == ["Hello Bob"]
    assert [e.type for e in command.entities] == ["bot_command"]
    assert [e.type for e in mention.entities] == ["mention"]


async def test_press_and_forged_press_send_callback_queries(
    fake: FakeTelegram, bot: Bot, alice: FakeUser, dm: FakeChat
) -> None:
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("▶️ Run now", callback_data="run:1")],
            [InlineKeyboardButton("Pause", callback_data="pause:1")],
            [InlineKeyboardButton("Pause all", callback_data="pause:*")],
            [InlineKeyboardButton("Docs", url="https://example.com/docs")],
        ]
    )
    sent = await bot.send_message(111, "Task #1", reply_markup=keyboard)
    card = fake.messages(dm)[0]

    run = await fake.press(dm, alice, card, "Run")
    pause = await fake.press(dm, alice, card, "Pause")  # an exact label wins over "Pause all"
    forged = await fake.press_data(dm, alice, card, data="delete:999")
    with pytest.raises(AssertionError, match="no button 'History'"):
        await fake.press(dm, alice, card, "History")
    with pytest.raises(AssertionError, match="sends no callback data"):
        await fake.press(dm, alice, card, "Docs")

    updates = await bot.get_updates(timeout=0)
    queries = [update.callback_query for update in updates]
    assert [(q.data, q.from_user.id) for q in queries if q] == [
        ("run:1", 111),
        ("pause:1", 111),
        ("delete:999", 111),
    ]
    assert queries[0] is not None
    assert queries[0].message is not None
    assert queries[0].message.message_id == sent.message_id
    assert [run.data, pause.data, forged.data] == ["run:1", "pause:1", "delete:999"]


async def test_send_location_is_delivered_as_a_location_message(
    fake: FakeTelegram, bot: Bot, alice: FakeUser, dm: FakeChat
) -> None:
    await fake.send_location(dm, alice, latitude=52.52, longitude=13.40)

    (update,) = await bot.get_updates(timeout=0)
    assert update.message is not None
    assert update.message.location is not None
    assert (update.message.location.latitude, update.message.location.longitude) == (52.52, 13.4)


async def test_wait_for_message_fails_with_what_the_bot_did(
    fake: FakeTelegram, dm: FakeChat
) -> None:
    with pytest.raises(AssertionError, match="no matching bot message in chat 111"):
        await fake.wait_for_message(dm, timeout=0.05)


async def test_wait_for_message_skips_what_came_before(
    fake: FakeTelegram, bot: Bot, alice: FakeUser, dm: FakeChat
) -> None:
    await bot.send_message(111, "Result of run 1")
    await fake.send_text(dm, alice, "/tasks")
    await bot.send_message(111, "Your tasks")
    mark = fake.checkpoint()
    await bot.send_message(111, "Result of run 2")

    after_command = await fake.wait_for_message(dm, lambda m: m.text.startswith("Your"))
    after_mark = await fake.wait_for_message(dm, lambda m: "Result" in m.text, since=mark)
    with pytest.raises(AssertionError):
        await fake.wait_for_message(dm, lambda m: m.text == "Result of run 1", timeout=0.05)

    assert (after_command.text, after_mark.text) == ("Your tasks", "Result of run 2")


async def test_injected_updates_reach_the_bot(fake: FakeTelegram, bot: Bot) -> None:
    member = {
        "chat": {"id": -1001, "type": "supergroup", "title": "Team"},
        "from": {"id": 111, "is_bot": False, "first_name": "Alice"},
        "date": 1_700_000_000,
        "old_chat_member": {"status": "left", "user": {"id": 1, "is_bot": True, "first_name": "b"}},
        "new_chat_member": {
            "status": "member",
            "user": {"id": 1, "is_bot": True, "first_name": "b"},
        },
    }

    update_id = fake.inject_update({"my_chat_member": member})

    (update,) = await bot.get_updates(timeout=0)
    assert update.update_id == update_id
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == ChatMemberStatus.MEMBER


# -- long polling -------------------------------------------------------------------------------


async def test_long_poll_answers_as_soon_as_an_update_arrives_and_offset_confirms(
    fake: FakeTelegram, bot: Bot, alice: FakeUser, dm: FakeChat
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await fake.wait_for_call("getUpdates")
    sent = await fake.send_text(dm, alice, "/start")

    updates = await asyncio.wait_for(poll, timeout=5)

    assert [update.update_id for update in updates] == [sent.update_id]
    message = updates[0].message
    assert message is not None
    assert message.from_user is not None
    assert (message.text, message.chat.type, message.from_user.first_name) == (
        "/start",
        "private",
        "Alice",
    )
    assert message.entities == (MessageEntity("bot_command", 0, 6),)
    assert fake.pending_updates == 1
    assert sent.update_id is not None
    assert await bot.get_updates(offset=sent.update_id + 1, timeout=0) == ()
    assert fake.pending_updates == 0


async def test_allowed_updates_filters_update_kinds(
    fake: FakeTelegram, bot: Bot, alice: FakeUser, dm: FakeChat
) -> None:
    await bot.send_message(
        111,
        "card",
        reply_markup=InlineKeyboardMarkup.from_button(
            InlineKeyboardButton("OK", callback_data="ok")
        ),
    )
    await fake.send_text(dm, alice, "hello")
    query = await fake.press(dm, alice, fake.messages(dm)[0], "OK")

    updates = await bot.get_updates(timeout=0, allowed_updates=["callback_query"])

    assert [update.update_id for update in updates] == [query.update_id]


async def test_a_second_poller_terminates_the_first(fake: FakeTelegram) -> None:
    async with (
        Bot(TOKEN, base_url=fake.base_url) as first,
        Bot(TOKEN, base_url=fake.base_url) as second,
    ):
        poll = asyncio.create_task(first.get_updates(timeout=30))
        await fake.wait_for_call("getUpdates")
        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict) as conflict:
            await poll

    assert str(conflict.value) == POLLING_TERMINATED


# -- text validation ------------------------------------------------------------------------


async def test_html_is_stored_as_plain_text_with_entities(
    fake: FakeTelegram, bot: Bot, dm: FakeChat
) -> None:
    html = (
        "<b>Task #3</b> &amp; <i>more</i>\n"
        '<a href="https://example.com">docs</a> <code>0 9 * * 1-5</code>\n'
        '<pre><code class="language-python">print(1)</code></pre>'
        "<tg-spoiler>😀 x</tg-spoiler> &lt;3 &#128512;"
    )

    sent = await bot.send_message(111, html, parse_mode=ParseMode.HTML)

    text = "Task #3 & more\ndocs 0 9 * * 1-5\nprint(1)😀 x <3 😀"
    assert sent.text == text
    stored = fake.messages(dm)[0]
    assert stored.text == text
    assert stored.entities == (
        Entity("bold", 0, 7),
        Entity("italic", 10, 4),
        Entity("text_link", 15, 4, url="https://example.com/"),
        Entity("code", 20, 11),
        Entity("pre", 32, 8, language="python"),
        Entity("spoiler", 40, 4),
    )
    assert stored.entity_texts("spoiler") == ["😀 x"]
    assert sent.parse_entities(["text_link"]) == {
        MessageEntity("text_link", 15, 4, url="https://example.com/"): "docs"
    }


async def test_long_valid_html_is_accepted(fake: FakeTelegram, bot: Bot, dm: FakeChat) -> None:
    html = "\n".join(f"<b>{n:04}</b> <i>run</i> &lt;ok&gt;" for n in range(250))

    sent = await bot.send_message(111, html, parse_mode=ParseMode.HTML)

    assert len(html) > 2 * 4096
    assert sent.text is not None
    assert len(sent.text) == 250 * len("0000 run <ok>\n") - 1
    assert len(fake.messages(dm)[0].entities) == 500


@pytest.mark.parametrize(
    ("text", "parse_mode"),
    [
        ("x" * 4096, None),
        ("😀" * 2048, None),  # 4096 UTF-16 code units
        ("<b>" + "x" * 4096 + "</b>", ParseMode.HTML),
        ("x" * 4096 + "\n\n   ", None),  # trailing whitespace is trimmed first
    ],
)
async def test_4096_characters_are_accepted(
    fake: FakeTelegram, bot: Bot, text: str, parse_mode: str | None
) -> None:
    await bot.send_message(111, text, parse_mode=parse_mode)

    assert fake.errors == []


@pytest.mark.parametrize(
    ("text", "parse_mode"),
    [("x" * 4097, None), ("😀" * 2048 + "x", None), ("<b>" + "x" * 4097 + "</b>", ParseMode.HTML)],
)
async def test_longer_messages_are_refused(
    fake: FakeTelegram, bot: Bot, text: str, parse_mode: str | None
) -> None:
    with pytest.raises(BadRequest) as error:
        await bot.send_message(111, text, parse_mode=parse_mode)

    assert str(error.value) == "Message is too long"
    assert fake.errors == [ApiErrorAnswer("sendMessage", 400, "Bad Request: message is too long")]


@pytest.mark.parametrize("text", ["   \n  ", "<b> </b>\n"])
async def test_empty_text_is_refused(fake: FakeTelegram, bot: Bot, text: str) -> None:
    description = await refused(fake, bot.send_message(111, text, parse_mode=ParseMode.HTML))

    assert description == "Bad Request: message text is empty"


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<b>unclosed", "Can't find end tag corresponding to start tag b"),
        ("line<br>next", 'Unsupported start tag "br" at byte offset 4'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("AT&T", "Character '&' at byte offset 2 must be escaped as '&amp;'"),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<b>x</b></b>", "Unexpected end tag at byte offset 8"),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("ä <b", "Unclosed start tag at byte offset 3"),
    ],
)
async def test_bad_html_is_refused(fake: FakeTelegram, bot: Bot, html: str, reason: str) -> None:
    description = await refused(fake, bot.send_message(111, html, parse_mode=ParseMode.HTML))

    assert description == f"Bad Request: can't parse entities: {reason}"


async def test_ptb_reports_a_parse_error_capitalised(bot: Bot) -> None:
    with pytest.raises(BadRequest) as error:
        await bot.send_message(111, "line<br>next", parse_mode=ParseMode.HTML)

    # PTB drops "Bad Request: " and applies str.capitalize(), lower-casing the rest.
    assert str(error.value) == 'Can\'t parse entities: unsupported start tag "br" at byte offset 4'


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Version 1.0", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("*bold", "Can't find end of Bold entity at byte offset 0"),
        ("🏟 🏟_abac * asd _", "Can't find end of Italic entity at byte offset 21"),
        ("[docs](https://example.com", "Can't find end of a URL at byte offset 7"),
    ],
)
async def test_bad_markdown_v2_is_refused(
    fake: FakeTelegram, bot: Bot, text: str, reason: str
) -> None:
    description = await refused(fake, bot.send_message(111, text, parse_mode=ParseMode.MARKDOWN_V2))

    assert description == f"Bad Request: can't parse entities: {reason}"


async def test_escaped_markdown_v2_is_accepted(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(
        111, "Version 1\\.0 *ready* \\(_soon_\\)", parse_mode=ParseMode.MARKDOWN_V2
    )

    assert sent.text == "Version 1.0 ready (soon)"
    assert sent.entities == (MessageEntity("bold", 12, 5), MessageEntity("italic", 19, 4))


async def test_legacy_markdown_is_lenient(bot: Bot) -> None:
    sent = await bot.send_message(
        111, "*Done* at 9.00 - see [docs](example.com)!", parse_mode="Markdown"
    )

    assert sent.text == "Done at 9.00 - see docs!"
    assert sent.entities == (
        MessageEntity("bold", 0, 4),
        MessageEntity("text_link", 19, 4, url="http://example.com/"),
    )


async def test_explicit_entities_are_checked_against_the_text(
    fake: FakeTelegram, bot: Bot, dm: FakeChat
) -> None:
    await bot.send_message(
        111,
        "Done 😀 now",
        entities=[MessageEntity("bold", 0, 4), MessageEntity("italic", 5, 2)],
    )
    overlong = await refused(
        fake, bot.send_message(111, "Done", entities=[MessageEntity("bold", 2, 7)])
    )

    assert fake.messages(dm)[0].entities == (Entity("bold", 0, 4), Entity("italic", 5, 2))
    assert overlong == (
        "Bad Request: entity beginning at UTF-16 offset 2 ends after the end of the text at "
        "UTF-16 offset 9"
    )


# -- keyboards ------------------------------------------------------------------------------


def one_button(*, callback_data: str | None = None, url: str | None = None) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup.from_button(
        InlineKeyboardButton("Go", callback_data=callback_data, url=url)
    )


async def test_callback_data_of_64_bytes_is_accepted(
    fake: FakeTelegram, bot: Bot, dm: FakeChat
) -> None:
    await bot.send_message(111, "ok", reply_markup=one_button(callback_data="d" * 64))

    assert fake.messages(dm)[0].buttons == [FakeButton("Go", callback_data="d" * 64)]


@pytest.mark.parametrize("data", ["d" * 65, "ж" * 33])
async def test_callback_data_over_64_bytes_is_refused(
    fake: FakeTelegram, bot: Bot, data: str
) -> None:
    description = await refused(
        fake, bot.send_message(111, "x", reply_markup=one_button(callback_data=data))
    )

    assert description == "Bad Request: BUTTON_DATA_INVALID"


@pytest.mark.parametrize(
    ("markup", "description"),
    [
        (
            one_button(url="http://localhost:8080/x"),
            "Bad Request: inline keyboard button URL 'http://localhost:8080/x' is invalid: "
            "Wrong HTTP URL",
        ),
        (
            one_button(url="ftp://example.com"),
            "Bad Request: inline keyboard button URL 'ftp://example.com' is invalid: "
            "Unsupported URL protocol",
        ),
        (
            InlineKeyboardMarkup.from_button(InlineKeyboardButton("Go")),
            "Bad Request: can't parse inline keyboard button: "
            "Text buttons are unallowed in the inline keyboard",
        ),
        (
            InlineKeyboardMarkup.from_button(InlineKeyboardButton(" ", callback_data="x")),
            "Bad Request: BUTTON_TEXT_INVALID",
        ),
    ],
)
async def test_invalid_buttons_are_refused(
    fake: FakeTelegram, bot: Bot, markup: InlineKeyboardMarkup, description: str
) -> None:
    assert await refused(fake, bot.send_message(111, "x", reply_markup=markup)) == description


async def test_force_reply_is_accepted_but_not_echoed(
    fake: FakeTelegram, bot: Bot, dm: FakeChat
) -> None:
    sent = await bot.send_message(
        111, "Send the corrected task", reply_markup=ForceReply(input_field_placeholder="task")
    )

    assert sent.reply_markup is None  # Telegram only echoes inline keyboards
    assert fake.messages(dm)[0].force_reply is True


# -- replies, edits, deletes --------------------------------------------------------------------


async def test_replies_carry_the_replied_message(
    fake: FakeTelegram, bot: Bot, alice: FakeUser, dm: FakeChat
) -> None:
    question = await fake.send_text(dm, alice, "what is due?")

    sent = await bot.send_message(
        111, "Nothing", reply_parameters=ReplyParameters(question.message_id)
    )
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake.base_url}{TOKEN}/sendMessage",
            data={"chat_id": "111", "text": "Still nothing", "reply_to_message_id": "1"},
        ) as answer,
    ):
        legacy = (await answer.json())["result"]

    assert sent.reply_to_message is not None
    assert (sent.reply_to_message.message_id, sent.reply_to_message.text) == (1, "what is due?")
    assert legacy["reply_to_message"]["message_id"] == 1
    assert [m.reply_to_message_id for m in fake.messages(dm)] == [1, 1]


async def test_reply_to_a_missing_message_is_refused_unless_allowed(
    fake: FakeTelegram, bot: Bot
) -> None:
    description = await refused(
        fake, bot.send_message(111, "x", reply_parameters=ReplyParameters(99))
    )
    sent = await bot.send_message(
        111, "y", reply_parameters=ReplyParameters(99, allow_sending_without_reply=True)
    )

    assert description == "Bad Request: message to be replied not found"
    assert sent.reply_to_message is None


async def test_edit_with_identical_content_is_not_modified(
    fake: FakeTelegram, bot: Bot, dm: FakeChat
) -> None:
    markup = one_button(callback_data="ok")
    sent = await bot.send_message(
        111, "<b>Card</b>", parse_mode=ParseMode.HTML, reply_markup=markup
    )

    same = await refused(
        fake,
        bot.edit_message_text(
            "<b>Card</b>", 111, sent.message_id, parse_mode=ParseMode.HTML, reply_markup=markup
        ),
    )
    await bot.edit_message_text("Card", 111, sent.message_id)  # no bold, no keyboard: a change
    same_markup = await refused(fake, bot.edit_message_reply_markup(111, sent.message_id))

    assert same == same_markup == f"Bad Request: {NOT_MODIFIED}"
    card = fake.messages(dm)[0]
    assert (card.text, card.entities, card.buttons, card.edits) == ("Card", (), [], 1)


async def test_edit_reply_markup_replaces_the_keyboard(
    fake: FakeTelegram, bot: Bot, dm: FakeChat
) -> None:
    sent = await bot.send_message(111, "Card", reply_markup=one_button(callback_data="a"))

    edited = await bot.edit_message_reply_markup(
        111, sent.message_id, reply_markup=one_button(callback_data="b")
    )

    assert not isinstance(edited, bool)
    assert edited.edit_date is not None
    assert fake.messages(dm)[0].buttons == [FakeButton("Go", callback_data="b")]


async def test_editing_a_missing_or_foreign_message_is_refused(
    fake: FakeTelegram, bot: Bot, alice: FakeUser, dm: FakeChat
) -> None:
    users_message = await fake.send_text(dm, alice, "hi")

    missing = await refused(fake, bot.edit_message_text("x", 111, 42))
    foreign = await refused(fake, bot.edit_message_text("x", 111, users_message.message_id))

    assert missing == "Bad Request: message to edit not found"
    assert foreign == "Bad Request: message can't be edited"


async def test_deleted_messages_disappear(fake: FakeTelegram, bot: Bot, dm: FakeChat) -> None:
    sent = await bot.send_message(111, "to be deleted")

    assert await bot.delete_message(111, sent.message_id) is True
    again = await refused(fake, bot.delete_message(111, sent.message_id))

    assert fake.messages(dm) == []
    assert again == "Bad Request: message to delete not found"


# -- callback answers, chat actions, commands ---------------------------------------------------


async def test_callback_queries_are_answered_once(
    fake: FakeTelegram, bot: Bot, alice: FakeUser, dm: FakeChat
) -> None:
    await bot.send_message(111, "card", reply_markup=one_button(callback_data="ok"))
    query = await fake.press(dm, alice, fake.messages(dm)[0], "Go")

    too_long = await refused(fake, bot.answer_callback_query(query.id, "x" * 201))
    assert await bot.answer_callback_query(query.id, "Done", show_alert=True) is True
    twice = await refused(fake, bot.answer_callback_query(query.id))
    unknown = await refused(fake, bot.answer_callback_query("12345"))

    assert too_long == "Bad Request: MESSAGE_TOO_LONG"
    assert twice == unknown == f"Bad Request: {QUERY_TOO_OLD}"
    assert query.answer == CallbackAnswer(query.id, "Done", show_alert=True, url=None)


async def test_chat_actions_are_recorded(fake: FakeTelegram, bot: Bot, dm: FakeChat) -> None:
    await bot.send_chat_action(111, "typing")
    wrong = await refused(fake, bot.send_chat_action(111, "dancing"))

    assert fake.chat_actions(dm) == ["typing"]
    assert wrong == "Bad Request: wrong parameter action in request"


async def test_command_menu_per_scope(fake: FakeTelegram, bot: Bot) -> None:
    commands = [BotCommand("start", "Start"), BotCommand("tasks", "List tasks")]

    await bot.set_my_commands(commands)
    await bot.set_my_commands([BotCommand("new", "New task")], scope=BotCommandScopeAllGroupChats())
    invalid = await refused(fake, bot.set_my_commands([BotCommand("Start", "Start")]))

    assert fake.commands == [("start", "Start"), ("tasks", "List tasks")]
    assert fake.commands_for({"type": "all_group_chats"}) == [("new", "New task")]
    assert await bot.get_my_commands() == tuple(commands)
    assert invalid == "Bad Request: BOT_COMMAND_INVALID"
    assert await bot.delete_my_commands() is True
    assert fake.commands == []


# -- chats and members ----------------------------------------------------------------------------


async def test_unknown_chat_is_not_found(fake: FakeTelegram, bot: Bot) -> None:
    assert await refused(fake, bot.send_message(999, "hi")) == "Bad Request: chat not found"


async def test_a_blocked_user_or_a_removed_bot_is_forbidden(
    fake: FakeTelegram, bot: Bot, alice: FakeUser, dm: FakeChat
) -> None:
    team = fake.group(id=-1001, title="Team", owner=alice)
    fake.block(dm)
    fake.block(team)

    with pytest.raises(Forbidden) as blocked:
        await bot.send_message(111, "hi")
    with pytest.raises(Forbidden) as typing:
        await bot.send_chat_action(111, "typing")
    with pytest.raises(Forbidden) as kicked:
        await bot.send_message(-1001, "hi")
    fake.unblock(dm)
    await bot.send_message(111, "welcome back")

    assert str(blocked.value) == str(typing.value) == "Forbidden: bot was blocked by the user"
    assert str(kicked.value) == "Forbidden: bot was kicked from the supergroup chat"
    assert [m.text for m in fake.messages(dm)] == ["welcome back"]


async def test_chat_members_and_administrators(
    fake: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    bob = fake.user(id=222, first_name="Bob")
    carol = fake.user(id=333, first_name="Carol")
    dave = fake.user(id=444, first_name="Dave")
    team = fake.group(id=-1009, title="Team", owner=alice, admins=[bob], members=[carol])

    statuses = [
        (await bot.get_chat_member(team.id, user_id)).status
        for user_id in (alice.id, bob.id, carol.id, dave.id, bot.id)
    ]
    admins = await bot.get_chat_administrators(team.id)
    chat = await bot.get_chat(team.id)
    unknown = await refused(fake, bot.get_chat_member(team.id, 555))
    private = await refused(fake, bot.get_chat_administrators(fake.private_chat(alice).id))

    assert statuses == [
        ChatMemberStatus.OWNER,
        ChatMemberStatus.ADMINISTRATOR,
        ChatMemberStatus.MEMBER,
        ChatMemberStatus.LEFT,
        ChatMemberStatus.MEMBER,
    ]
    assert [(a.user.id, a.status) for a in admins] == [(111, "creator"), (222, "administrator")]
    assert isinstance(chat, ChatFullInfo)
    assert (chat.type, chat.title) == ("supergroup", "Team")
    assert unknown == "Bad Request: user not found"
    assert private == "Bad Request: there are no administrators in the private chat"


# -- webhook --------------------------------------------------------------------------------------


async def test_webhook_set_info_and_delete(
    fake: FakeTelegram, bot: Bot, alice: FakeUser, dm: FakeChat
) -> None:
    await fake.send_text(dm, alice, "queued before")

    await bot.set_webhook(
        "https://bot.example.com/hook",
        secret_token="s3cret_token-1",
        allowed_updates=["message", "callback_query"],
        drop_pending_updates=True,
    )
    info = await bot.get_webhook_info()
    with pytest.raises(Conflict) as conflict:
        await bot.get_updates(timeout=0)
    bad_secret = await refused(
        fake, bot.set_webhook("https://bot.example.com/h", secret_token="a+b")
    )
    await bot.delete_webhook()

    assert (info.url, info.pending_update_count, info.allowed_updates) == (
        "https://bot.example.com/hook",
        0,
        ("callback_query", "message"),
    )
    assert str(conflict.value) == POLLING_WHILE_WEBHOOK
    assert bad_secret == "Bad Request: secret token contains unallowed characters"
    assert fake.webhook is None
    assert (await bot.get_webhook_info()).url == ""


async def test_application_in_webhook_mode_receives_updates(
    fake: FakeTelegram, alice: FakeUser, dm: FakeChat
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    app = ApplicationBuilder().token(TOKEN).base_url(fake.base_url).build()
    app.add_handler(CommandHandler("start", greet))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1", port=port, url_path="hook", webhook_url=url, secret_token="s3cret"
        )
        try:
            await fake.send_text(dm, alice, "/start")
            reply = await fake.wait_for_message(dm)
            forged = await fake.post_update_to_webhook(url, {"update_id": 1}, secret_token="wrong")
            info = await app.bot.get_webhook_info()
        finally:
            await app.updater.stop()
            await app.stop()

    assert fake.webhook is not None
    assert (fake.webhook.url, fake.webhook.secret_token) == (url, "s3cret")
    assert reply.text == "Hello Alice"
    assert forged == 403
    assert info.pending_update_count == 0


# -- rate limits ----------------------------------------------------------------------------------


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def limited(
    clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[FakeTelegram]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as a timedelta
    async with FakeTelegram(clock=clock) as server:
        yield server


async def test_a_burst_to_one_chat_is_rate_limited(
    limited: FakeTelegram, clock: ManualClock
) -> None:
    limited.private_chat(limited.user(id=111, first_name="Alice"))
    async with Bot(TOKEN, base_url=limited.base_url) as bot:
        sent = [await bot.send_message(111, f"part {n}") for n in range(3)]
        for _ in range(3):
            await bot.send_chat_action(111, "typing")  # chat actions do not count
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(111, "part 3")
        clock.advance(1)
        await bot.send_message(111, "part 3")
        with pytest.raises(RetryAfter):
            await bot.edit_message_text("edited", 111, sent[0].message_id)  # edits count too

    assert flood.value.retry_after == dt.timedelta(seconds=1)
    assert limited.rate_limited_count == 2
    assert limited.errors[0] == ApiErrorAnswer(
        "sendMessage", 429, "Too Many Requests: retry after 1"
    )


async def test_a_group_gets_at_most_20_messages_a_minute(
    limited: FakeTelegram, clock: ManualClock
) -> None:
    limited.group(id=-1001, title="Team")
    async with Bot(TOKEN, base_url=limited.base_url) as bot:
        for n in range(20):
            await bot.send_message(-1001, f"message {n}")
            clock.advance(1)
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(-1001, "one too many")

    assert flood.value.retry_after == dt.timedelta(seconds=40)
    assert limited.rate_limited_count == 1


async def test_at_most_30_messages_a_second_over_all_chats(
    limited: FakeTelegram, clock: ManualClock
) -> None:
    for user_id in range(1, 32):
        limited.private_chat(limited.user(id=user_id, first_name=f"User {user_id}"))
    async with Bot(TOKEN, base_url=limited.base_url) as bot:
        for user_id in range(1, 31):
            await bot.send_message(user_id, "digest")
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(31, "digest")
        clock.advance(1)
        await bot.send_message(31, "digest")

    assert flood.value.retry_after == dt.timedelta(seconds=1)
    assert limited.rate_limited_count == 1


async def test_429_answer_carries_retry_after(clock: ManualClock) -> None:
    async with FakeTelegram(clock=clock, rate_limits=RateLimits.unlimited()) as server:
        server.rate_limits = RateLimits(per_chat_burst=1)
        server.private_chat(server.user(id=111, first_name="Alice"))
        url = f"{server.base_url}{TOKEN}/sendMessage"
        async with aiohttp.ClientSession() as session:
            await session.post(url, data={"chat_id": "111", "text": "one"})
            async with session.post(url, data={"chat_id": "111", "text": "two"}) as answer:
                assert (answer.status, await answer.json()) == (
                    429,
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": "Too Many Requests: retry after 1",
                        "parameters": {"retry_after": 1},
                    },
                )


async def test_close_and_log_out(fake: FakeTelegram, bot: Bot) -> None:
    assert await bot.close() is True
    assert await bot.log_out() is True
    assert (fake.closed, fake.logged_out) == (True, True)
