"""How things look in Telegram: texts (HTML, every user-supplied part escaped) and keyboards.

Every function takes the chat's `Translator` as `_`; every word comes from the catalogs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from application.records import Card, TaskPage
from bot import where
from bot.callbacks import (
    TASK_CARD,
    ButtonData,
    CancelDraft,
    ConfirmDelete,
    ConfirmDraft,
    DeleteTask,
    EditDraft,
    KeepTask,
    ListPage,
    PauseTask,
    Place,
    ResumeTask,
    RunTask,
    TaskHistory,
    list_page,
)
from bot.costs import cost_estimate
from bot.i18n import N_, Translator
from scheduler.schedules.descriptions import describe_cron
from scheduler.schedules.schedule import Schedule, zone_for
from storage.records import (
    Run,
    RunStatus,
    RunTrigger,
    TargetDelivery,
    Task,
    TaskKind,
    TaskState,
)

MAX_MESSAGE = 4096
PROMPT_PREVIEW = 300

EXAMPLES = (
    N_("every weekday at 9am summarize the top Hacker News stories"),
    N_("remind me to drink water every 2 hours"),
    N_("tomorrow at 8pm tell me a joke"),
    N_("0 9 * * 1-5 check https://status.example.com and tell me if anything is down"),
)


@dataclass(frozen=True, slots=True)
class Screen:
    """A message to send or an edit to make: HTML text and optional buttons."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None


def button(label: str, data: ButtonData) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data.pack())


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def when(_: Translator, instant: datetime | None, zone: str) -> str:
    return _.instant(instant, zone_for(zone)) if instant is not None else "—"


def _examples(_: Translator, count: int) -> str:
    return "\n".join(f"• <i>{escape(_(example))}</i>" for example in EXAMPLES[:count])


# --- start and help ---------------------------------------------------------------------------


def start(_: Translator, zone: str, *, private: bool) -> str:
    examples = _examples(_, 2)
    if private:
        how_to_ask = _(
            "Just write what you want and when. For example:\n{examples}", examples=examples
        )
        zone_line = _(
            "🌍 This chat's time zone is <b>{zone}</b>. Change it with /timezone Europe/Berlin, "
            "or tap “Share location” below.",
            zone=escape(zone),
        )
    else:
        how_to_ask = _(
            "Use /new followed by what you want and when, mention me, or reply to me. "
            "For example:\n{examples}",
            examples=examples,
        )
        zone_line = _(
            "🌍 This chat's time zone is <b>{zone}</b>. Change it with /timezone Europe/Berlin.",
            zone=escape(zone),
        )
    return "\n\n".join(
        [
            _(
                "👋 <b>Hi, I'm cronpilot.</b> I run tasks for you on a schedule with an AI model "
                "and post the results here."
            ),
            how_to_ask,
            _("I'll show you exactly what I understood before anything is scheduled."),
            zone_line
            + "\n"
            + _(
                "/tasks lists your tasks, /help shows everything I can do, "
                "/language changes my language."
            ),
        ]
    )


def share_location(_: Translator) -> str:
    return _("📍 Share location")


def help_text(_: Translator) -> str:
    return _(
        "<b>Creating a task</b>: write the task and its schedule (in groups: /new …).\n"
        "{examples}\n"
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
        "/language xx: the language I speak here\n"
        "/cancel: drop the request you are writing\n\n"
        "If a task has nothing new to say, it stays quiet.",
        examples=_examples(_, len(EXAMPLES)),
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


def not_understood(_: Translator, reason: str, english: str) -> str:
    """The parser's reason, said once, then examples (unless the reason already gives some:
    `english` is the reason as written below the bot, which says so)."""
    if "e.g." in english or "for example" in english:
        return f"🤔 {escape(sentence(reason))}"
    return _(
        "🤔 {reason}\n\nSay what to do and when, for example:\n{examples}",
        reason=escape(sentence(reason)),
        examples=_examples(_, 3),
    )


def no_such_task(_: Translator, number: str) -> str:
    return _(
        "❌ There is no task #{number} in this chat. /tasks lists the ones there are.",
        number=escape(number),
    )


def unknown_command(_: Translator, command: str) -> str:
    return _(
        "I don't know the command {command}. "
        "/help lists what I can do; /tasks shows this chat's tasks.",
        command=escape(command),
    )


def slow_down(_: Translator) -> str:
    return _(
        "⏳ You are sending messages faster than I can take them. "
        "Wait a minute, then send the last one again."
    )


def refused(_: Translator, user_id: int) -> str:
    return _(
        "⛔ Sorry, you are not allowed to use this bot.\n"
        "Your Telegram user id is <code>{user_id}</code>: ask the bot's operator to add it to "
        "ALLOWED_USERS.",
        user_id=user_id,
    )


# --- schedules --------------------------------------------------------------------------------


def period(_: Translator, seconds: int) -> str:
    """A period in the largest whole unit: "2 hours", "90 minutes"."""
    if seconds % 86_400 == 0:
        return _.plural("{count} day", "{count} days", seconds // 86_400)
    if seconds % 3_600 == 0:
        return _.plural("{count} hour", "{count} hours", seconds // 3_600)
    if seconds % 60 == 0:
        return _.plural("{count} minute", "{count} minutes", seconds // 60)
    return _.plural("{count} second", "{count} seconds", seconds)


def describe(_: Translator, schedule: Schedule) -> str:
    """The schedule in words, in the chat's language."""
    if schedule.kind is TaskKind.ONCE and schedule.run_at is not None:
        return _("Once, {when}", when=_.instant(schedule.run_at, schedule.zone))
    if schedule.kind is TaskKind.INTERVAL and schedule.every_seconds is not None:
        return _interval(_, schedule, schedule.every_seconds)
    if schedule.cron is not None:
        words = describe_cron(schedule.cron, _.language)
        first = schedule.first_run()
        if first is None:
            return words
        # The first run's day; its time too when the day has several runs.
        if schedule.runs_often():
            start = _.instant(first, schedule.zone)
        else:
            start = format_date(first, "EEE dd MMM y", locale=_.locale)
        return _("{schedule}, starting {start}", schedule=words, start=start)
    return schedule.describe()


def _interval(_: Translator, schedule: Schedule, seconds: int) -> str:
    """Whole days step in local days at one wall-clock time, from the first matching day;
    shorter periods are elapsed time."""
    if seconds % 86_400 or schedule.run_at is None:
        return _("Every {period}", period=period(_, seconds))
    days = seconds // 86_400
    local = schedule.run_at.astimezone(schedule.zone)
    first = local + timedelta(days=days)
    words = {
        "time": format_time(local, "HH:mm", locale=_.locale),
        "start": format_date(first, "EEE dd MMM y", locale=_.locale),
    }
    if days % 7 == 0:
        weekday = format_date(first, "EEEE", locale=_.locale)
        return _.plural(
            "Every week on {weekday} at {time}, starting {start}",
            "Every {count} weeks on {weekday} at {time}, starting {start}",
            days // 7,
            weekday=weekday,
            **words,
        )
    return _.plural(
        "Every day at {time}, starting {start}",
        "Every {count} days at {time}, starting {start}",
        days,
        **words,
    )


def _schedule_lines(_: Translator, schedule: Schedule) -> list[str]:
    lines = [_("🗓 <b>When:</b> {description}", description=escape(describe(_, schedule)))]
    if schedule.kind is TaskKind.CRON and schedule.cron:
        lines.append(_("⚙️ <b>Cron:</b> <code>{cron}</code>", cron=escape(schedule.cron)))
    elif schedule.kind is TaskKind.INTERVAL and schedule.every_seconds:
        lines.append(
            _.plural(
                "⚙️ <b>Every:</b> {count} second",
                "⚙️ <b>Every:</b> {count} seconds",
                schedule.every_seconds,
            )
        )
    else:
        lines.append(_("⚙️ <b>One time only</b>"))
    lines.append(_("🌍 <b>Time zone:</b> {zone}", zone=escape(schedule.timezone)))
    return lines


# --- the confirmation card --------------------------------------------------------------------


def card(_: Translator, card: Card, chat_zone: str) -> Screen:
    title = (
        _("Change task #{number}?", number=card.task_id)
        if card.task_id
        else _("Schedule this task?")
    )
    runs = "\n".join(f"• {when(_, run, chat_zone)}" for run in card.next_runs)
    lines = [
        f"<b>{title}</b>",
        "",
        _("📝 <b>Task:</b> {prompt}", prompt=escape(clip(card.prompt, PROMPT_PREVIEW))),
        *_schedule_lines(_, card.schedule),
        _("⏭ <b>Next runs</b> ({zone}):", zone=escape(chat_zone)),
        runs or _("• none"),
    ]
    lines += [
        _("✍️ Read “{typed}” as “{meant}”.", typed=escape(typed), meant=escape(meant))
        for typed, meant in card.corrections
    ]
    lines += _model_lines(_, card)
    if card.estimate is not None:
        lines.append(cost_estimate(_, card.estimate))
    if card.source == "llm":
        lines += ["", _("<i>Understood with the help of the AI model: please check it.</i>")]
    keyboard = InlineKeyboardMarkup(
        [
            [
                button(_("✅ Confirm"), ConfirmDraft(card.draft_id)),
                button(_("✏️ Edit"), EditDraft(card.draft_id)),
                button(_("✖️ Cancel"), CancelDraft(card.draft_id)),
            ]
        ]
    )
    return Screen("\n".join(lines), keyboard)


def _model_lines(_: Translator, card: Card) -> list[str]:
    """Why the model the request named was not taken (the model it chose is bot/shapes.py's
    line)."""
    if card.unknown_model is None:
        return []
    if not card.model_names:
        return [
            _(
                "🤖 There is no model named {name} here (this bot has no models to choose "
                "from), so those words stay part of the task.",
                name=escape(card.unknown_model),
            )
        ]
    return [
        _(
            "🤖 There is no model named {name}, so those words stay part of the task. "
            "The models are: {models}, or default.",
            name=escape(card.unknown_model),
            models=escape(", ".join(card.model_names)),
        )
    ]


def edit_prompt(_: Translator) -> str:
    return _("✏️ Send the corrected request: it replaces the card above.")


def already_handled(_: Translator) -> str:
    return _("This request was already confirmed or cancelled. /tasks lists this chat's tasks.")


def edit_placeholder(_: Translator) -> str:
    return _("corrected request")


def cancelled(_: Translator, card_: Card) -> str:
    return _("✖️ Cancelled: <s>{prompt}</s>", prompt=escape(clip(card_.prompt, PROMPT_PREVIEW)))


def replaced(_: Translator, card_: Card) -> str:
    return _(
        "✏️ Replaced by a corrected request: <s>{prompt}</s>",
        prompt=escape(clip(card_.prompt, PROMPT_PREVIEW)),
    )


# --- tasks ------------------------------------------------------------------------------------


def task_buttons(_: Translator, task: Task, place: Place) -> list[InlineKeyboardButton]:
    """Run, Pause or Resume, Delete and History; Pause and Resume redraw `place` after."""
    toggle = (
        button(_("⏸ Pause"), PauseTask(task.id, place))
        if task.state is TaskState.ACTIVE
        else button(_("▶️ Resume"), ResumeTask(task.id, place))
    )
    return [
        button(_("🚀 Run now"), RunTask(task.id)),
        toggle,
        button(_("🗑 Delete"), DeleteTask(task.id)),
        button(_("📜 History"), TaskHistory(task.id)),
    ]


def _state(_: Translator, task: Task) -> str:
    if task.state is TaskState.ACTIVE:
        return _("active")
    if task.state is TaskState.PAUSED:
        return _("⏸ paused")
    return _("done")


def scheduled(_: Translator, task: Task, chat_zone: str) -> Screen:
    schedule = Schedule.of(task)
    text = "\n".join(
        [
            _("✅ <b>Scheduled — task #{number}</b>", number=task.id),
            "",
            f"📝 {escape(clip(task.prompt, PROMPT_PREVIEW))}",
            *_schedule_lines(_, schedule),
            _("⏭ <b>Next run:</b> {when}", when=when(_, task.next_run_at, chat_zone)),
        ]
    )
    return Screen(text, InlineKeyboardMarkup([task_buttons(_, task, TASK_CARD)]))


def task_detail(_: Translator, task: Task, chat_zone: str, *, setup: Sequence[str] = ()) -> Screen:
    """A task's card; `setup` are its lines about what it runs with (model, cap)."""
    schedule = Schedule.of(task)
    text = "\n".join(
        [
            _(
                "<b>Task #{number}</b> · {name} · {state}",
                number=task.id,
                name=escape(task.name),
                state=_state(_, task),
            ),
            "",
            f"📝 {escape(clip(task.prompt, 1500))}",
            *_schedule_lines(_, schedule),
            _("⏭ <b>Next run:</b> {when}", when=when(_, task.next_run_at, chat_zone)),
            _("⏮ <b>Last run:</b> {when}", when=when(_, task.last_run_at, chat_zone)),
            *setup,
            where.posts_to(_, task, always=True) or "",
            *starts(_, task),
        ]
    )
    return Screen(text, InlineKeyboardMarkup([task_buttons(_, task, TASK_CARD)]))


def starts(_: Translator, task: Task) -> list[str]:
    """What starts the task besides its schedule, and when it stays quiet: its card's lines."""
    lines = []
    if task.after_task_id is not None:
        if task.after_always:
            lines.append(
                _("🔗 <b>Runs after:</b> task #{upstream} (every run)", upstream=task.after_task_id)
            )
        else:
            lines.append(_("🔗 <b>Runs after:</b> task #{upstream}", upstream=task.after_task_id))
    if task.has_trigger:
        lines.append(_("🪝 <b>Trigger URL:</b> set (/trigger {number})", number=task.id))
    if task.quiet_changed:
        lines.append(_("🤫 Posts only answers that changed"))
    return lines


def task_list(_: Translator, page: TaskPage, chat_zone: str) -> Screen:
    if page.total == 0:
        return Screen(
            _(
                "You have no tasks here yet. Write one, for example:\n<i>{example}</i>",
                example=escape(_(EXAMPLES[0])),
            )
        )
    if page.pages > 1:
        header = _(
            "<b>Tasks in this chat</b> ({total} in all, page {page} of {pages})",
            total=page.total,
            page=page.page + 1,
            pages=page.pages,
        )
    else:
        header = _("<b>Tasks in this chat</b> ({total} in all)", total=page.total)
    lines = [header]
    rows: list[list[InlineKeyboardButton]] = []
    for task in page.tasks:
        lines += [
            "",
            f"<b>#{task.id}</b> {escape(task.name)}",
            _(
                "{description} · next {when} · {state}",
                description=escape(describe(_, Schedule.of(task))),
                when=when(_, task.next_run_at, chat_zone),
                state=_state(_, task),
            ),
        ]
        if (posts := where.posts_to(_, task)) is not None:
            lines.append(posts)
        rows.append(
            [
                InlineKeyboardButton(f"{b.text} #{task.id}", callback_data=b.callback_data)
                for b in task_buttons(_, task, list_page(page.page))
            ]
        )
    navigation = []
    if page.page > 0:
        navigation.append(button(_("« Previous"), ListPage(page.page - 1)))
    if page.page < page.pages - 1:
        navigation.append(button(_("Next »"), ListPage(page.page + 1)))
    if navigation:
        rows.append(navigation)
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows))


def confirm_delete(_: Translator, task: Task) -> Screen:
    return Screen(
        _(
            "🗑 Delete task #{number} <b>{name}</b> and its history? This cannot be undone.",
            number=task.id,
            name=escape(task.name),
        ),
        InlineKeyboardMarkup(
            [
                [
                    button(_("🗑 Delete it"), ConfirmDelete(task.id)),
                    button(_("Keep it"), KeepTask(task.id)),
                ]
            ]
        ),
    )


def tokens(_: Translator, prompt: int, completion: int) -> str:
    return _(
        "{total} tokens ({prompt} in, {completion} out)",
        total=prompt + completion,
        prompt=prompt,
        completion=completion,
    )


def _duration(_: Translator, run: Run) -> str:
    seconds = run.duration_seconds
    if seconds is None:
        return "—"
    return _("{seconds} s", seconds=format_decimal(seconds, "0.0", locale=_.locale))


TRIGGERS = {
    RunTrigger.SCHEDULE: N_("schedule"),
    RunTrigger.MANUAL: N_("manual"),
    RunTrigger.CATCH_UP: N_("catch-up"),
    RunTrigger.RETRY: N_("retry"),
    RunTrigger.EVENT: N_("event"),
    RunTrigger.AFTER: N_("after"),
}
STATUSES = {
    RunStatus.RUNNING: N_("running"),
    RunStatus.SUCCEEDED: N_("succeeded"),
    RunStatus.FAILED: N_("failed"),
    RunStatus.SILENT: N_("silent"),
    RunStatus.SKIPPED: N_("skipped"),
    RunStatus.MISSED: N_("missed"),
    RunStatus.INTERRUPTED: N_("interrupted"),
}


def history(
    _: Translator,
    task: Task,
    entries: Sequence[Run],
    chat_zone: str,
    copies: Mapping[int, Sequence[TargetDelivery]] | None = None,
) -> str:
    lines = [
        _(
            "📜 <b>Last runs of task #{number}</b> · {name}",
            number=task.id,
            name=escape(task.name),
        )
    ]
    if not entries:
        lines.append(_("No runs yet."))
    for run in entries:
        parts = [
            when(_, run.scheduled_for, chat_zone),
            _(TRIGGERS.get(run.trigger, run.trigger.value)),
            f"<b>{_(STATUSES.get(run.status, run.status.value))}</b>",
            _duration(_, run),
        ]
        if run.prompt_tokens is not None or run.completion_tokens is not None:
            parts.append(tokens(_, run.prompt_tokens or 0, run.completion_tokens or 0))
        if run.cost is not None:
            parts.append(dollars(_, run.cost))
        line = " · ".join(parts)
        if run.model is not None or run.attempt > 1:
            line += "\n   " + _run_model(_, run, chat_zone)
        if run.parent_run_id is not None:
            line += "\n   🔗 " + _("after run {run}", run=run.parent_run_id)
        if run.payload is not None:
            line += f"\n   📨 {escape(clip(' '.join(run.payload.split()), 120))}"
        if run.tool_calls:
            line += f"\n   🔧 {escape(tool_trace(run))}"
        if run.reason and run.status not in (RunStatus.SUCCEEDED, RunStatus.SILENT):
            line += f"\n   ↳ {escape(clip(_.reason(run.reason), 200))}"
        elif run.delivery_error:
            line += "\n   ↳ " + _(
                "not delivered: {error}", error=escape(clip(run.delivery_error, 200))
            )
        if copies and run.id in copies:
            line += "\n   📤 " + where.outcomes(_, task, run, copies[run.id])
        if run.delivery_pending:
            line += "\n   ↳ " + _("not delivered yet; I keep trying to send it.")
        lines.append(line)
    return "\n".join(lines)


def _run_model(_: Translator, run: Run, chat_zone: str) -> str:  # "🤖 smart · try 2"
    parts = [f"🤖 {escape(run.model)}"] if run.model is not None else []
    if run.attempt > 1:
        parts.append(_("try {attempt}", attempt=run.attempt))
    if run.retry_at is not None:
        parts.append(_("next try {when}", when=when(_, run.retry_at, chat_zone)))
    return " · ".join(parts)


def tool_trace(run: Run) -> str:
    """The tools a run used: "web_search ×2, web_fetch ×1"."""
    return ", ".join(f"{name} ×{count}" for name, count in run.tool_calls)


def dollars(_: Translator, amount: float, *, places: int = 4) -> str:
    """An amount in US dollars as the chat's language writes numbers: "$0.0123"."""
    return "$" + format_decimal(amount, "0." + "0" * places, locale=_.locale)
