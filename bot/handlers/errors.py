"""The one error handler: anything a handler did not expect is logged with its traceback, and
the person gets a short apology instead of silence."""

from __future__ import annotations

from telegram import Update
from telegram.error import TelegramError

from bot.access import update_words
from bot.context import Context
from bot.i18n import N_
from core.logs import get_logger

log = get_logger(__name__)

SORRY = N_("😵 Something went wrong on my side. It has been logged; please try again.")


async def on_error(update: object, context: Context) -> None:
    log.error("bot.update_failed", exc_info=context.error)
    if not isinstance(update, Update):
        return
    # The chat's record may be what failed: speak the person's language, not the chat's.
    _ = update_words(update)
    sorry = _(SORRY)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(sorry, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(sorry)
    except TelegramError:
        log.warning("bot.error_reply_failed")
