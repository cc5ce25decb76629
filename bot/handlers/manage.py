"""Managing tasks: /tasks and the id commands, and the buttons on lists, cards and results."""

from __future__ import annotations

from html import escape

from telegram import (
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    WebAppInfo,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from application.errors import TaskStateError
from bot import problems, render, replies
from bot.access import can_manage, not_manager
from bot.callbacks import LIST, RESULT, TASK_CARD, Action, Callback
from bot.context import Context, services
from bot.handlers.common import (
    chat_zone,
    current_chat,
    oversized_number,
    reply,
    task_number,
    words,
)
from bot.i18n import Translator
from core.errors import CronpilotError
from scheduler.engine import TaskBusyError, TaskNotFoundError
from storage.records import RunTrigger, Task

# Actions that change something; reading (list, history) is open to every allowed member.
CHANGING = frozenset(
    {
        Action.RUN,
        Action.RUN_AGAIN,
        Action.RETRY,
        Action.PAUSE,
        Action.RESUME,
        Action.DELETE,
        Action.DELETE_YES,
        Action.DELETE_NO,
    }
)


async def tasks_command(update: Update, context: Context) -> None:
    chat = await current_chat(update, context)
    page = (task_number(context) or 1) - 1
    listing = await services(context).app.tasks.list(chat.id, page=page)
    _ = words(update, chat)
    screen = render.task_list(_, listing, chat_zone(chat, context))
    webapp_url = services(context).settings.webapp_url
    if webapp_url is not None and chat.type == Chat.PRIVATE:
        dashboard = [InlineKeyboardButton(_("Open dashboard"), web_app=WebAppInfo(webapp_url))]
        rows = list(screen.keyboard.inline_keyboard) if screen.keyboard is not None else []
        screen = render.Screen(screen.text, InlineKeyboardMarkup([*rows, dashboard]))
    await reply(update, screen)


async def task_command(update: Update, context: Context) -> None:
    chat = await current_chat(update, context)
    _ = words(update, chat)
    task_id = await _task_id_or_usage(update, context, _, "task")
    if task_id is None:
        return
    try:
        task = await services(context).app.tasks.get(chat.id, task_id)
    except TaskNotFoundError as error:
        await reply(update, problems.reply(_, error, chat_zone(chat, context)))
        return
    await reply(update, render.task_detail(_, task, chat_zone(chat, context)))


async def history_command(update: Update, context: Context) -> None:
    chat = await current_chat(update, context)
    _ = words(update, chat)
    task_id = await _task_id_or_usage(update, context, _, "history")
    if task_id is None:
        return
    await reply(update, await _history(context, _, chat.id, task_id, chat_zone(chat, context)))


async def change_command(update: Update, context: Context) -> None:
    """/run, /pause, /resume and /delete with a task id."""
    message = update.effective_message
    assert message is not None and message.text is not None
    command = message.text.split()[0].lstrip("/").split("@")[0].lower()
    chat = await current_chat(update, context)
    _ = words(update, chat)
    task_id = await _task_id_or_usage(update, context, _, command)
    if task_id is None:
        return
    if not await can_manage(update, context):
        await reply(update, not_manager(_))
        return
    app = services(context).app
    try:
        if command == "run":
            await app.runs.run_now(chat.id, task_id)
            await reply(
                update, _("🚀 Running task #{number} now; the result will follow.", number=task_id)
            )
        elif command == "pause":
            await app.tasks.pause(chat.id, task_id)
            await reply(
                update,
                _("⏸ Task #{number} is paused. /resume {number} to restart it.", number=task_id),
            )
        elif command == "resume":
            task = await app.tasks.resume(chat.id, task_id)
            next_run = render.when(_, task.next_run_at, chat_zone(chat, context))
            await reply(
                update,
                _(
                    "▶️ Task #{number} is active again; next run {when}.",
                    number=task_id,
                    when=next_run,
                ),
            )
        else:
            task = await app.tasks.get(chat.id, task_id)
            await reply(update, render.confirm_delete(_, task))
    except (TaskNotFoundError, TaskBusyError, TaskStateError) as error:
        await reply(update, problems.reply(_, error, chat_zone(chat, context)))


async def _task_id_or_usage(
    update: Update, context: Context, _: Translator, command: str
) -> int | None:
    task_id = task_number(context)
    too_large = oversized_number(context)
    if too_large is not None:
        await reply(update, render.no_such_task(_, too_large))
    elif task_id is None:
        await reply(
            update,
            _(
                "Usage: /{command} N, where N is the task's number from /tasks.",
                command=command,
            ),
        )
    return task_id


async def _history(context: Context, _: Translator, chat_id: int, task_id: int, zone: str) -> str:
    try:
        return await _history_text(context, _, chat_id, task_id, zone)
    except TaskNotFoundError as error:
        return problems.reply(_, error, zone)


async def _history_text(
    context: Context, _: Translator, chat_id: int, task_id: int, zone: str
) -> str:
    """The task's last runs, then its last follow-ups (what was asked, what it cost)."""
    app = services(context).app
    task = await app.tasks.get(chat_id, task_id)
    entries = await app.runs.history(chat_id, task_id)
    asked = await app.conversations.history(chat_id, task_id)
    text = render.history(_, task, entries, zone)
    if asked:
        text += "\n\n" + replies.followup_history(_, asked, zone)
    return text


async def task_button(update: Update, context: Context, callback: Callback) -> None:
    """Every button that acts on a task, re-checked against the chat it is pressed in."""
    query = update.callback_query
    assert query is not None
    chat = await current_chat(update, context)
    _ = words(update, chat)
    if callback.action in CHANGING and not await can_manage(update, context):
        await query.answer(not_manager(_), show_alert=True)
        return
    zone = chat_zone(chat, context)
    app = services(context).app
    message = query.message if isinstance(query.message, Message) else None
    try:
        task_id = callback.number
    except ValueError:
        await query.answer(_("That button is not valid any more."), show_alert=True)
        return
    try:
        if callback.action is Action.PAGE:
            listing = await app.tasks.list(chat.id, page=task_id)
            await query.answer()
            await _edit(message, render.task_list(_, listing, zone))
        elif callback.action is Action.HISTORY:
            text = await _history_text(context, _, chat.id, task_id, zone)
            await query.answer()
            await context.bot.send_message(chat.id, text, parse_mode=ParseMode.HTML)
        elif callback.action in (Action.RUN, Action.RUN_AGAIN, Action.RETRY):
            trigger = RunTrigger.RETRY if callback.action is Action.RETRY else RunTrigger.MANUAL
            await app.runs.run_now(chat.id, task_id, trigger=trigger)
            await query.answer(_("Running task #{number}; the result will follow.", number=task_id))
        elif callback.action is Action.PAUSE:
            task = await app.tasks.pause(chat.id, task_id)
            await query.answer(_("Task #{number} paused", number=task_id))
            await _refresh(message, _, callback, task, zone, context, chat.id)
        elif callback.action is Action.RESUME:
            task = await app.tasks.resume(chat.id, task_id)
            await query.answer(_("Task #{number} resumed", number=task_id))
            await _refresh(message, _, callback, task, zone, context, chat.id)
        elif callback.action is Action.DELETE:
            task = await app.tasks.get(chat.id, task_id)
            await query.answer()
            screen = render.confirm_delete(_, task)
            await context.bot.send_message(
                chat.id, screen.text, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard
            )
        elif callback.action is Action.DELETE_YES:
            task = await app.tasks.delete(chat.id, task_id)
            await query.answer(_("Task #{number} deleted", number=task_id))
            await _edit(
                message,
                render.Screen(
                    _("🗑 Deleted task #{number} {name}.", number=task.id, name=escape(task.name))
                ),
            )
        elif callback.action is Action.DELETE_NO:
            await query.answer(_("Kept"))
            await _edit(message, render.Screen(_("Task #{number} was kept.", number=task_id)))
    except CronpilotError as error:
        await query.answer(problems.alert(_, error, zone), show_alert=True)


async def _refresh(
    message: Message | None,
    _: Translator,
    callback: Callback,
    task: Task,
    zone: str,
    context: Context,
    chat_id: int,
) -> None:
    """After pause or resume, show the new state where the button was pressed: the button
    says where that is (a task card, a result, or a page of the list)."""
    if message is None:
        return
    place = callback.place
    if place is not None and place.kind == LIST:
        listing = await services(context).app.tasks.list(chat_id, page=place.page)
        await _edit(message, render.task_list(_, listing, zone))
    elif place == TASK_CARD:
        await _edit(message, render.task_detail(_, task, zone))
    else:
        # A result message (or a button from before places were marked): swap its Pause
        # button for Resume (or back), keeping the message as it is.
        buttons = render.task_buttons(_, task, RESULT)[:2]
        try:
            await message.edit_reply_markup(InlineKeyboardMarkup([buttons]))
        except BadRequest:
            return


async def _edit(message: Message | None, screen: render.Screen) -> None:
    if message is None:
        return
    try:
        await message.edit_text(
            screen.text,
            parse_mode=ParseMode.HTML,
            reply_markup=screen.keyboard,
            disable_web_page_preview=True,
        )
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise
