"""The one error handler: anything a handler did not expect is logged with its traceback, and
the person gets a short apology instead of silence."""

from __future__ import annotations

from telegram import Update
from telegram.error import TelegramError

from bot.context import Context
from core.logs import get_logger
from storage.retry import describe, unavailable

log = get_logger(__name__)

SORRY = "😵 Something went wrong on my side. It has been logged; please try again."
DATABASE_AWAY = (
    "⏳ I can't reach my database right now, so I can't do that. Please try again in a moment."
)


async def on_error(update: object, context: Context) -> None:
    error = context.error
    if error is not None and unavailable(error):
        # An outage, not a bug: no traceback per update, and the person hears it will pass.
        log.warning("bot.database_unavailable", error=describe(error)[:200])
        answer = DATABASE_AWAY
    else:
        log.error("bot.update_failed", exc_info=error)
        answer = SORRY
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(answer, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(answer)
    except TelegramError:
        log.warning("bot.error_reply_failed")
