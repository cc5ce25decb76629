"""/model N, /tools N and /budget N: what a task runs with, shown and changed; and the tool
buttons under /tools N. The rules are the use cases' (application/task_setup.py)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from html import escape

from telegram import InlineKeyboardMarkup, Update

from application import UseCases
from application.permissions import Actor
from application.task_setup import ModelOffer, TaskTools
from bot import problems, render, shapes
from bot.callbacks import ToggleTool
from bot.context import Context, use_cases
from bot.costs import cost_estimate
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
from bot.i18n import Translator
from core.errors import CronpilotError
from scheduler.runner.task_cap import cap_text
from storage.records import Task, TaskMode


def model_line(_: Translator, task: Task, offer: ModelOffer) -> str:
    """ "🤖 Model: smart" for a card."""
    return shapes.model_line(_, offer.of(task))


def cap_line(_: Translator, task: Task) -> str | None:
    """ "💰 Monthly cap: $0.50" for a card, when the task has one."""
    if task.monthly_cap_usd is None:
        return None
    return _(
        "💰 <b>Monthly cap:</b> {amount}",
        amount="$" + cap_text(task.monthly_cap_usd),
    )


def setup_lines(_: Translator, task: Task, cases: UseCases) -> list[str]:
    """What a task's card says it runs with: its model, and its cap if it has one (nothing for
    a reminder, which asks no model)."""
    if task.mode is TaskMode.REMINDER:
        return []
    cap = cap_line(_, task)
    return [model_line(_, task, cases.setup.models), *([cap] if cap else [])]


async def task_card(
    _: Translator,
    task: Task,
    skipped: datetime | None,
    zone: str,
    cases: UseCases,
    who: Actor,
) -> render.Screen:
    """A task's card (/task N, and each redraw of it after a button): what it is, what it runs
    with and will cost, and its next run when that one is `skipped`."""
    lines = setup_lines(_, task, cases)
    estimate = await cases.setup.estimate(who, task.id)
    if estimate is not None:
        lines.append(cost_estimate(_, estimate))
    return shapes.task_detail(_, task, zone, skipped, setup=lines)


def tools_screen(_: Translator, listed: TaskTools) -> render.Screen:
    """The task's tools, each with an on/off button."""
    task = listed.task
    if not listed.tools:
        return render.Screen(
            _("No tools are set up on this bot, so task #{number} has none.", number=task.id)
        )
    lines = [
        _("🔧 <b>Tools of task #{number}</b> · {name}", number=task.id, name=escape(task.name))
    ]
    rows = []
    for index, choice in enumerate(listed.tools):
        mark = "✅" if choice.on else "⬜"
        lines.append(f"{mark} {escape(_(choice.label))} (<code>{escape(choice.key)}</code>)")
        rows.append([render.button(f"{mark} {_(choice.label)}", ToggleTool(task.id, index))])
    lines.append(
        _(
            "Press a tool to turn it on or off, or write /tools {number} -web_search +web_fetch.",
            number=task.id,
        )
    )
    return render.Screen("\n".join(lines), InlineKeyboardMarkup(rows))


async def _answer(update: Update, context: Context, command: str) -> None:
    """Read /`command` N [words] and answer it."""
    chat = await current_chat(update, context)
    _ = chat_translator(update, chat)
    too_large = oversized_number(context)
    if too_large is not None:
        await reply(update, render.no_such_task(_, too_large))
        return
    task_id = task_number(context)
    if task_id is None:
        await reply(update, _USAGE[command](_))
        return
    words = list(context.args or [])[1:]
    zone = chat_zone(chat, context)
    try:
        screen = await _ANSWERS[command](context, update, _, task_id, words)
    except CronpilotError as error:
        screen = problems.reply(_, error, zone)
    await reply(update, screen)


async def _model(
    context: Context, update: Update, _: Translator, task_id: int, words: list[str]
) -> render.Screen | str:
    setup = use_cases(context).setup
    offer = setup.models
    if words:
        task = await setup.set_model(actor(update), task_id, " ".join(words))
        return _(
            "🤖 Task #{number} now runs on {model}.", number=task_id, model=escape(offer.of(task))
        )
    task = await use_cases(context).tasks.get(actor(update), task_id)
    names = ", ".join(offer.names) if offer.names else _("none")
    return _(
        "🤖 Task #{number} runs on {model}.\nModels to choose from: {names} (default: "
        "{default}).\n/model {number} NAME changes it.",
        number=task_id,
        model=escape(offer.of(task)),
        names=escape(names),
        default=escape(offer.default),
    )


async def _tools(
    context: Context, update: Update, _: Translator, task_id: int, words: list[str]
) -> render.Screen | str:
    setup = use_cases(context).setup
    if not words:
        return tools_screen(_, await setup.tools(actor(update), task_id))
    on = [word[1:] for word in words if word.startswith("+") and len(word) > 1]
    off = [word[1:] for word in words if word.startswith("-") and len(word) > 1]
    if len(on) + len(off) != len(words):
        return _USAGE["tools"](_)
    return tools_screen(_, await setup.set_tools(actor(update), task_id, on=on, off=off))


async def _budget(
    context: Context, update: Update, _: Translator, task_id: int, words: list[str]
) -> render.Screen | str:
    setup = use_cases(context).setup
    if not words:
        task = await use_cases(context).tasks.get(actor(update), task_id)
        return cap_line(_, task) or _(
            "Task #{number} has no monthly cap of its own. /budget {number} 0.50 sets one.",
            number=task_id,
        )
    text = words[0].lstrip("$").replace(",", ".")
    if len(words) > 1:
        return _USAGE["budget"](_)
    if text.lower() in ("off", "none"):
        await setup.set_cap(actor(update), task_id, None)
        return _("💰 Task #{number} has no monthly cap of its own now.", number=task_id)
    try:
        amount = float(text)
    except ValueError:
        return _USAGE["budget"](_)
    if not math.isfinite(amount):
        return _USAGE["budget"](_)
    task = await setup.set_cap(actor(update), task_id, amount)
    return _(
        "💰 Task #{number} may spend {amount} a month; a run past it is skipped.",
        number=task_id,
        amount="$" + cap_text(task.monthly_cap_usd or 0.0),
    )


_ANSWERS = {"model": _model, "tools": _tools, "budget": _budget}
_USAGE: dict[str, Callable[[Translator], str]] = {
    "model": lambda _: _("Usage: /model N to see task N's model, /model N NAME to change it."),
    "tools": lambda _: _(
        "Usage: /tools N to see task N's tools, /tools N -web_search +web_fetch to turn them "
        "off and on."
    ),
    "budget": lambda _: _(
        "Usage: /budget N 0.50 gives task N a monthly cap in US dollars; /budget N off removes it."
    ),
}


async def model_command(update: Update, context: Context) -> None:
    await _answer(update, context, "model")


async def tools_command(update: Update, context: Context) -> None:
    await _answer(update, context, "tools")


async def budget_command(update: Update, context: Context) -> None:
    await _answer(update, context, "budget")


async def toggle_tool(update: Update, context: Context, data: ToggleTool) -> None:
    """A tool's button under /tools N: turn it on or off and redraw the list."""
    async with Press(update, context) as press:
        setup = press.use_cases.setup
        listed = await setup.tools(press.actor, data.task_id)
        if data.index >= len(listed.tools):
            await press.answer(press.words("That button is not valid any more."))
            return
        choice = listed.tools[data.index]
        turn = {"off": [choice.key]} if choice.on else {"on": [choice.key]}
        changed = await setup.set_tools(press.actor, data.task_id, **turn)
        await press.answer()
        await edit(press.message, tools_screen(press.words, changed))
