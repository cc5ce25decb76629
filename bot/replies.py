"""How replies about a task look: follow-up answers, change cards and what becomes of them.

HTML texts with every user- or model-supplied part escaped; whole sentences with named
placeholders, so they can move to the translation catalogs as they are.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from telegram import InlineKeyboardMarkup, MessageEntity
from telegramify_markdown import convert, split_entities

from application.changes import AppliedChange, ChangeAction, ChangeCard
from bot import render
from bot.callbacks import Action
from scheduler.schedules.schedule import Schedule
from storage.records import Task, TaskKind

PROMPT_PREVIEW = 600


def answer_chunks(answer: str) -> list[render.Chunk]:
    """The model's Markdown as Telegram entities, split under the size limit."""
    text, entities = convert(answer)
    chunks = split_entities(text, entities, render.RESULT_CHUNK)
    if not chunks:
        return [render.Chunk(answer.strip() or "…", ())]
    return [
        render.Chunk(
            body,
            tuple(
                MessageEntity(
                    type=entity.type,
                    offset=entity.offset,
                    length=entity.length,
                    url=entity.url,
                    language=entity.language,
                    custom_emoji_id=entity.custom_emoji_id,
                )
                for entity in body_entities
            ),
        )
        for body, body_entities in chunks
    ]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _schedule_words(schedule: Schedule) -> str:
    description = escape(schedule.describe())
    if schedule.kind is TaskKind.CRON and schedule.cron:
        return f"{description} (<code>{escape(schedule.cron)}</code>)"
    return description


def _runs(card: ChangeCard, now: datetime, zone: str) -> str:
    runs = card.next_runs(now)
    return "\n".join(f"• {render.when(run, zone)}" for run in runs) or "• none"


def change_card(card: ChangeCard, now: datetime, zone: str) -> render.Screen:
    task = card.task
    name = escape(task.name)
    if card.action is ChangeAction.PAUSE:
        lines = [f"⏸ <b>Pause task #{task.id}</b> {name}?"]
    elif card.action is ChangeAction.RESUME:
        lines = [
            f"▶️ <b>Resume task #{task.id}</b> {name}?",
            "",
            f"⏭ <b>Next runs</b> ({escape(zone)}):",
            _runs(card, now, zone),
        ]
    elif card.action is ChangeAction.DELETE:
        lines = [f"🗑 <b>Delete task #{task.id}</b> {name} and its history? This cannot be undone."]
    else:
        lines = [f"✏️ <b>Change task #{task.id}?</b> {name}", ""]
        if card.new_schedule is not None:
            lines += [
                f"🗓 <b>Now:</b> {_schedule_words(card.old_schedule)}",
                f"🗓 <b>New:</b> {_schedule_words(card.new_schedule)}",
                f"🌍 <b>Time zone:</b> {escape(card.new_schedule.timezone)}",
            ]
        else:
            lines.append(f"🗓 <b>When:</b> {_schedule_words(card.old_schedule)}")
        if card.new_prompt is not None:
            lines += [
                f"📝 <b>Now:</b> {escape(_clip(card.old_prompt, PROMPT_PREVIEW))}",
                f"📝 <b>New:</b> {escape(_clip(card.new_prompt, PROMPT_PREVIEW))}",
            ]
        lines += [f"⏭ <b>Next runs</b> ({escape(zone)}):", _runs(card, now, zone)]
    keyboard = InlineKeyboardMarkup(
        [
            [
                render.button("✅ Confirm", Action.CHANGE_CONFIRM, card.change_id),
                render.button("✖️ Cancel", Action.CHANGE_CANCEL, card.change_id),
            ]
        ]
    )
    return render.Screen("\n".join(lines), keyboard)


def change_applied(applied: AppliedChange, zone: str) -> render.Screen:
    task = applied.task
    if applied.action is ChangeAction.DELETE:
        return render.Screen(f"🗑 Deleted task #{task.id} {escape(task.name)}.")
    headings = {
        ChangeAction.EDIT: f"✅ Task #{task.id} is changed.",
        ChangeAction.PAUSE: f"⏸ Task #{task.id} is paused.",
        ChangeAction.RESUME: f"▶️ Task #{task.id} is active again.",
    }
    detail = render.task_detail(task, zone)
    return render.Screen(f"{headings[applied.action]}\n\n{detail.text}", detail.keyboard)


def change_cancelled(card: ChangeCard) -> str:
    return f"✖️ Cancelled: task #{card.task.id} stays as it was."


def change_closed() -> str:
    return "This change is no longer open (already confirmed, cancelled or expired)."


def change_outdated(task_id: int) -> str:
    return (
        f"Task #{task_id} was changed after this card was made, so it was not applied. "
        "Reply again to ask for the change."
    )


def answer_failed(reason: str) -> str:
    return f"⚠️ I couldn't answer that: {escape(_clip(reason, 500))}"


def change_unusable(reason: str) -> str:
    return f"❌ I couldn't turn that into a change: {escape(_clip(reason, 500))}."


def unclear(task: Task) -> str:
    return (
        f"🤔 You can ask me about task #{task.id}'s results, or change the task by replying, "
        "for example:\n"
        "• <i>only on weekdays at 8am</i>\n"
        "• <i>shorter, three bullet points</i>\n"
        "• <i>pause this</i>\n"
        "To create a new task, send it as a new message rather than a reply."
    )


def task_gone() -> str:
    return "❌ That task no longer exists."
