"""The bot's gate: only users on ALLOWED_USERS get through (application.access says who is),
and floods are slowed down. What each of them may do is the use cases' to check."""

from __future__ import annotations

from telegram import Chat, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationHandlerStop

from application.limits import Verdict
from bot import problems, render
from bot.context import Context, use_cases
from bot.i18n import Translator, translator
from core.languages import ENGLISH


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
    limits = context.bot_data.limits
    if use_cases(context).access.allowed(user.id):
        if update.callback_query is not None or update.effective_message is None:
            return
        verdict = limits.message(user.id)
        if verdict is Verdict.ALLOW:
            return
        if verdict is Verdict.WARN:
            await update.effective_message.reply_text(render.slow_down(update_words(update)))
        raise ApplicationHandlerStop
    # A stranger has no chat record worth making: their app's language in private, else English.
    _ = update_words(update)
    query = update.callback_query
    if query is not None:
        await query.answer(problems.not_allowed(_, user.id), show_alert=True)
    elif (
        update.effective_message is not None
        and addressed_to_bot(update, context)
        and limits.stranger(user.id)
    ):
        await update.effective_message.reply_text(
            render.refused(_, user.id), parse_mode=ParseMode.HTML
        )
    raise ApplicationHandlerStop


def update_words(update: Update) -> Translator:
    """The bot's words before the chat is looked up: the language of the person's app in a
    private chat, else English."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is not None and chat.type == Chat.PRIVATE and user is not None:
        return translator(user.language_code or ENGLISH)
    return translator(ENGLISH)
