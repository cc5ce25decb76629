"""How replies about a task look: follow-up answers, change cards and what becomes of them.

HTML texts with every user- or model-supplied part escaped; every word from the catalogs, in the
chat's language (`_`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from telegram import InlineKeyboardMarkup

from application.changes import AppliedChange, ChangeAction, ChangeCard
from application.task_setup import ModelOffer
from bot import render, where
from bot.callbacks import CancelChange, ConfirmChange
from bot.i18n import N_, Translator
from scheduler.schedules.schedule import Schedule
from storage.records import Followup, RunStatus, Target, Task, TaskKind

PROMPT_PREVIEW = 600
# A follow-up is answered, or needs no answer (it asked for a change, or was not a question).
FOLLOWUP_STATUSES = {
    RunStatus.RUNNING: N_("running"),
    RunStatus.SUCCEEDED: N_("answered"),
    RunStatus.FAILED: N_("failed"),
    RunStatus.SILENT: N_("no answer needed"),
    RunStatus.INTERRUPTED: N_("interrupted"),
}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _schedule_words(_: Translator, schedule: Schedule) -> str:
    description = escape(render.describe(_, schedule))
    if schedule.kind is TaskKind.CRON and schedule.cron:
        return f"{description} (<code>{escape(schedule.cron)}</code>)"
    return description


def _runs(_: Translator, card: ChangeCard, now: datetime, zone: str) -> str:
    runs = card.next_runs(now)
    if not runs:
        return _("No more runs.")
    return "\n".join(f"• {render.when(_, run, zone)}" for run in runs)


def _model_name(offer: ModelOffer, choice: str | None) -> str:
    """A stored choice of model as people see it (the default's own name for None)."""
    return escape(offer.shown(choice))


def _choice_lines(_: Translator, card: ChangeCard, offer: ModelOffer) -> list[str]:
    """The change's old and new targets and model, when it changes them."""
    lines = []
    if card.old_targets is not None and card.new_targets is not None:
        lines += [
            _("📍 <b>Now posts to:</b> {places}", places=_places(_, card.task, card.old_targets)),
            _("📍 <b>Will post to:</b> {places}", places=_places(_, card.task, card.new_targets)),
        ]
    if card.changes_model:
        lines += [
            _("🤖 <b>Model now:</b> {model}", model=_model_name(offer, card.old_model)),
            _("🤖 <b>New model:</b> {model}", model=_model_name(offer, card.new_model)),
        ]
    return lines


def _places(_: Translator, task: Task, targets: Sequence[Target]) -> str:
    return " · ".join(where.place(_, task, target) for target in targets)


def change_card(
    _: Translator, card: ChangeCard, now: datetime, zone: str, offer: ModelOffer
) -> render.Screen:
    task = card.task
    name = escape(task.name)
    next_runs = [_("⏭ <b>Next runs</b> ({zone}):", zone=escape(zone)), _runs(_, card, now, zone)]
    if card.action is ChangeAction.PAUSE:
        lines = [_("⏸ <b>Pause task #{number}</b> {name}?", number=task.id, name=name)]
    elif card.action is ChangeAction.RESUME:
        lines = [
            _("▶️ <b>Resume task #{number}</b> {name}?", number=task.id, name=name),
            "",
            *next_runs,
        ]
    elif card.action is ChangeAction.AFTER:
        lines = [
            _(
                "🔗 <b>Run task #{number}</b> {name} <b>after task #{upstream}?</b>",
                number=task.id,
                name=name,
                upstream=card.after_task_id,
            ),
            _(
                "It will run each time task #{upstream} delivers a result, building on its answer.",
                upstream=card.after_task_id,
            ),
        ]
    elif card.action is ChangeAction.DELETE:
        lines = [
            _(
                "🗑 <b>Delete task #{number}</b> {name} and its history? This cannot be undone.",
                number=task.id,
                name=name,
            )
        ]
    else:
        lines = [_("✏️ <b>Change task #{number}?</b> {name}", number=task.id, name=name), ""]
        if card.new_schedule is not None:
            lines += [
                _("🗓 <b>Now:</b> {schedule}", schedule=_schedule_words(_, card.old_schedule)),
                _("🗓 <b>New:</b> {schedule}", schedule=_schedule_words(_, card.new_schedule)),
                _("🌍 <b>Time zone:</b> {zone}", zone=escape(card.new_schedule.timezone)),
            ]
        else:
            lines.append(
                _("🗓 <b>When:</b> {description}", description=_schedule_words(_, card.old_schedule))
            )
        if card.new_prompt is not None:
            old = escape(_clip(card.old_prompt, PROMPT_PREVIEW))
            new = escape(_clip(card.new_prompt, PROMPT_PREVIEW))
            lines += [
                _("📝 <b>Now:</b> {prompt}", prompt=old),
                _("📝 <b>New:</b> {prompt}", prompt=new),
            ]
        lines += _choice_lines(_, card, offer)
        lines += next_runs
    keyboard = InlineKeyboardMarkup(
        [
            [
                render.button(_("✅ Confirm"), ConfirmChange(card.change_id)),
                render.button(_("✖️ Cancel"), CancelChange(card.change_id)),
            ]
        ]
    )
    return render.Screen("\n".join(lines), keyboard)


def change_applied(
    _: Translator, applied: AppliedChange, zone: str, *, setup: Sequence[str] = ()
) -> render.Screen:
    """What became of the task; `setup` are its card's lines about what it runs with."""
    task = applied.task
    if applied.action is ChangeAction.DELETE:
        return render.Screen(
            _("🗑 Deleted task #{number} {name}.", number=task.id, name=escape(task.name))
        )
    if applied.action is ChangeAction.PAUSE:
        heading = _("⏸ Task #{number} is paused.", number=task.id)
    elif applied.action is ChangeAction.RESUME:
        heading = _("▶️ Task #{number} is active again.", number=task.id)
    else:
        heading = _("✅ Task #{number} is changed.", number=task.id)
    detail = render.task_detail(_, task, zone, setup=setup)
    return render.Screen(f"{heading}\n\n{detail.text}", detail.keyboard)


def changed_notice(_: Translator, task_id: int) -> str:
    return _("Task #{number} changed", number=task_id)


def cancelled_notice(_: Translator) -> str:
    return _("Cancelled")


def change_cancelled(_: Translator, card: ChangeCard) -> str:
    return _("✖️ Cancelled: task #{number} stays as it was.", number=card.task.id)


def change_closed(_: Translator) -> str:
    return _("This change is no longer open (already confirmed, cancelled or expired).")


def change_outdated(_: Translator, task_id: int) -> str:
    return _(
        "Task #{number} was changed after this card was made, so it was not applied. "
        "Reply again to ask for the change.",
        number=task_id,
    )


def answer_failed(_: Translator, reason: str) -> str:
    return _("⚠️ I couldn't answer that: {reason}", reason=escape(_clip(reason, 500)))


def change_unusable(_: Translator, reason: str) -> str:
    return _("❌ I couldn't turn that into a change: {reason}.", reason=escape(_clip(reason, 500)))


def changed_elsewhere(_: Translator, task: Task) -> str:
    """A change asked for in another chat the task posts its results to."""
    return _(
        "Task #{number} belongs to another chat; it can only be changed there, by those who "
        "manage it. Questions about its results are answered here.",
        number=task.id,
    )


def unclear_elsewhere(_: Translator, task: Task) -> str:
    """Neither a question nor a change, in another chat the task posts to."""
    return _(
        "🤔 Reply to task #{number}'s results with a question about them and I answer here. "
        "The task itself is changed in its own chat.",
        number=task.id,
    )


def unclear(_: Translator, task: Task) -> str:
    return _(
        "🤔 You can ask me about task #{number}'s results, or change the task by replying, "
        "for example:\n"
        "• <i>only on weekdays at 8am</i>\n"
        "• <i>shorter, three bullet points</i>\n"
        "• <i>pause this</i>\n"
        "To create a new task, send it as a new message rather than a reply.",
        number=task.id,
    )


def task_gone(_: Translator) -> str:
    return _("❌ That task no longer exists.")


def followup_history(_: Translator, entries: Sequence[Followup], chat_zone: str) -> str:
    """A task's last follow-ups for /history: when, how it went, what it cost, the question."""
    lines = [_("💬 <b>Last follow-ups</b>")]
    for followup in entries:
        parts = [
            render.when(_, followup.created_at, chat_zone),
            f"<b>{_(FOLLOWUP_STATUSES.get(followup.status, followup.status.value))}</b>",
        ]
        if followup.prompt_tokens is not None or followup.completion_tokens is not None:
            parts.append(
                render.tokens(_, followup.prompt_tokens or 0, followup.completion_tokens or 0)
            )
        if followup.cost is not None:
            parts.append(render.dollars(_, followup.cost))
        line = " · ".join(parts)
        line += "\n   ❓ " + escape(render.clip(" ".join(followup.question.split()), 120))
        if followup.reason and followup.status in (RunStatus.FAILED, RunStatus.INTERRUPTED):
            line += f"\n   ↳ {escape(render.clip(_.reason(followup.reason), 200))}"
        lines.append(line)
    return "\n".join(lines)
