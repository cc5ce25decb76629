"""What every handler receives: the use cases and the bot's own settings, typed in PTB's
bot_data."""

from __future__ import annotations

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from application import UseCases
from application.limits import RequestLimits
from bot.layout import Layout
from bot.ratelimit import Priority
from bot.refusals import Refusals


class BotData:
    """PTB's bot_data, typed: what the Telegram door holds, filled once by `TelegramBot.serve`:
    the use cases, and the door's own settings (the gate's message limits per person, the Mini
    App's address); and where the gate leaves its refusals to strangers (bot.refusals)."""

    __slots__ = ("_limits", "_use_cases", "layout", "refusals", "webapp_url")

    def __init__(self) -> None:
        self._use_cases: UseCases | None = None
        self._limits: RequestLimits | None = None
        # WEBAPP_URL: the menu button and /tasks open the Mini App there; None without one.
        self.webapp_url: str | None = None
        # Sent one at a time at low priority, never before anyone else's answer.
        self.refusals = Refusals()
        # How answers are laid out (LONG_RESULT_CHARS), set by TelegramBot.
        self.layout = Layout()

    def fill(self, use_cases: UseCases, limits: RequestLimits, webapp_url: str | None) -> None:
        self._use_cases, self._limits, self.webapp_url = use_cases, limits, webapp_url

    @property
    def use_cases(self) -> UseCases:
        if self._use_cases is None:
            raise RuntimeError("the bot was started without its use cases")
        return self._use_cases

    @property
    def limits(self) -> RequestLimits:
        if self._limits is None:
            raise RuntimeError("the bot was started without its use cases")
        return self._limits


# The bot's requests may name a Priority for the rate limiter (bot.ratelimit).
Context = CallbackContext[ExtBot[Priority], dict[object, object], dict[object, object], BotData]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)


def use_cases(context: Context) -> UseCases:
    return context.bot_data.use_cases
