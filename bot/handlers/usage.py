"""/usage: this month's runs, tokens and cost per task, the total and the budget left."""

from __future__ import annotations

from html import escape

from babel.dates import format_date
from babel.numbers import format_decimal
from telegram import Update

from application.permissions import RefusedError
from application.usage import PARSE, UsageLine, UsageReport
from bot import problems
from bot.context import Context, use_cases
from bot.handlers.common import actor, chat_translator, chat_zone, current_chat, reply
from bot.i18n import Translator
from bot.render import dollars


async def usage_command(update: Update, context: Context) -> None:
    chat = await current_chat(update, context)
    _ = chat_translator(update, chat)
    try:
        report = await use_cases(context).usage.month(actor(update), chat.id)
    except RefusedError as error:
        await reply(update, problems.reply(_, error, chat_zone(chat, context)))
        return
    await reply(update, usage_text(_, report))


def usage_text(_: Translator, report: UsageReport) -> str:
    month = format_date(report.month_start, "LLLL y", locale=_.locale)
    lines = [_("💰 <b>Usage in {month}</b> (UTC)", month=month)]
    if not report.lines:
        lines.append(_("Nothing was spent this month yet."))
    for line in report.lines:
        lines.append(_line(_, line))
    if report.lines:
        lines.append(
            _(
                "<b>Total</b>: {runs} · {tokens} · {cost}",
                runs=_runs(_, report.runs),
                tokens=_tokens(_, report.tokens),
                cost=_cost(_, report.cost, report.unpriced),
            )
        )
    if report.models:
        lines.append(_("🤖 <b>By model</b> (the model that answered each run):"))
        lines += [
            _(
                "• {model}: {runs} · {tokens} · {cost}",
                model=escape(each.model),
                runs=_runs(_, each.runs),
                tokens=_tokens(_, each.tokens),
                cost=_cost(_, each.cost, each.unpriced),
            )
            for each in report.models
        ]
    lines.append(_budget(_, report))
    return "\n".join(lines)


def _line(_: Translator, line: UsageLine) -> str:
    tokens, cost = _tokens(_, line.tokens), _cost(_, line.cost, line.unpriced)
    if line.kind == PARSE:
        return _("Schedule requests read by the model: {tokens} · {cost}", tokens=tokens, cost=cost)
    runs = _runs(_, line.runs)
    if line.task_id is None:
        return _("Deleted tasks: {runs} · {tokens} · {cost}", runs=runs, tokens=tokens, cost=cost)
    return _(
        "#{number} {name}: {runs} · {tokens} · {cost}",
        number=line.task_id,
        name=escape(line.name or ""),
        runs=runs,
        tokens=tokens,
        cost=cost,
    )


def _runs(_: Translator, count: int) -> str:
    return _.plural("{count} run", "{count} runs", count)


def _tokens(_: Translator, count: int) -> str:
    number = format_decimal(count, locale=_.locale)
    return _.plural("{tokens} token", "{tokens} tokens", count, tokens=number)


def _cost(_: Translator, known: float, unpriced: int) -> str:
    if unpriced and known == 0:
        return _("cost unknown")
    if unpriced:
        return _("{cost} and some of unknown cost", cost=dollars(_, known))
    return dollars(_, known)


def _budget(_: Translator, report: UsageReport) -> str:
    if report.budget_usd is None:
        return _("No monthly budget is set.")
    budget = dollars(_, report.budget_usd, places=2)
    if report.left_usd is not None and report.left_usd <= 0:
        return _(
            "The monthly budget of {budget} is spent: runs are skipped until the month ends.",
            budget=budget,
        )
    return _(
        "Budget: {budget} a month, {left} left.",
        budget=budget,
        left=dollars(_, report.left_usd or 0.0, places=2),
    )
