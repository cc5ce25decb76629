"""/trigger N (a trigger URL for task N; `rotate`, `off`), /after N M (task N runs after task M;
`always`, `off`) and /quiet N changed|off: one handler per command, each calling one use case
of application.triggers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape

from telegram import Update

from application.errors import TriggerExistsError
from application.permissions import Actor
from bot import problems
from bot.context import Context, use_cases
from bot.handlers.common import (
    MAX_ID_DIGITS,
    actor,
    chat_translator,
    chat_zone,
    current_chat,
    reply,
)
from bot.i18n import Translator
from core.errors import CronpilotError


def _number(word: str) -> int | None:
    text = word.lstrip("#")
    if not text.isascii() or not text.isdigit() or len(text) > MAX_ID_DIGITS:
        return None
    return int(text)


async def _answer(
    update: Update,
    context: Context,
    usage: Callable[[Translator], str],
    act: Callable[[Translator, Actor, list[str]], Awaitable[str | None]],
) -> None:
    """Run `act` on the command's words; its None (or words it cannot read) is the usage."""
    chat = await current_chat(update, context)
    _ = chat_translator(update, chat)
    words = [word.lower() for word in context.args or []]
    try:
        text = await act(_, actor(update), words)
    except CronpilotError as error:
        text = problems.reply(_, error, chat_zone(chat, context))
    await reply(update, text if text is not None else usage(_))


def _trigger_usage(_: Translator) -> str:
    return _(
        "Usage: /trigger N for a URL that runs task N when something posts to it; "
        "/trigger N rotate replaces the URL, /trigger N off removes it."
    )


async def trigger_command(update: Update, context: Context) -> None:
    async def act(_: Translator, who: Actor, words: list[str]) -> str | None:
        number = _number(words[0]) if words else None
        option = words[1] if len(words) == 2 else "" if len(words) == 1 else None
        if number is None or option not in ("", "rotate", "off"):
            return None
        triggers = use_cases(context).triggers
        if option == "off":
            if await triggers.remove(who, number):
                return _(
                    "Task #{number}'s trigger URL is removed; posts to it are refused from now on.",
                    number=number,
                )
            return _("Task #{number} has no trigger URL.", number=number)
        try:
            made = await triggers.issue(who, number, rotate=option == "rotate")
        except TriggerExistsError:
            return _(
                "Task #{number} has a trigger URL already; it was shown only once. "
                "/trigger {number} rotate makes a new one (the old one stops working), "
                "/trigger {number} off removes it.",
                number=number,
            )
        text = _(
            "🔗 Trigger URL of task #{number}, shown only this once:\n\n<code>{address}</code>"
            "\n\nA POST to it (JSON or text) runs the task now, with the request's body as the "
            "event that started it. /trigger {number} rotate replaces it, "
            "/trigger {number} off removes it.",
            number=number,
            address=escape(made.url or made.path),
        )
        if made.url is None:
            text += "\n\n" + _(
                "This is its path on the bot's HTTP server (HTTP_PORT); the operator sets "
                "PUBLIC_URL to the server's public address to have the whole URL shown here."
            )
        return text

    await _answer(update, context, _trigger_usage, act)


def _after_usage(_: Translator) -> str:
    return _(
        "Usage: /after N M runs task N each time task M delivers a result, building on its "
        "answer; /after N M always also after M's silent or failed runs; /after N off stops it."
    )


async def after_command(update: Update, context: Context) -> None:
    async def act(_: Translator, who: Actor, words: list[str]) -> str | None:
        number = _number(words[0]) if words else None
        if number is None or len(words) not in (2, 3):
            return None
        triggers = use_cases(context).triggers
        if words[1:] == ["off"]:
            await triggers.stop_after(who, number)
            return _("Task #{number} no longer runs after another task.", number=number)
        upstream = _number(words[1])
        always = words[2:] == ["always"]
        if upstream is None or (len(words) == 3 and not always):
            return None
        await triggers.run_after(who, number, upstream, always=always)
        if always:
            return _(
                "🔗 Task #{number} now runs after every run of task #{upstream}, also when it "
                "is silent or fails, building on its answer.",
                number=number,
                upstream=upstream,
            )
        return _(
            "🔗 Task #{number} now runs each time task #{upstream} delivers a result, building "
            "on its answer.",
            number=number,
            upstream=upstream,
        )

    await _answer(update, context, _after_usage, act)


def _quiet_usage(_: Translator) -> str:
    return _(
        "Usage: /quiet N changed posts task N's answer only when it differs from the last one "
        "posted; /quiet N off posts every answer."
    )


async def quiet_command(update: Update, context: Context) -> None:
    async def act(_: Translator, who: Actor, words: list[str]) -> str | None:
        number = _number(words[0]) if words else None
        if number is None or len(words) != 2 or words[1] not in ("changed", "off"):
            return None
        changed = words[1] == "changed"
        await use_cases(context).triggers.quiet(who, number, changed=changed)
        if changed:
            return _(
                "🤫 Task #{number} now posts its answer only when it differs from the last one "
                "posted. /quiet {number} off posts every answer again.",
                number=number,
            )
        return _("Task #{number} posts every answer again.", number=number)

    await _answer(update, context, _quiet_usage, act)
