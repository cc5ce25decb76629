"""/target N: where task N's results go; /target N here @news team-slack sets it (one handler,
registered in routes.py)."""

from __future__ import annotations

from telegram import Update

from bot import problems, render, where
from bot.context import Context, use_cases
from bot.handlers.common import (
    actor,
    chat_translator,
    chat_zone,
    current_chat,
    oversized_number,
    reply,
    task_number,
)
from core.errors import CronpilotError


async def target_command(update: Update, context: Context) -> None:
    chat = await current_chat(update, context)
    _ = chat_translator(update, chat)
    task_id = task_number(context)
    too_large = oversized_number(context)
    if too_large is not None:
        await reply(update, render.no_such_task(_, too_large))
        return
    if task_id is None:
        await reply(
            update,
            _(
                "Usage: /target N shows where task N posts; /target N here @channel "
                "destination sets it."
            ),
        )
        return
    words = (context.args or [])[1:]
    cases = use_cases(context)
    try:
        if words:
            task = await cases.targets.set(actor(update), task_id, words)
        else:
            task = await cases.targets.show(actor(update), task_id)
    except CronpilotError as error:
        await reply(update, problems.reply(_, error, chat_zone(chat, context)))
        return
    text = _("📍 Task #{number} posts to {places}.", number=task.id, places=where.places(_, task))
    names = cases.targets.destination_names
    if not words and names:
        text += "\n" + _(
            "Destinations you may add: {names}", names=", ".join(f"<code>{n}</code>" for n in names)
        )
    await reply(update, text)
