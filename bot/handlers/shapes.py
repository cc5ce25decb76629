"""A task's shape: the switch between reminder and AI task (on a card and on a task card),
Snooze and Done under a one-time reminder, /skip N and Skip next. One handler per command and
per kind of button (registered in routes.py); who may do it is the use case's to check."""

from __future__ import annotations

from telegram import Update

from application.shapes import SnoozeFor
from bot import problems, shapes
from bot.callbacks import (
    ChooseDraftModel,
    ReminderDone,
    SkipNext,
    SnoozeReminder,
    SwitchDraftMode,
    SwitchTaskMode,
    UndoSkip,
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
from bot.render import Screen, no_such_task, when
from core.errors import CronpilotError
from scheduler.parsing.reminders import reminder_words

UNDO = frozenset({"undo", "back", "unskip"})


async def skip_command(update: Update, context: Context) -> None:
    """/skip N: skip task N's next run; /skip N undo: it runs after all."""
    chat = await current_chat(update, context)
    _ = chat_translator(update, chat)
    zone = chat_zone(chat, context)
    too_large = oversized_number(context)
    if too_large is not None:
        await reply(update, no_such_task(_, too_large))
        return
    task_id = task_number(context)
    rest = [word.lower() for word in (context.args or [])[1:]]
    if task_id is None or len(rest) > 1 or (rest and rest[0] not in UNDO):
        await reply(update, shapes.skip_usage(_))
        return
    cases = use_cases(context).shapes
    try:
        if rest:
            state = await cases.undo_skip(actor(update), task_id)
            text = shapes.unskipped_notice(_, state.task, zone)
        else:
            state = await cases.skip_next(actor(update), task_id)
            text = shapes.skipped_notice(_, task_id, state.skipped_for, zone)
    except CronpilotError as error:
        text = problems.reply(_, error, zone)
    await reply(update, text)


async def switch_draft_mode(update: Update, context: Context, data: SwitchDraftMode) -> None:
    """“🤖 Let the AI do it” / “⏰ Just remind me” on a card: the card is drawn again."""
    async with Press(update, context) as press:
        card = await press.use_cases.drafts.switch_mode(press.actor, data.draft_id)
        await press.answer()
        await edit(press.message, shapes.card(press.words, card, press.zone))


async def choose_draft_model(update: Update, context: Context, data: ChooseDraftModel) -> None:
    """“🧠 Model: …” on a card: the next model of the choices; the card is drawn again, its
    estimate on that model."""
    async with Press(update, context) as press:
        name = press.use_cases.setup.models.choice(data.index)
        card = await press.use_cases.drafts.set_model(press.actor, data.draft_id, name)
        _ = press.words
        await press.answer(_("Model: {model}", model=card.model))
        await edit(press.message, shapes.card(press.words, card, press.zone))


async def _redraw_task_card(press: Press, task_id: int) -> None:
    state = await press.use_cases.shapes.skip_state(press.actor, task_id)
    await edit(
        press.message,
        await task_card(
            press.words, state.task, state.skipped_for, press.zone, press.use_cases, press.actor
        ),
    )


async def switch_task_mode(update: Update, context: Context, data: SwitchTaskMode) -> None:
    """The same switch on a task card."""
    async with Press(update, context) as press:
        await press.use_cases.shapes.switch_mode(press.actor, data.task_id)
        await press.answer()
        await _redraw_task_card(press, data.task_id)


async def skip_next(update: Update, context: Context, data: SkipNext) -> None:
    """Skip next on a task card (or the card after Confirm): the card then says which run is
    skipped, with Undo."""
    async with Press(update, context) as press:
        state = await press.use_cases.shapes.skip_next(press.actor, data.task_id)
        _ = press.words
        await press.answer(
            _("Next run skipped: {when}", when=when(_, state.skipped_for, press.zone))
        )
        await _redraw_task_card(press, data.task_id)


async def undo_skip(update: Update, context: Context, data: UndoSkip) -> None:
    """Undo under “next run skipped”: that run happens after all; the card says when."""
    async with Press(update, context) as press:
        state = await press.use_cases.shapes.undo_skip(press.actor, data.task_id)
        _ = press.words
        await press.answer(
            _("Runs at {when} after all", when=when(_, state.task.next_run_at, press.zone))
        )
        await _redraw_task_card(press, data.task_id)


async def snooze_reminder(update: Update, context: Context, data: SnoozeReminder) -> None:
    """Snooze under a one-time reminder: it comes again later; the message says when."""
    async with Press(update, context) as press:
        task = await press.use_cases.shapes.snooze(press.actor, data.task_id, SnoozeFor(data.delay))
        _ = press.words
        await press.answer(_("Snoozed"))
        words = reminder_words(task.prompt)
        await edit(press.message, Screen(shapes.snoozed(_, words, task.next_run_at, press.zone)))


async def reminder_done(update: Update, context: Context, data: ReminderDone) -> None:
    """Done under a one-time reminder: the message says so and loses its buttons."""
    async with Press(update, context) as press:
        task = await press.use_cases.shapes.done(press.actor, data.task_id)
        _ = press.words
        await press.answer(_("Done"))
        await edit(press.message, Screen(shapes.done(_, reminder_words(task.prompt))))
