"""/start, /help, /timezone and the shared location."""

from __future__ import annotations

import asyncio
import functools
from html import escape
from typing import TYPE_CHECKING

from telegram import Chat, KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.constants import ChatMemberStatus, ParseMode

from bot import problems, render
from bot.access import NOT_MANAGER, can_manage
from bot.context import Context, services
from bot.handlers.common import chat_zone, current_chat, reply, words
from core.errors import ScheduleError

if TYPE_CHECKING:
    from timezonefinder import TimezoneFinder

SHARE_LOCATION = "📍 Share location"


@functools.cache
def _finder() -> TimezoneFinder:
    # Imported and loaded on the first shared location (offline, no network), not at start-up.
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


def zone_at(latitude: float, longitude: float) -> str | None:
    return _finder().timezone_at(lng=longitude, lat=latitude)


async def start(update: Update, context: Context) -> None:
    chat = await current_chat(update, context)
    private = chat.type == Chat.PRIVATE
    message = update.effective_message
    assert message is not None
    keyboard = (
        ReplyKeyboardMarkup(
            [[KeyboardButton(SHARE_LOCATION, request_location=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        if private
        else None
    )
    await message.reply_text(
        render.start(chat_zone(chat, context), private=private),
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
        disable_web_page_preview=True,
    )


async def help_command(update: Update, context: Context) -> None:
    await reply(update, render.help_text())


async def unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not have: one short pointer to /help, never silence. In groups
    only commands addressed to this bot (/name@bot) are answered; others may be another bot's."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or not message.text:
        return
    name, _, target = message.text.split()[0][1:].partition("@")
    username = (context.bot.username or "").lower()
    if target and target.lower() != username:
        return
    if chat.type != Chat.PRIVATE and not target:
        return
    await reply(update, render.unknown_command(f"/{name}"))


async def timezone(update: Update, context: Context) -> None:
    chat = await current_chat(update, context)
    if not context.args:
        await reply(
            update,
            f"🌍 This chat's time zone is <b>{chat_zone(chat, context)}</b>.\n"
            "Change it with /timezone Area/City, for example /timezone America/New_York.",
        )
        return
    if not await can_manage(update, context):
        await reply(update, NOT_MANAGER)
        return
    try:
        zone = await services(context).app.chats.set_timezone(chat.id, " ".join(context.args))
    except ScheduleError as error:
        await reply(update, problems.reply(words(update, chat), error, chat_zone(chat, context)))
        return
    await reply(update, _zone_set(zone))


async def location(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message is not None and message.location is not None
    chat = await current_chat(update, context)
    where = message.location
    zone = await asyncio.to_thread(zone_at, where.latitude, where.longitude)
    if zone is None:
        await message.reply_text(
            "I couldn't tell the time zone of that place (is it at sea?). "
            "Use /timezone Area/City instead.",
            reply_markup=ReplyKeyboardRemove(),
        )
        return
    zone = await services(context).app.chats.set_timezone(chat.id, zone)
    await message.reply_text(
        _zone_set(zone), parse_mode=ParseMode.HTML, reply_markup=ReplyKeyboardRemove()
    )


def _zone_set(zone: str) -> str:
    return (
        f"🌍 Time zone set to <b>{escape(zone)}</b>. New tasks use it; "
        "existing tasks keep the zone they were created with (change one with /edit)."
    )


async def membership(update: Update, context: Context) -> None:
    """The bot was blocked, kicked or let back in: keep the chat's state in step."""
    change = update.my_chat_member
    if change is None:
        return
    app = services(context).app
    status = change.new_chat_member.status
    if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
        await app.chats.unreachable(change.chat.id)
    else:
        chat = change.chat
        await app.chats.see(chat.id, type=chat.type, title=chat.title or chat.full_name)
