"""The bot's gate: only users on ALLOWED_USERS get through (application.access says who is),
and floods are slowed down. What each of them may do is the use cases' to check. Strangers are
told so (at most once a period) by bot.refusals, at low priority: never before the allowed."""

from __future__ import annotations

from collections.abc import Awaitable

from telegram import Chat, Message, ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationHandlerStop

from application.limits import Verdict
from bot import problems, render
from bot.context import Context, use_cases
from bot.i18n import Translator, translator
from bot.ratelimit import Priority
from bot.refusals import Refusal
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
    refusals = context.bot_data.refusals
    query = update.callback_query
    message = update.effective_message
    if query is not None:
        # The button stops spinning when this is sent; dropped, it stops by itself.
        refusals.offer(
            lambda: context.bot.answer_callback_query(
                query.id,
                problems.not_allowed(_, user.id),
                show_alert=True,
                rate_limit_args=Priority.LOW,
            )
        )
    elif message is not None and addressed_to_bot(update, context) and limits.stranger(user.id):
        queued = refusals.offer(_refusal(context, message, render.refused(_, user.id)))
        if not queued:
            limits.not_told(user.id)
    raise ApplicationHandlerStop


def _refusal(context: Context, message: Message, text: str) -> Refusal:
    """A reply to `message`, as Message.reply_text makes it (quoting it in groups, in its
    topic), sent at low priority: reply_text cannot pass rate_limit_args on."""
    quote = None
    if message.chat.type != Chat.PRIVATE:
        quote = ReplyParameters(message.message_id, allow_sending_without_reply=True)
    thread = message.message_thread_id if message.is_topic_message else None

    def send() -> Awaitable[Message]:
        return context.bot.send_message(
            message.chat_id,
            text,
            parse_mode=ParseMode.HTML,
            reply_parameters=quote,
            message_thread_id=thread,
            rate_limit_args=Priority.LOW,
        )

    return send


def update_words(update: Update) -> Translator:
    """The bot's words before the chat is looked up: the language of the person's app in a
    private chat, else English."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is not None and chat.type == Chat.PRIVATE and user is not None:
        return translator(user.language_code or ENGLISH)
    return translator(ENGLISH)
