"""Small pieces every handler uses: the chat record, replies, command arguments."""

from __future__ import annotations

from typing import Self

from telegram import CallbackQuery, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from application import UseCases
from application.permissions import Actor, Door
from bot import problems
from bot.context import Context, use_cases
from bot.i18n import Translator, translator_for
from bot.render import Screen
from core.errors import CronpilotError
from core.languages import ENGLISH, supported_language
from storage.records import Chat


def telegram_language(update: Update) -> str | None:
    """The language of the person's Telegram app, when they gave one."""
    user = update.effective_user
    return user.language_code if user is not None and user.language_code else None


async def current_chat(update: Update, context: Context) -> Chat:
    """The chat of this update, recorded (or refreshed) in the database; a private chat keeps
    its person's language for the messages it gets later (results, notices)."""
    chat = update.effective_chat
    assert chat is not None
    title = chat.title or chat.full_name
    user_language = None
    code = telegram_language(update)
    if chat.type == chat.PRIVATE and code is not None:
        user_language = supported_language(code) or ENGLISH
    return await use_cases(context).chats.see(
        chat.id, type=chat.type, title=title, user_language=user_language
    )


def actor(update: Update) -> Actor:
    """Who acts in this update: the person, in this chat (and topic), through the bot. An
    anonymous admin's message comes as the group itself (its sender chat)."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    message = update.message
    topic = message.message_thread_id if message is not None and message.is_topic_message else None
    sender = message.sender_chat if message is not None else None
    return Actor(
        user.id,
        Door.BOT,
        chat_id=chat.id,
        chat_type=chat.type,
        topic_id=topic,
        as_chat=sender.id if sender is not None else None,
    )


def topic(update: Update) -> int | None:
    """The forum topic the update was written in (a supergroup's topic, or a private chat's in
    threaded mode); None for the main thread and for a chain of replies in a plain group."""
    message = update.effective_message
    if message is None or not message.is_topic_message:
        return None
    return message.message_thread_id


def chat_translator(update: Update, chat: Chat) -> Translator:
    """The bot's words for this chat and update."""
    return translator_for(chat, telegram_language(update))


def chat_zone(chat: Chat, context: Context) -> str:
    return use_cases(context).chats.zone_of(chat)


async def reply(update: Update, screen: Screen | str) -> Message | None:
    message = update.effective_message
    if message is None:
        return None
    if isinstance(screen, str):
        screen = Screen(screen)
    return await message.reply_text(
        screen.text,
        parse_mode=ParseMode.HTML,
        reply_markup=screen.keyboard,
        disable_web_page_preview=True,
    )


async def edit(message: Message | None, screen: Screen) -> None:
    """Redraw `message` (the one a pressed button sits on) as `screen`; the same screen again is
    no change, not an error."""
    if message is None:
        return
    try:
        await message.edit_text(
            screen.text,
            parse_mode=ParseMode.HTML,
            reply_markup=screen.keyboard,
            disable_web_page_preview=True,
        )
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


# Task ids are 64-bit; 18 digits always fit.
MAX_ID_DIGITS = 18


def task_number(context: Context) -> int | None:
    """The task id given to a command (/pause 12), or None when it is missing or not a number."""
    if not context.args:
        return None
    text = context.args[0].lstrip("#")
    if not text.isascii() or not text.isdigit() or len(text) > MAX_ID_DIGITS:
        return None
    return int(text)


def oversized_number(context: Context) -> str | None:
    """The argument, when it is a number too large to be any task's id (32 digits, say)."""
    if not context.args:
        return None
    text = context.args[0].lstrip("#")
    if text.isascii() and text.isdigit() and len(text) > MAX_ID_DIGITS:
        return text
    return None


class Press:
    """A press of a button, as `async with Press(update, context) as press:` around the use
    case it calls: the chat, its words and zone, the presser as the actor, and an expected
    error answered as an alert (`answer_problem`, which a kind of card may word its own way)."""

    chat: Chat
    words: Translator
    zone: str

    def __init__(self, update: Update, context: Context) -> None:
        self._update = update
        self._context = context
        self.use_cases: UseCases = use_cases(context)
        self.actor = actor(update)
        query = update.callback_query
        assert query is not None
        self.query: CallbackQuery = query
        self.message = query.message if isinstance(query.message, Message) else None

    async def __aenter__(self) -> Self:
        self.chat = await current_chat(self._update, self._context)
        self.words = chat_translator(self._update, self.chat)
        self.zone = chat_zone(self.chat, self._context)
        return self

    async def __aexit__(self, kind: object, error: BaseException | None, trace: object) -> bool:
        if isinstance(error, CronpilotError):
            return await self.answer_problem(error)
        return False

    async def answer(self, text: str | None = None) -> None:
        await self.query.answer(text)

    async def answer_problem(self, error: CronpilotError) -> bool:
        """Say what went wrong in an alert; False to let the error through after all."""
        await self.query.answer(problems.alert(self.words, error, self.zone), show_alert=True)
        return True
