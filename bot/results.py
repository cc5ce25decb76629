"""How a run's messages look in Telegram: the result (split under the size limit, with its
buttons), the failure notice, the pause notice, "nothing to report" and the budget notice.

Every function takes the chat's `Translator` as `_`; every word comes from the catalogs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from telegram import InlineKeyboardMarkup, MessageEntity
from telegramify_markdown import split_entities, utf16_len
from telegramify_markdown.entity import MessageEntity as TelegramifyEntity

from bot.callbacks import RESULT, PauseTask, ResumeTask, RetryTask, RunTask
from bot.i18n import Translator
from bot.markdown import convert
from bot.render import Screen, button, clip, dollars, when
from core.reasons import Reason
from storage.records import Run, Task

# Room for the header and a safety margin under Telegram's limit.
RESULT_CHUNK = 3900


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Chunk:
    """One message of a result: plain text plus formatting entities (no parse mode needed)."""

    text: str
    entities: tuple[MessageEntity, ...]


def result_header(_: Translator, task: Task) -> str:
    return _("📋 {name} · task #{number}", name=clip(task.name, 80), number=task.id) + "\n\n"


def result_chunks(_: Translator, task: Task, answer: str) -> list[Chunk]:
    """The model's Markdown, converted to Telegram entities and split under the size limit,
    headed with the task's name."""
    text, entities = convert(answer)
    return headed_chunks(result_header(_, task), text, entities, fallback=answer)


def headed_chunks(
    header: str, text: str, entities: Sequence[TelegramifyEntity], *, fallback: str
) -> list[Chunk]:
    """Converted text split under the size limit, the first part headed (in bold) with
    `header` when there is one; `fallback` (the answer as written) when nothing is left."""
    chunks = split_entities(text, list(entities), RESULT_CHUNK) or [(fallback.strip() or "…", [])]
    result = []
    for index, (body, body_entities) in enumerate(chunks):
        prefix = header if index == 0 else ""
        shift = utf16_len(prefix)
        converted = [
            MessageEntity(
                type=entity.type,
                offset=entity.offset + shift,
                length=entity.length,
                url=entity.url,
                language=entity.language,
                custom_emoji_id=entity.custom_emoji_id,
            )
            for entity in body_entities
        ]
        if prefix:
            converted.insert(
                0,
                MessageEntity(type=MessageEntity.BOLD, offset=0, length=utf16_len(prefix.rstrip())),
            )
        result.append(Chunk(prefix + body, tuple(converted)))
    return result


def plain_chunks(_: Translator, task: Task, answer: str) -> list[str]:
    """The fallback when Telegram refuses the formatting: the raw answer, split by size."""
    text = result_header(_, task) + answer
    return [body for body, _ in split_entities(text, [], RESULT_CHUNK)] or [text]


def result_buttons(_: Translator, task: Task) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(_("🔁 Run again"), RunTask(task.id)),
                button(_("⏸ Pause"), PauseTask(task.id, RESULT)),
            ]
        ]
    )


def failure(
    _: Translator, task: Task, reason: Reason, *, retry_at: datetime | None = None
) -> Screen:
    """A failure notice; with `retry_at`, when the run tries again by itself."""
    text = _(
        "⚠️ Task #{number} failed: {reason}",
        number=task.id,
        reason=escape(clip(_.reason(reason), 500)),
    )
    if retry_at is not None:
        text += "\n" + _(
            "🔄 I will try again — next try: {when}.", when=when(_, retry_at, task.timezone)
        )
    return Screen(
        text,
        InlineKeyboardMarkup([[button(_("🔁 Retry"), RetryTask(task.id))]]),
    )


def failure_settled(_: Translator, task: Task, reason: Reason, later: Run) -> str:
    """A failure notice once a later try of the run worked (its result was posted as usual)."""
    text = _(
        "⚠️ Task #{number} failed: {reason}",
        number=task.id,
        reason=escape(clip(_.reason(reason), 500)),
    )
    return (
        text
        + "\n"
        + _(
            "✅ Try {attempt} worked ({when}).",
            attempt=later.attempt,
            when=when(_, later.finished_at or later.scheduled_for, task.timezone),
        )
    )


def paused_notice(_: Translator, task: Task, reason: Reason) -> Screen:
    return Screen(
        _(
            "⏸ Task #{number} <b>{name}</b> is paused: {reason}\n"
            "Resume it once the problem is fixed (or with /resume {number}).",
            number=task.id,
            name=escape(task.name),
            reason=escape(clip(_.reason(reason), 600)),
        ),
        InlineKeyboardMarkup([[button(_("▶️ Resume"), ResumeTask(task.id))]]),
    )


def nothing_to_report(_: Translator, task: Task) -> str:
    return _(
        "🤫 Task #{number} <b>{name}</b> ran: nothing to report this time. "
        "Scheduled runs with nothing to report stay silent.",
        number=task.id,
        name=escape(task.name),
    )


def budget_reached(_: Translator, task: Task, spent_usd: float, budget_usd: float) -> str:
    return _(
        "💸 Task #{number} <b>{name}</b> did not run: this chat has spent {spent} of its "
        "{budget} monthly budget. Runs start again next month; /usage shows where it went.",
        number=task.id,
        name=escape(task.name),
        spent=dollars(_, spent_usd, places=2),
        budget=dollars(_, budget_usd, places=2),
    )


def skipped(_: Translator, task: Task, reason: Reason) -> str:
    return _(
        "⏭ Task #{number} <b>{name}</b> did not run: {reason}. Runs start again next month, "
        "or raise the cap with /budget {number}.",
        number=task.id,
        name=escape(task.name),
        reason=escape(_.reason(reason)),
    )


def target_refused(_: Translator, task: Task, target: str, reason: str) -> str:
    """In the task's own chat: another place it posts to refused its result (said once, until a
    result gets through there again)."""
    return _(
        "⚠️ Task #{number} could not post its result to {target}: {reason}. It keeps posting to "
        "its other targets and tries {target} again at its next run; this is said once until a "
        "result gets through there. To fix it, let the bot post there again, or change where "
        "the task posts with /target {number}.",
        number=task.id,
        target=escape(target),
        reason=escape(reason),
    )
