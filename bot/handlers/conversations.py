"""Replies to the bot's messages about a task (follow-ups, changes in words) and change cards."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from application.changes import ChangeNotFoundError, ChangeOutdatedError
from application.conversations import (
    Answered,
    Failed,
    NewRequest,
    NotAllowed,
    Proposed,
    Unclear,
)
from application.errors import TaskStateError
from bot import problems, replies
from bot.access import can_manage, not_manager
from bot.callbacks import LIST, Action, Callback, decode
from bot.context import Context, services
from bot.handlers.common import chat_zone, current_chat, words
from bot.render import Screen
from core.errors import ScheduleError
from scheduler.engine import TaskNotFoundError

# Buttons that name a task: the task cards (/task N, Scheduled, lists) and results carry them.
_TASK_BUTTONS = frozenset(
    {Action.RUN, Action.RUN_AGAIN, Action.RETRY, Action.PAUSE, Action.RESUME, Action.DELETE}
)


def _task_named_by(markup: InlineKeyboardMarkup | None) -> int | None:
    """The one task the message's buttons act on; None for none or several (a list)."""
    if markup is None:
        return None
    found: set[int] = set()
    for row in markup.inline_keyboard:
        for button in row:
            data = button.callback_data if isinstance(button.callback_data, str) else None
            callback = decode(data)
            on_a_list = (
                callback is not None
                and callback.place is not None
                and (callback.place.kind == LIST)
            )
            if callback is not None and callback.action in _TASK_BUTTONS and not on_a_list:
                try:
                    found.add(callback.number)
                except ValueError:
                    continue
    return found.pop() if len(found) == 1 else None


async def _reply(update: Update, screen: Screen | str) -> Message | None:
    """Answer as a reply to the message, in private chats too (the thread stays visible)."""
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
        do_quote=True,
    )


async def reply_about_task(update: Update, context: Context, replied: Message, text: str) -> bool:
    """A reply to one of the bot's messages about a task; False when it is about none (or is a
    new task request), so that it is read as a request."""
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None and user is not None
    conversations = services(context).app.conversations
    subject = await conversations.subject(
        chat.id, replied.message_id, task_id=_task_named_by(replied.reply_markup)
    )
    if subject is None:
        return False
    record = await current_chat(update, context)
    _ = words(update, record)
    zone = chat_zone(record, context)
    may_change = await can_manage(update, context)
    try:
        outcome = await conversations.reply(subject, user.id, text, may_change=may_change)
    except ScheduleError as error:
        await _reply(update, problems.reply(_, error, zone))
        return True
    except TaskNotFoundError:
        await _reply(update, replies.task_gone(_))
        return True
    if isinstance(outcome, NewRequest):
        return False
    if isinstance(outcome, Answered):
        await _post_answer(update, context, outcome)
    elif isinstance(outcome, Proposed):
        now = services(context).clock.now()
        sent = await _reply(update, replies.change_card(_, outcome.card, now, zone))
        if sent is not None:
            await services(context).app.changes.attach_card(outcome.card.change_id, sent.message_id)
    elif isinstance(outcome, NotAllowed):
        await _reply(update, not_manager(_))
    elif isinstance(outcome, Unclear):
        await _reply(update, replies.unclear(_, outcome.task))
    elif isinstance(outcome, Failed):
        text = (
            replies.change_unusable(_, problems.words(_, outcome.problem))
            if outcome.problem is not None
            else replies.answer_failed(_, _.reason(outcome.reason))
        )
        await _reply(update, text)
    return True


async def _post_answer(update: Update, context: Context, outcome: Answered) -> None:
    message = update.effective_message
    assert message is not None
    answer = outcome.followup.answer or ""
    chunks = replies.answer_chunks(answer)
    try:
        sent = [
            await message.reply_text(
                chunk.text,
                entities=list(chunk.entities),
                disable_web_page_preview=True,
                do_quote=True,
            )
            for chunk in chunks
        ]
    except BadRequest:
        # The formatting was refused: the model's text as it is.
        sent = [
            await message.reply_text(answer[:4000], disable_web_page_preview=True, do_quote=True)
        ]
    await services(context).app.conversations.delivered(
        outcome.followup.id, [part.message_id for part in sent]
    )


async def change_button(update: Update, context: Context, callback: Callback) -> None:
    """Confirm or Cancel on a change card, authorised again."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and chat is not None
    record = await current_chat(update, context)
    _ = words(update, record)
    if not await can_manage(update, context):
        await query.answer(not_manager(_), show_alert=True)
        return
    changes = services(context).app.changes
    message = query.message if isinstance(query.message, Message) else None
    try:
        if callback.action is Action.CHANGE_CONFIRM:
            applied = await changes.confirm(chat.id, callback.ref)
            await query.answer(replies.changed_notice(_, applied.task.id))
            screen = replies.change_applied(_, applied, chat_zone(record, context))
            await query.edit_message_text(
                screen.text, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard
            )
        else:
            card = await changes.cancel(chat.id, callback.ref)
            await query.answer(replies.cancelled_notice(_))
            await query.edit_message_text(
                replies.change_cancelled(_, card), parse_mode=ParseMode.HTML
            )
    except ChangeOutdatedError as error:
        await query.answer(replies.change_outdated(_, error.task_id), show_alert=True)
        await _drop_buttons(message)
    except ChangeNotFoundError:
        await query.answer(replies.change_closed(_), show_alert=True)
        await _drop_buttons(message)
    except (TaskNotFoundError, TaskStateError, ScheduleError) as error:
        await query.answer(problems.alert(_, error, chat_zone(record, context)), show_alert=True)
        await _drop_buttons(message)


async def _drop_buttons(message: Message | None) -> None:
    if message is None or message.reply_markup is None:
        return
    try:
        await message.edit_reply_markup(reply_markup=None)
    except BadRequest:
        return  # already without buttons
