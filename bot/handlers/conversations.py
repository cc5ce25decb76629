"""Replies to the bot's messages about a task (follow-ups, changes in words) and change cards."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from application.changes import ChangeNotFoundError, ChangeOutdatedError, InvalidChangeError
from application.conversations import (
    Answered,
    Failed,
    NewRequest,
    NotAllowed,
    Proposed,
    Unclear,
)
from application.errors import TaskStateError, UnknownModelError
from application.permissions import RefusedError
from application.targets import TargetError
from bot import problems, replies
from bot.callbacks import (
    LIST,
    CancelChange,
    ConfirmChange,
    DeleteTask,
    PauseTask,
    ResumeTask,
    RetryTask,
    RunTask,
    TaskButton,
    decode,
)
from bot.context import Context, use_cases
from bot.handlers.common import Press, actor, chat_translator, chat_zone, current_chat
from bot.handlers.setup import setup_lines
from bot.i18n import Translator
from bot.posting import Poster
from bot.render import Screen
from core.errors import CronpilotError, ScheduleError, WordedError
from scheduler.documents import DocumentText, Picture
from scheduler.engine import TaskNotFoundError

# Buttons that name a task: the task cards (/task N, Scheduled, lists) and results carry them.
_TASK_BUTTONS = (RunTask, RetryTask, PauseTask, ResumeTask, DeleteTask)


def _task_named_by(markup: InlineKeyboardMarkup | None) -> int | None:
    """The one task the message's buttons act on; None for none or several (a list)."""
    if markup is None:
        return None
    found: set[int] = set()
    for row in markup.inline_keyboard:
        for button in row:
            data = decode(button.callback_data)
            if not isinstance(data, _TASK_BUTTONS):
                continue
            assert isinstance(data, TaskButton)
            if data.place is None or data.place.kind != LIST:
                found.add(data.task_id)
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


async def reply_about_task(
    update: Update,
    context: Context,
    replied: Message,
    text: str,
    *,
    attachment: DocumentText | Picture | None = None,
) -> bool:
    """A reply to one of the bot's messages about a task (with a document sent with it, for
    the follow-up model); False when it is about none (or is a new task request), so that it
    is read as a request."""
    chat = update.effective_chat
    assert chat is not None
    who = actor(update)
    conversations = use_cases(context).conversations
    subject = await conversations.subject(
        who, chat.id, replied.message_id, task_id=_task_named_by(replied.reply_markup)
    )
    if subject is None:
        return False
    record = await current_chat(update, context)
    _ = chat_translator(update, record)
    zone = chat_zone(record, context)
    try:
        outcome = await conversations.reply(who, subject, text, attachment=attachment)
    except InvalidChangeError as error:
        await _reply(update, replies.change_unusable(_, problems.worded(_, error)))
        return True
    except (ScheduleError, RefusedError, TargetError, UnknownModelError) as error:
        await _reply(update, problems.reply(_, error, zone))
        return True
    except TaskNotFoundError:
        await _reply(update, replies.task_gone(_))
        return True
    if isinstance(outcome, NewRequest):
        return False
    if isinstance(outcome, Answered):
        await _post_answer(update, context, outcome, _)
    elif isinstance(outcome, Proposed):
        now = use_cases(context).clock.now()
        sent = await _reply(
            update,
            replies.change_card(_, outcome.card, now, zone, use_cases(context).setup.models),
        )
        if sent is not None:
            await use_cases(context).changes.attach_card(
                who, outcome.card.change_id, sent.message_id
            )
    elif isinstance(outcome, NotAllowed):
        await _reply(
            update,
            replies.changed_elsewhere(_, outcome.task)
            if outcome.elsewhere
            else problems.not_manager(_),
        )
    elif isinstance(outcome, Unclear):
        await _reply(
            update,
            replies.unclear_elsewhere(_, outcome.task)
            if outcome.elsewhere
            else replies.unclear(_, outcome.task),
        )
    elif isinstance(outcome, Failed):
        problem = outcome.problem
        if isinstance(problem, WordedError):
            text = replies.change_unusable(_, problems.worded(_, problem))
        elif problem is not None:
            text = problems.reply(_, problem, zone)
        else:
            text = replies.answer_failed(_, _.reason(outcome.reason))
        await _reply(update, text)
    return True


async def _post_answer(update: Update, context: Context, outcome: Answered, _: Translator) -> None:
    """The answer laid out as results are (bot.layout: a long one as a document, pictures as
    photos), each message a reply to the question in the question's forum topic, and recorded
    as part of the answer."""
    message = update.effective_message
    assert message is not None
    answer = outcome.followup.answer or ""
    parts = context.bot_data.layout.answer(_, answer)
    topic = message.message_thread_id if message.is_topic_message else None
    try:
        sent = await Poster(context.bot).post(
            message.chat_id, parts, reply_to=message.message_id, thread_id=topic
        )
    except BadRequest:
        # The formatting was refused: the model's text as it is.
        plain = await message.reply_text(
            answer[:4000], disable_web_page_preview=True, do_quote=True, message_thread_id=topic
        )
        sent = [plain.message_id]
    await use_cases(context).conversations.delivered(outcome.followup.id, sent)


async def confirm_change(update: Update, context: Context, data: ConfirmChange) -> None:
    """Confirm on a change card: the task changes, and the card says how."""
    async with _ChangePress(update, context) as press:
        applied = await press.use_cases.changes.confirm(press.actor, data.change_id)
        _ = press.words
        await press.answer(replies.changed_notice(_, applied.task.id))
        screen = replies.change_applied(
            _, applied, press.zone, setup=setup_lines(_, applied.task, press.use_cases)
        )
        await press.query.edit_message_text(
            screen.text, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard
        )


async def cancel_change(update: Update, context: Context, data: CancelChange) -> None:
    """Cancel on a change card."""
    async with _ChangePress(update, context) as press:
        card = await press.use_cases.changes.cancel(press.actor, data.change_id)
        await press.answer(replies.cancelled_notice(press.words))
        await press.query.edit_message_text(
            replies.change_cancelled(press.words, card), parse_mode=ParseMode.HTML
        )


class _ChangePress(Press):
    """A press on a change card: a card that can no longer be applied loses its buttons (a
    refusal leaves them to those who may press them)."""

    async def answer_problem(self, error: CronpilotError) -> bool:
        _, query = self.words, self.query
        if isinstance(error, RefusedError):
            return await super().answer_problem(error)
        if isinstance(error, ChangeOutdatedError):
            await query.answer(replies.change_outdated(_, error.task_id), show_alert=True)
        elif isinstance(error, ChangeNotFoundError):
            await query.answer(replies.change_closed(_), show_alert=True)
        elif isinstance(error, (TargetError, UnknownModelError)):
            # Refused as /target N or /model N refuse it; the card stays for someone who may.
            return await super().answer_problem(error)
        elif isinstance(error, (TaskNotFoundError, TaskStateError, ScheduleError)):
            await super().answer_problem(error)
        else:
            return False
        await _drop_buttons(self.message)
        return True


async def _drop_buttons(message: Message | None) -> None:
    if message is None or message.reply_markup is None:
        return
    try:
        await message.edit_reply_markup(reply_markup=None)
    except BadRequest:
        return  # already without buttons
