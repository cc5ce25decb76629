"""Small pieces every handler uses: the chat record, replies, command arguments."""

from __future__ import annotations

from telegram import Message, Update
from telegram.constants import ParseMode

from application.permissions import Actor, Door
from bot.context import Context, services
from bot.i18n import Translator, translator_for
from bot.render import Screen
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
    return await services(context).app.chats.see(
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


def words(update: Update, chat: Chat) -> Translator:
    """The bot's words for this chat and update."""
    return translator_for(chat, telegram_language(update))


def chat_zone(chat: Chat, context: Context) -> str:
    return services(context).app.chats.zone_of(chat)


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
