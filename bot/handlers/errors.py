"""The one error handler: anything a handler did not expect is logged with its traceback, and
the person gets a short apology instead of silence. Telegram failing (a 5xx, a timeout, a lost
connection) is expected: the request said so in one line (bot.requests), and so does this."""

from __future__ import annotations

from telegram import Update
from telegram.error import TelegramError

from bot.access import update_words
from bot.context import Context
from bot.i18n import N_
from bot.requests import telegram_failed
from core.logs import get_logger
from storage.retry import describe, unavailable

log = get_logger(__name__)

SORRY = N_("😵 Something went wrong on my side. It has been logged; please try again.")
DATABASE_AWAY = N_(
    "⏳ I can't reach my database right now, so I can't do that. Please try again in a moment."
)


async def on_error(update: object, context: Context) -> None:
    error = context.error
    if error is not None and unavailable(error):
        # An outage, not a bug: no traceback per update, and the person hears it will pass.
        log.warning("bot.database_unavailable", error=describe(error)[:200])
        answer = DATABASE_AWAY
    elif error is not None and telegram_failed(error):
        log.warning("bot.update_unanswered", error=f"{type(error).__name__}: {error}")
        answer = SORRY
    else:
        log.error("bot.update_failed", exc_info=error)
        answer = SORRY
    if not isinstance(update, Update):
        return
    # The chat's record may be what failed: speak the person's language, not the chat's.
    said = update_words(update)(answer)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(said, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(said)
    except TelegramError:
        log.warning("bot.error_reply_failed")
