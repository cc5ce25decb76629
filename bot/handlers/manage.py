"""Managing tasks: /tasks and the id commands, and the buttons on lists, cards and results.

Each command and each kind of button has its own handler (registered in routes.py); who may do
it is the use case's to check, and a refusal is worded by bot/problems.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from html import escape
from typing import Any

from telegram import (
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
    WebAppInfo,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from application import UseCases
from application.permissions import Action, Actor
from bot import media, problems, render, replies
from bot.callbacks import (
    LIST,
    RESULT,
    TASK_CARD,
    ConfirmDelete,
    DeleteTask,
    KeepTask,
    ListPage,
    PauseTask,
    ResumeTask,
    RetryTask,
    RunTask,
    TaskButton,
    TaskHistory,
)
from bot.context import Context, use_cases
from bot.handlers.common import (
    Press,
    actor,
    chat_translator,
    chat_zone,
    current_chat,
    edit,
    oversized_number,
    reply,
    task_number,
)
from bot.handlers.setup import task_card
from bot.i18n import Translator
from core.errors import CronpilotError
from storage.records import RunTrigger, Task


async def tasks_command(update: Update, context: Context) -> None:
    chat = await current_chat(update, context)
    _ = chat_translator(update, chat)
    page = (task_number(context) or 1) - 1
    try:
        listing = await use_cases(context).tasks.list(actor(update), chat.id, page=page)
    except CronpilotError as error:
        await reply(update, problems.reply(_, error, chat_zone(chat, context)))
        return
    screen = render.task_list(_, listing, chat_zone(chat, context))
    webapp_url = context.bot_data.webapp_url
    if webapp_url is not None and chat.type == Chat.PRIVATE:
        dashboard = [InlineKeyboardButton(_("Open dashboard"), web_app=WebAppInfo(webapp_url))]
        rows = list(screen.keyboard.inline_keyboard) if screen.keyboard is not None else []
        screen = render.Screen(screen.text, InlineKeyboardMarkup([*rows, dashboard]))
    await reply(update, screen)


@dataclass(frozen=True, slots=True)
class _Asked:
    """A command with a task's number: who asks, about which task, in which words and zone."""

    context: Context
    actor: Actor
    task_id: int
    words: Translator
    zone: str

    @property
    def use_cases(self) -> UseCases:
        return use_cases(self.context)


async def _task_card(asked: _Asked) -> render.Screen:
    state = await asked.use_cases.shapes.skip_state(asked.actor, asked.task_id)
    screen = await task_card(
        asked.words, state.task, state.skipped_for, asked.zone, asked.use_cases, asked.actor
    )
    kept = await asked.use_cases.attachments.of_task(asked.actor, state.task.id)
    if not kept:
        return screen
    documents = media.attached(asked.words, [(found.name, found.size) for found in kept])
    return render.Screen(f"{screen.text}\n{documents}", screen.keyboard)


async def _history(asked: _Asked) -> str:
    return await _history_text(asked.context, asked.words, asked.actor, asked.task_id, asked.zone)


async def _run_now(asked: _Asked) -> str:
    await asked.use_cases.runs.run_now(asked.actor, asked.task_id)
    _ = asked.words
    return _("🚀 Running task #{number} now; the result will follow.", number=asked.task_id)


async def _pause(asked: _Asked) -> str:
    await asked.use_cases.tasks.pause(asked.actor, asked.task_id)
    _ = asked.words
    return _("⏸ Task #{number} is paused. /resume {number} to restart it.", number=asked.task_id)


async def _resume(asked: _Asked) -> str:
    task = await asked.use_cases.tasks.resume(asked.actor, asked.task_id)
    _ = asked.words
    return _(
        "▶️ Task #{number} is active again; next run {when}.",
        number=asked.task_id,
        when=render.when(_, task.next_run_at, asked.zone),
    )


async def _ask_to_delete(asked: _Asked) -> render.Screen:
    task = await asked.use_cases.tasks.get(asked.actor, asked.task_id, to=Action.DELETE_TASK)
    return render.confirm_delete(asked.words, task)


async def _answer_id_command(
    update: Update,
    context: Context,
    command: str,
    answer: Callable[[_Asked], Awaitable[render.Screen | str]],
) -> None:
    """Read the task's number given to /`command` (or say how the command is used, or that no
    task has so large a number), have `answer` act on it, and reply with its answer or the
    problem in words."""
    chat = await current_chat(update, context)
    _ = chat_translator(update, chat)
    task_id = task_number(context)
    too_large = oversized_number(context)
    if too_large is not None:
        await reply(update, render.no_such_task(_, too_large))
        return
    if task_id is None:
        await reply(
            update,
            _("Usage: /{command} N, where N is the task's number from /tasks.", command=command),
        )
        return
    zone = chat_zone(chat, context)
    try:
        screen = await answer(_Asked(context, actor(update), task_id, _, zone))
    except CronpilotError as error:
        screen = problems.reply(_, error, zone)
    await reply(update, screen)


def _id_command(
    command: str, answer: Callable[[_Asked], Awaitable[render.Screen | str]]
) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
    """The handler of /`command` N: `answer` acts on task N."""

    async def handler(update: Update, context: Context) -> None:
        await _answer_id_command(update, context, command, answer)

    return handler


# One handler per command with a task's number (registered in routes.py).
task_command = _id_command("task", _task_card)
history_command = _id_command("history", _history)
run_command = _id_command("run", _run_now)
pause_command = _id_command("pause", _pause)
resume_command = _id_command("resume", _resume)
# Asks again, with Delete it / Keep it.
delete_command = _id_command("delete", _ask_to_delete)


async def _history_text(
    context: Context, _: Translator, who: Actor, task_id: int, zone: str
) -> str:
    """The task's last runs, then its last follow-ups (what was asked, what it cost)."""
    cases = use_cases(context)
    task = await cases.tasks.get(who, task_id, to=Action.TASK_HISTORY)
    entries = await cases.runs.history(who, task_id)
    asked = await cases.conversations.history(who, task_id)
    copies = await cases.targets.outcomes(who, task_id, [run.id for run in entries])
    text = render.history(_, task, entries, zone, copies)
    if asked:
        text += "\n\n" + replies.followup_history(_, asked, zone)
    return text


# --- buttons --------------------------------------------------------------------------------------


async def list_page(update: Update, context: Context, data: ListPage) -> None:
    """« Previous / Next » under the list."""
    async with Press(update, context) as press:
        listing = await press.use_cases.tasks.list(press.actor, press.chat.id, page=data.page)
        await press.answer()
        await edit(press.message, render.task_list(press.words, listing, press.zone))


async def task_history(update: Update, context: Context, data: TaskHistory) -> None:
    async with Press(update, context) as press:
        text = await _history_text(context, press.words, press.actor, data.task_id, press.zone)
        await press.answer()
        await context.bot.send_message(press.chat.id, text, parse_mode=ParseMode.HTML)


async def run_task(update: Update, context: Context, data: RunTask) -> None:
    """Run now (task cards, the list) and Run again (results)."""
    await _run(update, context, data, RunTrigger.MANUAL)


async def retry_task(update: Update, context: Context, data: RetryTask) -> None:
    """Retry on a failure notice."""
    await _run(update, context, data, RunTrigger.RETRY)


async def _run(update: Update, context: Context, data: TaskButton, trigger: RunTrigger) -> None:
    async with Press(update, context) as press:
        await press.use_cases.runs.run_now(press.actor, data.task_id, trigger=trigger)
        _ = press.words
        await press.answer(
            _("Running task #{number}; the result will follow.", number=data.task_id)
        )


async def pause_task(update: Update, context: Context, data: PauseTask) -> None:
    async with Press(update, context) as press:
        task = await press.use_cases.tasks.pause(press.actor, data.task_id)
        _ = press.words
        await _switched(press, data, task, _("Task #{number} paused", number=data.task_id))


async def resume_task(update: Update, context: Context, data: ResumeTask) -> None:
    async with Press(update, context) as press:
        task = await press.use_cases.tasks.resume(press.actor, data.task_id)
        _ = press.words
        await _switched(press, data, task, _("Task #{number} resumed", number=data.task_id))


async def delete_task(update: Update, context: Context, data: DeleteTask) -> None:
    """Delete: asks again, below, with Delete it / Keep it."""
    async with Press(update, context) as press:
        task = await press.use_cases.tasks.get(press.actor, data.task_id, to=Action.DELETE_TASK)
        await press.answer()
        screen = render.confirm_delete(press.words, task)
        await context.bot.send_message(
            press.chat.id, screen.text, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard
        )


async def confirm_delete(update: Update, context: Context, data: ConfirmDelete) -> None:
    """“Delete it”."""
    async with Press(update, context) as press:
        task = await press.use_cases.tasks.delete(press.actor, data.task_id)
        _ = press.words
        await press.answer(_("Task #{number} deleted", number=data.task_id))
        await edit(
            press.message,
            render.Screen(
                _("🗑 Deleted task #{number} {name}.", number=task.id, name=escape(task.name))
            ),
        )


async def keep_task(update: Update, context: Context, data: KeepTask) -> None:
    """“Keep it”: only someone who could have deleted the task answers the question."""
    async with Press(update, context) as press:
        await press.use_cases.tasks.get(press.actor, data.task_id, to=Action.DELETE_TASK)
        _ = press.words
        await press.answer(_("Kept"))
        await edit(press.message, render.Screen(_("Task #{number} was kept.", number=data.task_id)))


async def _switched(press: Press, data: PauseTask | ResumeTask, task: Task, notice: str) -> None:
    """After pause or resume, say so and show the new state where the button was pressed: the
    button says where that is (a task card, a result, or a page of the list)."""
    await press.answer(notice)
    message = press.message
    if message is None:
        return
    place = data.place
    if place is not None and place.kind == LIST:
        listing = await press.use_cases.tasks.list(press.actor, press.chat.id, page=place.page)
        await edit(message, render.task_list(press.words, listing, press.zone))
    elif place == TASK_CARD:
        skipped = await press.use_cases.shapes.skipped_next(task)
        await edit(
            message,
            await task_card(press.words, task, skipped, press.zone, press.use_cases, press.actor),
        )
    else:
        # A result message (or a button from before places were marked): swap its Pause
        # button for Resume (or back), keeping the message as it is.
        buttons = render.task_buttons(press.words, task, RESULT)[:2]
        try:
            await message.edit_reply_markup(InlineKeyboardMarkup([buttons]))
        except BadRequest:
            return
