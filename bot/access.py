"""Who may do what: the allowlist for everything, chat admins for changes in groups."""

from __future__ import annotations

from telegram import Chat, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationHandlerStop

from bot import render
from bot.context import Context, services
from bot.i18n import Translator


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
    """Creating and changing tasks: the rules of application.access (anyone in their private
    chat, admins in groups unless the operator lets members manage too)."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or user is None:
        return False
    message = update.effective_message
    # An anonymous admin writes as the group itself.
    if chat.type != Chat.PRIVATE and message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    rights = await services(context).access.rights_in(user.id, chat.id, chat.type)
    return rights.manage


NOT_MANAGER = "Only this group's admins can create or change tasks here."


def not_manager(_: Translator) -> str:
    return _("Only this group's admins can create or change tasks here.")
