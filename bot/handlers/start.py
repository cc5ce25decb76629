"""/start, /help, /timezone and the shared location."""

from __future__ import annotations

import asyncio
import functools
from html import escape
from typing import TYPE_CHECKING

from telegram import Chat, KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.constants import ChatMemberStatus, ParseMode

from application.permissions import RefusedError
from bot import problems, render, shapes
from bot.context import Context, use_cases
from bot.handlers.common import actor, chat_translator, chat_zone, current_chat, reply
from bot.i18n import Translator
from core.errors import ScheduleError

if TYPE_CHECKING:
    from timezonefinder import TimezoneFinder


@functools.cache
def _finder() -> TimezoneFinder:
    # Imported and loaded on the first shared location (offline, no network), not at start-up.
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


def zone_at(latitude: float, longitude: float) -> str | None:
    return _finder().timezone_at(lng=longitude, lat=latitude)


async def start(update: Update, context: Context) -> None:
    chat = await current_chat(update, context)
    _ = chat_translator(update, chat)
    private = chat.type == Chat.PRIVATE
    message = update.effective_message
    assert message is not None
    keyboard = (
        ReplyKeyboardMarkup(
            [[KeyboardButton(render.share_location(_), request_location=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        if private
        else None
    )
    await message.reply_text(
        render.start(_, chat_zone(chat, context), private=private),
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
        disable_web_page_preview=True,
    )


async def help_command(update: Update, context: Context) -> None:
    chat = await current_chat(update, context)
    _ = chat_translator(update, chat)
    await reply(update, render.help_text(_) + "\n\n" + shapes.help_text(_))


async def unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not have: one short pointer to /help, never silence. In groups
    only commands addressed to this bot (/name@bot) are answered; others may be another bot's."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or not message.text:
        return
    name, _at, target = message.text.split()[0][1:].partition("@")
    username = (context.bot.username or "").lower()
    if target and target.lower() != username:
        return
    if chat.type != Chat.PRIVATE and not target:
        return
    record = await current_chat(update, context)
    await reply(update, render.unknown_command(chat_translator(update, record), f"/{name}"))


async def timezone(update: Update, context: Context) -> None:
    chat = await current_chat(update, context)
    _ = chat_translator(update, chat)
    if not context.args:
        await reply(
            update,
            _(
                "🌍 This chat's time zone is <b>{zone}</b>.\n"
                "Change it with /timezone Area/City, for example /timezone America/New_York.",
                zone=escape(chat_zone(chat, context)),
            ),
        )
        return
    wanted = " ".join(context.args)
    try:
        zone = await use_cases(context).chats.set_timezone(actor(update), chat.id, wanted)
    except (ScheduleError, RefusedError) as error:
        await reply(update, problems.reply(_, error, chat_zone(chat, context)))
        return
    await reply(update, _zone_set(_, zone))


async def location(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message is not None and message.location is not None
    chat = await current_chat(update, context)
    _ = chat_translator(update, chat)
    where = message.location
    zone = await asyncio.to_thread(zone_at, where.latitude, where.longitude)
    if zone is None:
        await message.reply_text(
            _(
                "I couldn't tell the time zone of that place (is it at sea?). "
                "Use /timezone Area/City instead."
            ),
            reply_markup=ReplyKeyboardRemove(),
        )
        return
    try:
        zone = await use_cases(context).chats.set_timezone(actor(update), chat.id, zone)
    except RefusedError as error:
        await reply(update, problems.reply(_, error, chat_zone(chat, context)))
        return
    await message.reply_text(
        _zone_set(_, zone), parse_mode=ParseMode.HTML, reply_markup=ReplyKeyboardRemove()
    )


def _zone_set(_: Translator, zone: str) -> str:
    return _(
        "🌍 Time zone set to <b>{zone}</b>. New tasks use it; "
        "existing tasks keep the zone they were created with (change one with /edit).",
        zone=escape(zone),
    )


async def membership(update: Update, context: Context) -> None:
    """The bot was blocked, kicked or let back in: keep the chat's state in step."""
    change = update.my_chat_member
    if change is None:
        return
    cases = use_cases(context)
    status = change.new_chat_member.status
    if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
        await cases.chats.unreachable(change.chat.id)
    else:
        chat = change.chat
        await cases.chats.see(chat.id, type=chat.type, title=chat.title or chat.full_name)
