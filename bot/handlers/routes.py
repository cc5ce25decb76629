"""Every handler of the bot, registered in one place: one per command, and one per kind of
button (its callback data class, bot/callbacks.py), as aiogram routes `MyCallback.filter()`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot, BotCommand, MenuButtonWebApp, Update, WebAppInfo
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import callbacks
from bot.access import gate, update_words
from bot.callbacks import ButtonData
from bot.context import Context
from bot.handlers import (
    conversations,
    create,
    language,
    manage,
    media,
    setup,
    shapes,
    start,
    targets,
    token,
    triggers,
    usage,
)
from bot.handlers.errors import on_error
from bot.i18n import N_, translator
from core.languages import ENGLISH, LANGUAGES

# The command menu; its descriptions are translated per language by `set_commands`.
COMMANDS = (
    ("tasks", N_("list this chat's tasks")),
    ("new", N_("create a task (in groups)")),
    ("task", N_("show a task: /task N")),
    ("run", N_("run a task now: /run N")),
    ("pause", N_("pause a task: /pause N")),
    ("resume", N_("resume a task: /resume N")),
    ("delete", N_("delete a task: /delete N")),
    ("history", N_("a task's last runs: /history N")),
    ("skip", N_("skip a task's next run: /skip N, /skip N undo")),
    ("target", N_("where a task posts: /target N here @channel")),
    ("usage", N_("this month's runs, tokens and cost")),
    ("model", N_("a task's model: /model N smart")),
    ("tools", N_("a task's tools: /tools N -web_search")),
    ("budget", N_("a task's monthly cap: /budget N 0.50")),
    ("edit", N_("change a task: /edit N new text")),
    ("trigger", N_("a URL that runs a task: /trigger N")),
    ("after", N_("run a task after another: /after N M")),
    ("quiet", N_("post only answers that changed: /quiet N changed")),
    ("timezone", N_("show or set this chat's time zone")),
    ("language", N_("show or set the language I speak here")),
    ("token", N_("an API token for scripts: /token, /token revoke")),
    ("cancel", N_("drop the request you are writing")),
    ("help", N_("what I can do")),
    ("start", N_("introduction")),
)


async def set_commands(bot: Bot) -> None:
    """The command menu: English for everyone, and in each language for its speakers."""
    await bot.set_my_commands([BotCommand(name, description) for name, description in COMMANDS])
    for code in LANGUAGES:
        if code == ENGLISH:
            continue
        _ = translator(code)
        await bot.set_my_commands(
            [BotCommand(name, _(description)) for name, description in COMMANDS],
            language_code=code,
        )


async def set_menu_button(bot: Bot, webapp_url: str | None) -> None:
    """With WEBAPP_URL, the menu button of private chats opens the Mini App."""
    if webapp_url is None:
        return
    _ = translator(ENGLISH)
    await bot.set_chat_menu_button(
        menu_button=MenuButtonWebApp(_("Dashboard"), WebAppInfo(webapp_url))
    )


Data = TypeVar("Data", bound=ButtonData)


def on_button(
    kind: type[Data], handle: Callable[[Update, Context, Data], Awaitable[None]]
) -> CallbackQueryHandler[Context, None]:
    """The handler of one kind of button: it runs for presses of that kind only, and gets the
    data already read."""

    async def callback(update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        data = kind.unpack(query.data)
        assert data is not None  # the pattern lets only this kind through
        await handle(update, context, data)

    return CallbackQueryHandler(callback, pattern=kind.matches)


def buttons() -> tuple[CallbackQueryHandler[Context, None], ...]:
    """One handler per kind of button; a test checks that every kind in bot/callbacks.py is
    here."""
    return (
        on_button(callbacks.ConfirmDraft, create.confirm_draft),
        on_button(callbacks.EditDraft, create.edit_draft),
        on_button(callbacks.CancelDraft, create.cancel_draft),
        on_button(callbacks.RunTask, manage.run_task),
        on_button(callbacks.RetryTask, manage.retry_task),
        on_button(callbacks.PauseTask, manage.pause_task),
        on_button(callbacks.ResumeTask, manage.resume_task),
        on_button(callbacks.DeleteTask, manage.delete_task),
        on_button(callbacks.ConfirmDelete, manage.confirm_delete),
        on_button(callbacks.KeepTask, manage.keep_task),
        on_button(callbacks.TaskHistory, manage.task_history),
        on_button(callbacks.ListPage, manage.list_page),
        on_button(callbacks.ConfirmChange, conversations.confirm_change),
        on_button(callbacks.CancelChange, conversations.cancel_change),
        on_button(callbacks.ToggleTool, setup.toggle_tool),
        on_button(callbacks.SwitchDraftMode, shapes.switch_draft_mode),
        on_button(callbacks.SwitchTaskMode, shapes.switch_task_mode),
        on_button(callbacks.SkipNext, shapes.skip_next),
        on_button(callbacks.UndoSkip, shapes.undo_skip),
        on_button(callbacks.ChooseDraftModel, shapes.choose_draft_model),
        on_button(callbacks.SnoozeReminder, shapes.snooze_reminder),
        on_button(callbacks.ReminderDone, shapes.reminder_done),
    )


async def stale_button(update: Update, context: Context) -> None:
    """A press of anything we did not make (or no longer make): said so, nothing done."""
    query = update.callback_query
    assert query is not None
    _ = update_words(update)
    await query.answer(_("That button is not valid any more."), show_alert=True)


def register(application: Application) -> None:  # type: ignore[type-arg]
    # Group -1 runs first for every update: the allowlist.
    application.add_handler(TypeHandler(Update, gate), group=-1)
    application.add_handlers(
        [
            CommandHandler("start", start.start),
            CommandHandler("help", start.help_command),
            CommandHandler("timezone", start.timezone),
            CommandHandler("language", language.language_command),
            CommandHandler("token", token.token_command),
            CommandHandler("new", create.new_command),
            CommandHandler("edit", create.edit_command),
            CommandHandler("cancel", create.cancel_command),
            CommandHandler("tasks", manage.tasks_command),
            CommandHandler("task", manage.task_command),
            CommandHandler("history", manage.history_command),
            CommandHandler("target", targets.target_command),
            CommandHandler("usage", usage.usage_command),
            CommandHandler("run", manage.run_command),
            CommandHandler("pause", manage.pause_command),
            CommandHandler("resume", manage.resume_command),
            CommandHandler("delete", manage.delete_command),
            CommandHandler("model", setup.model_command),
            CommandHandler("tools", setup.tools_command),
            CommandHandler("budget", setup.budget_command),
            CommandHandler("skip", shapes.skip_command),
            CommandHandler("trigger", triggers.trigger_command),
            CommandHandler("after", triggers.after_command),
            CommandHandler("quiet", triggers.quiet_command),
            MessageHandler(filters.LOCATION & filters.ChatType.PRIVATE, start.location),
            MessageHandler(filters.TEXT & ~filters.COMMAND, create.text_message),
            MessageHandler(
                filters.VOICE | filters.AUDIO | filters.VIDEO_NOTE, media.recording_message
            ),
            MessageHandler(filters.Document.ALL, media.document_message),
            MessageHandler(filters.PHOTO, media.photo_message),
            # After every CommandHandler: what none of them took is a command we do not have.
            MessageHandler(filters.COMMAND, start.unknown_command),
            *buttons(),
            # After every kind of button: what none of them took.
            CallbackQueryHandler(stale_button),
            ChatMemberHandler(start.membership, ChatMemberHandler.MY_CHAT_MEMBER),
        ]
    )
    application.add_error_handler(on_error)
