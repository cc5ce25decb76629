"""Who may do what: the allowlist for everything, chat admins for changes in groups."""

from __future__ import annotations

from telegram import Chat, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationHandlerStop

from application.limits import Verdict
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
    """Runs before every handler: stops updates from users not on ALLOWED_USERS, edited
    messages, and floods."""
    if update.my_chat_member is not None:
        # The bot was removed or let back in: whoever did it, the chat's state must follow.
        return
    if update.edited_message is not None or update.edited_channel_post is not None:
        # Editing an old "/run 3" must not run the task again; an edit is never a new request.
        raise ApplicationHandlerStop
    user = update.effective_user
    if user is None:
        raise ApplicationHandlerStop  # channel posts and the like: nobody to authorise
    limits = services(context).limits
    if services(context).settings.allowed_users.allows(user.id):
        if update.callback_query is not None or update.effective_message is None:
            return
        verdict = limits.message(user.id)
        if verdict is Verdict.ALLOW:
            return
        if verdict is Verdict.WARN:
            await update.effective_message.reply_text(render.slow_down())
        raise ApplicationHandlerStop
    query = update.callback_query
    if query is not None:
        await query.answer(
            f"You are not allowed to use this bot (your id is {user.id}).", show_alert=True
        )
    elif (
        update.effective_message is not None
        and addressed_to_bot(update, context)
        and limits.stranger(user.id)
    ):
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


NOT_MANAGER = (
    "Only this group's admins can create, run or change tasks here. "
    "You can still look: /tasks lists them and /history N shows a task's last runs."
)


def not_manager(_: Translator) -> str:
    return _("Only this group's admins can create or change tasks here.")
