"""How a task's shape looks in Telegram: reminder or AI task on cards (with the one button that
switches), a reminder's message (⏰ and the words, with Snooze and Done when it comes once), and
a skipped next run.

The cards themselves are bot/render.py's; these functions add their lines and buttons to them.
Every function takes the chat's `Translator` as `_`; every word comes from the catalogs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from application.records import Card
from bot import render
from bot.callbacks import (
    RESULT,
    TASK_CARD,
    ChooseDraftModel,
    PauseTask,
    ReminderDone,
    SkipNext,
    SnoozeReminder,
    SwitchDraftMode,
    SwitchTaskMode,
    UndoSkip,
)
from bot.i18n import Translator
from bot.render import Screen, button, clip
from storage.records import Task, TaskKind, TaskMode, TaskState

REMINDER_CHARS = 3500
# Snooze's choices, as application.shapes.SnoozeFor values, in the order they are shown.
SNOOZE_CHOICES = ("15m", "1h", "1d")


def mode_line(_: Translator, mode: TaskMode) -> str:
    if mode is TaskMode.REMINDER:
        return _("⏰ <b>Reminder:</b> I post these words at each run, without any AI model.")
    return _("🤖 <b>AI task:</b> the AI model does this at each run.")


def _switch_label(_: Translator, mode: TaskMode) -> str:
    return _("🤖 Let the AI do it") if mode is TaskMode.REMINDER else _("⏰ Just remind me")


def _with(screen: Screen, lines: list[str], row: list[InlineKeyboardButton]) -> Screen:
    rows = [list(old) for old in screen.keyboard.inline_keyboard] if screen.keyboard else []
    if row:
        rows.append(row)
    text = "\n".join([screen.text, *lines]) if lines else screen.text
    return Screen(text, InlineKeyboardMarkup(rows) if rows else None)


def model_line(_: Translator, model: str) -> str:
    """ "🤖 Model: smart" on a card."""
    return _("🤖 <b>Model:</b> {model}", model=escape(model))


def card(_: Translator, card_: Card, chat_zone: str) -> Screen:
    """The confirmation card, saying whether it is a reminder or an AI task (and for an AI
    task, the model its request chose), with the switch (no “Let the AI do it” on a bot
    without a model) and, when there are models to choose from, the button that takes the next
    one."""
    screen = render.card(_, card_, chat_zone)
    lines = ["", mode_line(_, card_.mode)]
    row = []
    if card_.mode is TaskMode.AI or card_.model_available:
        row.append(button(_switch_label(_, card_.mode), SwitchDraftMode(card_.draft_id)))
    if card_.mode is TaskMode.AI and card_.model:
        lines.append(model_line(_, card_.model))
        if len(card_.models) > 1:
            following = (card_.model_index + 1) % len(card_.models)
            row.append(
                button(
                    _("🧠 Model: {model}", model=card_.model),
                    ChooseDraftModel(card_.draft_id, following),
                )
            )
    return _with(screen, lines, row)


def _task_row(
    _: Translator, task: Task, skipped: datetime | None, *, skippable: bool = True
) -> list[InlineKeyboardButton]:
    row = [button(_switch_label(_, task.mode), SwitchTaskMode(task.id, TASK_CARD))]
    if skipped is not None:
        row.append(button(_("↩️ Undo skip"), UndoSkip(task.id, TASK_CARD)))
    elif skippable and task.state is TaskState.ACTIVE and task.next_run_at is not None:
        row.append(button(_("⏭ Skip next"), SkipNext(task.id, TASK_CARD)))
    return row


def skipped_line(_: Translator, instant: datetime, chat_zone: str) -> str:
    return _("⏭ <b>Next run skipped:</b> {when}", when=render.when(_, instant, chat_zone))


def scheduled(_: Translator, task: Task, chat_zone: str, *, setup: Sequence[str] = ()) -> Screen:
    """ "Scheduled — task #N", saying what it is (with `setup`, its lines about what it runs
    with), with the switch and Skip next."""
    screen = render.scheduled(_, task, chat_zone)
    return _with(screen, [*setup, mode_line(_, task.mode)], _task_row(_, task, None))


def task_detail(
    _: Translator,
    task: Task,
    chat_zone: str,
    skipped: datetime | None,
    *,
    setup: Sequence[str] = (),
) -> Screen:
    """/task N: what it is (with `setup`, its lines about what it runs with), its skipped next
    run if any, the switch, and Skip next (Undo when the next run is skipped)."""
    screen = render.task_detail(_, task, chat_zone, setup=setup)
    lines = [mode_line(_, task.mode)]
    if skipped is not None:
        lines.append(skipped_line(_, skipped, chat_zone))
    return _with(screen, lines, _task_row(_, task, skipped))


# --- a reminder's message -----------------------------------------------------------------------


def reminder(_: Translator, words: str) -> str:
    return _("⏰ <b>Reminder:</b> {text}", text=escape(clip(words, REMINDER_CHARS)))


def reminder_buttons(_: Translator, task: Task) -> InlineKeyboardMarkup:
    """Snooze and Done under a one-time reminder; Pause under one that repeats."""
    if task.kind is not TaskKind.ONCE:
        return InlineKeyboardMarkup([[button(_("⏸ Pause"), PauseTask(task.id, RESULT))]])
    labels = {
        "15m": _("💤 15 min"),
        "1h": _("💤 1 hour"),
        "1d": _("💤 Tomorrow"),
    }
    return InlineKeyboardMarkup(
        [
            [button(labels[delay], SnoozeReminder(task.id, delay)) for delay in SNOOZE_CHOICES],
            [button(_("✅ Done"), ReminderDone(task.id))],
        ]
    )


def snoozed(_: Translator, words: str, until: datetime | None, chat_zone: str) -> str:
    return _(
        "⏰ <b>Reminder:</b> {text}\n💤 Snoozed until {when}.",
        text=escape(clip(words, REMINDER_CHARS)),
        when=render.when(_, until, chat_zone),
    )


def done(_: Translator, words: str) -> str:
    return _("✅ Done: {text}", text=escape(clip(words, REMINDER_CHARS)))


def help_text(_: Translator) -> str:
    """/help's paragraph on reminders and skips."""
    return _(
        "<b>Reminders and skips</b>\n"
        "“remind me to …” posts your words at each run, without the AI model; the card's "
        "button switches between a reminder and an AI task.\n"
        "/skip N: skip the next run of task N (/skip N undo brings it back)"
    )


# --- /skip --------------------------------------------------------------------------------------


def skip_usage(_: Translator) -> str:
    return _(
        "Usage: /skip N skips the next run of task N; /skip N undo brings it back before it is due."
    )


def skipped_notice(_: Translator, task_id: int, instant: datetime | None, chat_zone: str) -> str:
    return _(
        "⏭ The next run of task #{number} ({when}) is skipped; the ones after it run as "
        "usual. /skip {number} undo brings it back.",
        number=task_id,
        when=render.when(_, instant, chat_zone),
    )


def unskipped_notice(_: Translator, task: Task, chat_zone: str) -> str:
    return _(
        "↩️ Task #{number} runs at {when} after all.",
        number=task.id,
        when=render.when(_, task.next_run_at, chat_zone),
    )
