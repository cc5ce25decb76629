"""A fake Telegram Bot API server for end-to-end tests.

The bot under test runs the real python-telegram-bot client against this server over HTTP on
127.0.0.1 (``ApplicationBuilder().token(fake.token).base_url(fake.base_url)``), so requests and
answers go through PTB's real serialisation. The server keeps what a chat would show (the bot's
messages after edits, answered callback queries, chat actions, the command menu, the webhook) and
answers misuse the way Telegram does: bad HTML or MarkdownV2, messages over 4096 characters,
oversized callback data, edits that change nothing, unknown chats, blocked users and flood limits
all come back as Telegram's errors, with Telegram's wording.

Tests act as users through :class:`FakeTelegram`::

    async with FakeTelegram(bot_username="cronpilot_test_bot") as fake:
        alice = fake.user(id=111, first_name="Alice")
        dm = fake.private_chat(alice)
        ...  # start the bot with base_url=fake.base_url
        await fake.send_text(dm, alice, "/start")
        card = await fake.wait_for_message(dm, lambda m: m.has_button("Confirm"))
        await fake.press(dm, alice, card, "Confirm")

The package is laid out by concern: api (limits and error answers), entities, html and markdown
(parse modes → plain text + entities), validation (reply markup, request parameters), limits
(flood control), state (users, chats, messages) and server.
"""

from __future__ import annotations

from tests.fakes.telegram.api import (
    CHAT_ACTIONS,
    DEFAULT_TOKEN,
    MAX_CALLBACK_ANSWER_LENGTH,
    MAX_CALLBACK_DATA_BYTES,
    MAX_COMMANDS,
    MAX_INLINE_BUTTONS,
    MAX_MESSAGE_LENGTH,
    NOT_MODIFIED,
    OPT_IN_UPDATES,
    POLLING_TERMINATED,
    POLLING_WHILE_WEBHOOK,
    QUERY_TOO_OLD,
    ApiError,
    JSONObject,
    bad_request,
    forbidden,
)
from tests.fakes.telegram.entities import (
    Entity,
    EntityParseError,
    FormattedText,
    checked_link,
    detect_entities,
    explicit_entities,
    finalize_text,
    link_problem,
    utf16_length,
    utf16_slice,
)
from tests.fakes.telegram.html import (
    parse_html,
)
from tests.fakes.telegram.limits import (
    FloodControl,
    ManualClock,
    RateLimits,
    Refusal,
)
from tests.fakes.telegram.markdown import (
    parse_markdown,
    parse_markdown_v2,
)
from tests.fakes.telegram.server import (
    ApiMethod,
    FakeTelegram,
    MessagePredicate,
)
from tests.fakes.telegram.state import (
    ApiCall,
    ApiErrorAnswer,
    CallbackAnswer,
    ChatType,
    FakeCallbackQuery,
    FakeChat,
    FakeMessage,
    FakeUser,
    MemberStatus,
    WebhookConfig,
)
from tests.fakes.telegram.validation import (
    FakeButton,
    Params,
    read_params,
    validate_reply_markup,
)

__all__ = [
    "CHAT_ACTIONS",
    "DEFAULT_TOKEN",
    "MAX_CALLBACK_ANSWER_LENGTH",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_COMMANDS",
    "MAX_INLINE_BUTTONS",
    "MAX_MESSAGE_LENGTH",
    "NOT_MODIFIED",
    "OPT_IN_UPDATES",
    "POLLING_TERMINATED",
    "POLLING_WHILE_WEBHOOK",
    "QUERY_TOO_OLD",
    "ApiCall",
    "ApiError",
    "ApiErrorAnswer",
    "ApiMethod",
    "CallbackAnswer",
    "ChatType",
    "Entity",
    "EntityParseError",
    "FakeButton",
    "FakeCallbackQuery",
    "FakeChat",
    "FakeMessage",
    "FakeTelegram",
    "FakeUser",
    "FloodControl",
    "FormattedText",
    "JSONObject",
    "ManualClock",
    "MemberStatus",
    "MessagePredicate",
    "Params",
    "RateLimits",
    "Refusal",
    "WebhookConfig",
    "bad_request",
    "checked_link",
    "detect_entities",
    "explicit_entities",
    "finalize_text",
    "forbidden",
    "link_problem",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "read_params",
    "utf16_length",
    "utf16_slice",
    "validate_reply_markup",
]
