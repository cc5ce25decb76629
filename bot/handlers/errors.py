"""The one error handler: anything a handler did not expect is logged with its traceback, and
the person gets a short apology instead of silence."""

from __future__ import annotations

from telegram import Update
from telegram.error import TelegramError

from bot.context import Context
from core.logs import get_logger

log = get_logger(__name__)

SORRY = "😵 Something went wrong on my side. It has been logged; please try again."


async def on_error(update: object, context: Context) -> None:
    log.error("bot.update_failed", exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(SORRY, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(SORRY)
    except TelegramError:
        log.warning("bot.error_reply_failed")
