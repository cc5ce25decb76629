"""Who may do what: the allowlist for everything, chat admins for changes in groups."""

from __future__ import annotations

from telegram import Chat, Update
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot import render
from bot.context import Context, services
from bot.i18n import Translator

MANAGERS = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})


def addressed_to_bot(update: Update, context: Context) -> bool:
    """Whether a message speaks to the bot (anything in private; commands, mentions and
    replies in groups), so that strangers in a group are not answered for every line."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return False
    if chat.type == Chat.PRIVATE:
        return True
    text = message.text or ""
    if text.startswith("/"):
        return True
    username = context.bot.username
    if username and f"@{username.lower()}" in text.lower():
        return True
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == context.bot.id)


async def gate(update: Update, context: Context) -> None:
    """Runs before every handler: stops updates from users not on ALLOWED_USERS."""
    user = update.effective_user
    if user is None:
        raise ApplicationHandlerStop  # channel posts and the like: nobody to authorise
    if services(context).settings.allowed_users.allows(user.id):
        return
    query = update.callback_query
    if query is not None:
        await query.answer(
            f"You are not allowed to use this bot (your id is {user.id}).", show_alert=True
        )
    elif update.effective_message is not None and addressed_to_bot(update, context):
        await update.effective_message.reply_text(
            render.refused(user.id), parse_mode=ParseMode.HTML
        )
    raise ApplicationHandlerStop


async def can_manage(update: Update, context: Context) -> bool:
    """Creating and changing tasks: anyone in private, admins in groups (unless the operator
    lets members manage too)."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or user is None:
        return False
    if chat.type == Chat.PRIVATE or services(context).settings.group_members_can_manage:
        return True
    message = update.effective_message
    # An anonymous admin writes as the group itself.
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError:
        return False
    return member.status in MANAGERS


NOT_MANAGER = "Only this group's admins can create or change tasks here."


def not_manager(_: Translator) -> str:
    return _("Only this group's admins can create or change tasks here.")
