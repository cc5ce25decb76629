"""Every handler of the bot, registered in one place."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.access import gate
from bot.callbacks import DRAFT_ACTIONS, decode
from bot.context import Context
from bot.handlers import create, manage, start
from bot.handlers.errors import on_error

COMMANDS = (
    ("tasks", "list this chat's tasks"),
    ("new", "create a task (in groups)"),
    ("task", "show a task: /task N"),
    ("run", "run a task now: /run N"),
    ("pause", "pause a task: /pause N"),
    ("resume", "resume a task: /resume N"),
    ("delete", "delete a task: /delete N"),
    ("history", "a task's last runs: /history N"),
    ("edit", "change a task: /edit N new text"),
    ("timezone", "show or set this chat's time zone"),
    ("cancel", "drop the request you are writing"),
    ("help", "what I can do"),
    ("start", "introduction"),
)


async def on_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    callback = decode(query.data)
    if callback is None:
        await query.answer("That button is not valid any more.", show_alert=True)
        return
    if callback.action in DRAFT_ACTIONS:
        await create.draft_button(update, context, callback)
    else:
        await manage.task_button(update, context, callback)


def register(application: Application) -> None:  # type: ignore[type-arg]
    # Group -1 runs first for every update: the allowlist.
    application.add_handler(TypeHandler(Update, gate), group=-1)
    application.add_handlers(
        [
            CommandHandler("start", start.start),
            CommandHandler("help", start.help_command),
            CommandHandler("timezone", start.timezone),
            CommandHandler("new", create.new_command),
            CommandHandler("edit", create.edit_command),
            CommandHandler("cancel", create.cancel_command),
            CommandHandler("tasks", manage.tasks_command),
            CommandHandler("task", manage.task_command),
            CommandHandler("history", manage.history_command),
            CommandHandler(["run", "pause", "resume", "delete"], manage.change_command),
            MessageHandler(filters.LOCATION & filters.ChatType.PRIVATE, start.location),
            MessageHandler(filters.TEXT & ~filters.COMMAND, create.text_message),
            # After every CommandHandler: what none of them took is a command we do not have.
            MessageHandler(filters.COMMAND, start.unknown_command),
            CallbackQueryHandler(on_button),
            ChatMemberHandler(start.membership, ChatMemberHandler.MY_CHAT_MEMBER),
        ]
    )
    application.add_error_handler(on_error)
