"""How things look in Telegram: texts (HTML, every user-supplied part escaped) and keyboards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from babel.numbers import format_decimal
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity
from telegramify_markdown import split_entities, utf16_len

from application.records import Card, TaskPage
from bot.callbacks import RESULT, TASK_CARD, Action, Place, encode, list_page
from bot.i18n import Translator
from bot.markdown import convert
from scheduler.schedules.descriptions import format_local
from scheduler.schedules.schedule import Schedule, zone_for
from storage.records import Run, RunStatus, Task, TaskKind, TaskState

MAX_MESSAGE = 4096
# Room for the header and a safety margin under Telegram's limit.
RESULT_CHUNK = 3900
PROMPT_PREVIEW = 300

EXAMPLES = (
    "every weekday at 9am summarize the top Hacker News stories",
    "remind me to drink water every 2 hours",
    "tomorrow at 8pm tell me a joke",
    "0 9 * * 1-5 check https://status.example.com and tell me if anything is down",
)


@dataclass(frozen=True, slots=True)
class Screen:
    """A message to send or an edit to make: HTML text and optional buttons."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None


def button(
    label: str, action: Action, ref: str | int, place: Place | None = None
) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=encode(action, ref, place))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def when(instant: datetime | None, zone: str) -> str:
    return format_local(instant, zone_for(zone)) if instant is not None else "—"


# --- start and help ---------------------------------------------------------------------------


def start(zone: str, *, private: bool) -> str:
    examples = "\n".join(f"• <i>{escape(example)}</i>" for example in EXAMPLES[:2])
    how_to_ask = (
        "Just write what you want and when."
        if private
        else "Use /new followed by what you want and when, mention me, or reply to me."
    )
    change = "/timezone Europe/Berlin" + (", or tap “Share location” below" if private else "")
    return (
        "👋 <b>Hi, I'm cronpilot.</b> I run tasks for you on a schedule with an AI model and "
        "post the results here.\n\n"
        f"{how_to_ask} For example:\n{examples}\n\n"
        "I'll show you exactly what I understood before anything is scheduled.\n\n"
        f"🌍 This chat's time zone is <b>{escape(zone)}</b>. Change it with {change}.\n"
        "/tasks lists your tasks, /help shows everything I can do."
    )


def help_text() -> str:
    examples = "\n".join(f"• <i>{escape(example)}</i>" for example in EXAMPLES)
    return (
        "<b>Creating a task</b>: write the task and its schedule (in groups: /new …).\n"
        f"{examples}\n"
        "You can also start with a five-field cron expression.\n\n"
        "<b>Managing tasks</b>\n"
        "/tasks: list them, with buttons\n"
        "/task N: show task N\n"
        "/run N: run task N now\n"
        "/pause N, /resume N: pause or resume task N\n"
        "/delete N: delete task N\n"
        "/history N: the last runs of task N\n"
        "/edit N new text: change what task N does and when\n"
        "/timezone Area/City: this chat's time zone\n"
        "/cancel: drop the request you are writing\n\n"
        "If a task has nothing new to say, it stays quiet."
    )


def sentence(text: str, *, capital: bool = True) -> str:
    """`text` as one sentence: first letter capital (unless it continues one), the rest as
    written, one final stop."""
    text = " ".join(text.split())
    if not text:
        return text
    if capital:
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def not_understood(reason: str) -> str:
    """The parser's reason, said once, then examples (unless the reason already gives some)."""
    if "e.g." in reason or "for example" in reason:
        return f"🤔 {escape(sentence(reason))}"
    examples = "\n".join(f"• <i>{escape(example)}</i>" for example in EXAMPLES[:3])
    return f"🤔 {escape(sentence(reason))}\n\nSay what to do and when, for example:\n{examples}"


def no_such_task(number: str) -> str:
    return f"❌ There is no task #{escape(number)} in this chat. /tasks lists the ones there are."


def unknown_command(command: str) -> str:
    return (
        f"I don't know the command {escape(command)}. "
        "/help lists what I can do; /tasks shows this chat's tasks."
    )


def slow_down() -> str:
    return (
        "⏳ You are sending messages faster than I can take them. "
        "Wait a minute, then send the last one again."
    )


def refused(user_id: int) -> str:
    return (
        "⛔ Sorry, you are not allowed to use this bot.\n"
        f"Your Telegram user id is <code>{user_id}</code>: ask the bot's operator to add it to "
        "ALLOWED_USERS."
    )


# --- the confirmation card --------------------------------------------------------------------


def _schedule_lines(schedule: Schedule) -> list[str]:
    lines = [f"🗓 <b>When:</b> {escape(schedule.describe())}"]
    if schedule.kind is TaskKind.CRON and schedule.cron:
        lines.append(f"⚙️ <b>Cron:</b> <code>{escape(schedule.cron)}</code>")
    elif schedule.kind is TaskKind.INTERVAL and schedule.every_seconds:
        lines.append(f"⚙️ <b>Every:</b> {schedule.every_seconds} seconds")
    else:
        lines.append("⚙️ <b>One time only</b>")
    lines.append(f"🌍 <b>Time zone:</b> {escape(schedule.timezone)}")
    return lines


def card(card: Card, chat_zone: str) -> Screen:
    title = f"Change task #{card.task_id}?" if card.task_id else "Schedule this task?"
    runs = "\n".join(f"• {when(run, chat_zone)}" for run in card.next_runs) or "• none"
    lines = [
        f"<b>{title}</b>",
        "",
        f"📝 <b>Task:</b> {escape(_clip(card.prompt, PROMPT_PREVIEW))}",
        *_schedule_lines(card.schedule),
        f"⏭ <b>Next runs</b> ({escape(chat_zone)}):",
        runs,
    ]
    lines += [
        # A whole sentence with named placeholders, ready for the catalogs.
        "✍️ Read “{typed}” as “{meant}”.".format(typed=escape(typed), meant=escape(meant))  # noqa: UP032
        for typed, meant in card.corrections
    ]
    if card.source == "llm":
        lines += ["", "<i>Understood with the help of the AI model: please check it.</i>"]
    keyboard = InlineKeyboardMarkup(
        [
            [
                button("✅ Confirm", Action.CONFIRM, card.draft_id),
                button("✏️ Edit", Action.EDIT, card.draft_id),
                button("✖️ Cancel", Action.CANCEL, card.draft_id),
            ]
        ]
    )
    return Screen("\n".join(lines), keyboard)


def edit_prompt() -> str:
    return "✏️ Send the corrected request: it replaces the card above."


def already_handled() -> str:
    return "This request was already confirmed or cancelled. /tasks lists this chat's tasks."


def cancelled(card_: Card) -> str:
    return f"✖️ Cancelled: <s>{escape(_clip(card_.prompt, PROMPT_PREVIEW))}</s>"


def replaced(card_: Card) -> str:
    return (
        f"✏️ Replaced by a corrected request: <s>{escape(_clip(card_.prompt, PROMPT_PREVIEW))}</s>"
    )


# --- tasks ------------------------------------------------------------------------------------


def task_buttons(task: Task, place: Place) -> list[InlineKeyboardButton]:
    """Run, Pause or Resume, Delete and History; Pause and Resume redraw `place` after."""
    toggle = (
        button("⏸ Pause", Action.PAUSE, task.id, place)
        if task.state is TaskState.ACTIVE
        else button("▶️ Resume", Action.RESUME, task.id, place)
    )
    return [
        button("🚀 Run now", Action.RUN, task.id),
        toggle,
        button("🗑 Delete", Action.DELETE, task.id),
        button("📜 History", Action.HISTORY, task.id),
    ]


def _state(task: Task) -> str:
    return {TaskState.ACTIVE: "active", TaskState.PAUSED: "⏸ paused", TaskState.FINISHED: "done"}[
        task.state
    ]


def scheduled(task: Task, chat_zone: str) -> Screen:
    schedule = Schedule.of(task)
    text = "\n".join(
        [
            f"✅ <b>Scheduled — task #{task.id}</b>",
            "",
            f"📝 {escape(_clip(task.prompt, PROMPT_PREVIEW))}",
            *_schedule_lines(schedule),
            f"⏭ <b>Next run:</b> {when(task.next_run_at, chat_zone)}",
        ]
    )
    return Screen(text, InlineKeyboardMarkup([task_buttons(task, TASK_CARD)]))


def task_detail(task: Task, chat_zone: str) -> Screen:
    schedule = Schedule.of(task)
    text = "\n".join(
        [
            f"<b>Task #{task.id}</b> · {escape(task.name)} · {_state(task)}",
            "",
            f"📝 {escape(_clip(task.prompt, 1500))}",
            *_schedule_lines(schedule),
            f"⏭ <b>Next run:</b> {when(task.next_run_at, chat_zone)}",
            f"⏮ <b>Last run:</b> {when(task.last_run_at, chat_zone)}",
        ]
    )
    return Screen(text, InlineKeyboardMarkup([task_buttons(task, TASK_CARD)]))


def task_list(page: TaskPage, chat_zone: str) -> Screen:
    if page.total == 0:
        return Screen(
            f"You have no tasks here yet. Write one, for example:\n<i>{escape(EXAMPLES[0])}</i>"
        )
    header = f"<b>Tasks in this chat</b> ({page.total} in all"
    header += f", page {page.page + 1} of {page.pages})" if page.pages > 1 else ")"
    lines = [header]
    rows: list[list[InlineKeyboardButton]] = []
    for task, description in zip(page.tasks, page.descriptions, strict=True):
        lines += [
            "",
            f"<b>#{task.id}</b> {escape(task.name)}",
            f"{escape(description)} · next {when(task.next_run_at, chat_zone)} · {_state(task)}",
        ]
        rows.append(
            [
                InlineKeyboardButton(f"{b.text} #{task.id}", callback_data=b.callback_data)
                for b in task_buttons(task, list_page(page.page))
            ]
        )
    navigation = []
    if page.page > 0:
        navigation.append(button("« Previous", Action.PAGE, page.page - 1))
    if page.page < page.pages - 1:
        navigation.append(button("Next »", Action.PAGE, page.page + 1))
    if navigation:
        rows.append(navigation)
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows))


def confirm_delete(task: Task) -> Screen:
    return Screen(
        f"🗑 Delete task #{task.id} <b>{escape(task.name)}</b> and its history? "
        "This cannot be undone.",
        InlineKeyboardMarkup(
            [
                [
                    button("🗑 Delete it", Action.DELETE_YES, task.id),
                    button("Keep it", Action.DELETE_NO, task.id),
                ]
            ]
        ),
    )


def tokens(prompt: int, completion: int) -> str:
    return f"{prompt + completion} tokens ({prompt} in, {completion} out)"


def _duration(run: Run) -> str:
    seconds = run.duration_seconds
    return f"{seconds:.1f} s" if seconds is not None else "—"


def history(task: Task, entries: Sequence[Run], chat_zone: str) -> str:
    lines = [f"📜 <b>Last runs of task #{task.id}</b> · {escape(task.name)}"]
    if not entries:
        lines.append("No runs yet.")
    for run in entries:
        parts = [
            when(run.scheduled_for, chat_zone),
            run.trigger.value.replace("_", "-"),
            f"<b>{run.status.value}</b>",
            _duration(run),
        ]
        if run.prompt_tokens is not None or run.completion_tokens is not None:
            parts.append(tokens(run.prompt_tokens or 0, run.completion_tokens or 0))
        if run.cost is not None:
            parts.append(f"${run.cost:.4f}")
        line = " · ".join(parts)
        if run.tool_calls:
            line += f"\n   🔧 {escape(tool_trace(run))}"
        if run.error and run.status not in (RunStatus.SUCCEEDED, RunStatus.SILENT):
            line += f"\n   ↳ {escape(_clip(run.error, 200))}"
        elif run.delivery_error:
            line += f"\n   ↳ not delivered: {escape(_clip(run.delivery_error, 200))}"
        if run.delivery_pending:
            line += "\n   ↳ not delivered yet; I keep trying to send it."
        lines.append(line)
    return "\n".join(lines)


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Chunk:
    """One message of a result: plain text plus formatting entities (no parse mode needed)."""

    text: str
    entities: tuple[MessageEntity, ...]


def _result_header(task: Task) -> str:
    return f"📋 {_clip(task.name, 80)} · task #{task.id}\n\n"


def result_chunks(task: Task, answer: str) -> list[Chunk]:
    """The model's Markdown, converted to Telegram entities and split under the size limit,
    headed with the task's name."""
    header = _result_header(task)
    text, entities = convert(answer)
    chunks = split_entities(text, entities, RESULT_CHUNK) or [(answer.strip() or "…", [])]
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


def plain_chunks(task: Task, answer: str) -> list[str]:
    """The fallback when Telegram refuses the formatting: the raw answer, split by size."""
    text = _result_header(task) + answer
    return [body for body, _ in split_entities(text, [], RESULT_CHUNK)] or [text]


def result_buttons(task: Task) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button("🔁 Run again", Action.RUN_AGAIN, task.id),
                button("⏸ Pause", Action.PAUSE, task.id, RESULT),
            ]
        ]
    )


def failure(task: Task, reason: str) -> Screen:
    return Screen(
        f"⚠️ Task #{task.id} failed: {escape(_clip(reason, 500))}",
        InlineKeyboardMarkup([[button("🔁 Retry", Action.RETRY, task.id)]]),
    )


def paused_notice(task: Task, reason: str) -> Screen:
    return Screen(
        f"⏸ Task #{task.id} <b>{escape(task.name)}</b> is paused: {escape(_clip(reason, 600))}\n"
        f"Resume it once the problem is fixed (or with /resume {task.id}).",
        InlineKeyboardMarkup([[button("▶️ Resume", Action.RESUME, task.id)]]),
    )


def nothing_to_report(task: Task) -> str:
    return (
        f"🤫 Task #{task.id} <b>{escape(task.name)}</b> ran: nothing to report this time. "
        "Scheduled runs with nothing to report stay silent."
    )


def tool_trace(run: Run) -> str:
    """The tools a run used: "web_search ×2, web_fetch ×1"."""
    return ", ".join(f"{name} ×{count}" for name, count in run.tool_calls)


def budget_reached(_: Translator, task: Task, spent_usd: float, budget_usd: float) -> str:
    return _(
        "💸 Task #{number} <b>{name}</b> did not run: this chat has spent {spent} of its "
        "{budget} monthly budget. Runs start again next month; /usage shows where it went.",
        number=task.id,
        name=escape(task.name),
        spent=dollars(_, spent_usd, places=2),
        budget=dollars(_, budget_usd, places=2),
    )


def dollars(_: Translator, amount: float, *, places: int = 4) -> str:
    """An amount in US dollars as the chat's language writes numbers: "$0.0123"."""
    return "$" + format_decimal(amount, "0." + "0" * places, locale=_.locale)
