"""The Telegram front door as one object: PTB's Application with our handlers and command menu.

The composition root builds it, hands it the use cases, and starts and stops it; nothing outside
bot/ sees a PTB type. Updates arrive by long polling, or through `receive` from the HTTP
server's webhook route.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter

from application import UseCases
from application.limits import RequestLimits
from bot.context import CONTEXT_TYPES, BotData
from bot.delivery import TelegramDelivery
from bot.handlers.routes import register, set_commands, set_menu_button
from bot.i18n import read_catalogs
from bot.layout import LONG_CHARS, Layout
from bot.members import TelegramMembers
from bot.operator import TelegramOperator
from bot.polling import LongPollRequest
from bot.ratelimit import MessageRateLimiter
from bot.requests import CONNECTIONS, BotApiRequest, one_line_polling_failures
from bot.target_chats import TelegramTargetChats
from core.logs import get_logger

log = get_logger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]

# What throttles the Bot API requests the bot makes (PTB's rate limiter type).
BotRateLimiter = BaseRateLimiter[Any]


def file_base_url(base_url: str) -> str:
    """Where the Bot API server at `base_url` (`…/bot`) serves files: `…/file/bot`, as
    Telegram and a self-hosted Bot API server do."""
    root = base_url.removesuffix("/bot") if base_url.endswith("/bot") else base_url.rstrip("/")
    return f"{root}/file/bot"


class TelegramBot:
    def __init__(
        self,
        token: str,
        *,
        base_url: str,
        rate_limiter: BotRateLimiter | None = None,
        long_result_chars: int = LONG_CHARS,
    ):
        # Throttles the Bot API requests; the replicas share its overall rate (engine beats).
        self.rate_limiter: BotRateLimiter = rate_limiter or MessageRateLimiter()
        self._application: Application = (  # type: ignore[type-arg]
            ApplicationBuilder()
            .token(token)
            .base_url(base_url)
            # Files (voice notes, documents) come from the same server, under /file/bot<token>/.
            .base_file_url(file_base_url(base_url))
            .context_types(CONTEXT_TYPES)
            # Telegram failing is one log line, never a traceback (bot.requests).
            .request(BotApiRequest(connection_pool_size=CONNECTIONS))
            # Its own pool, which survives PTB cancelling the long poll when it stops.
            .get_updates_request(LongPollRequest())
            .rate_limiter(self.rate_limiter)
            .concurrent_updates(True)
            .build()
        )
        # The runner posts results through this; it needs no use cases, so it exists first.
        layout = Layout(long_result_chars)
        self.delivery = TelegramDelivery(self._application.bot, layout)
        # Follow-up answers are laid out by the same rule.
        self.bot_data.layout = layout
        # application.access asks this who is a group's admin.
        self.members = TelegramMembers(self._application.bot)
        # application.targets asks this whether a chat may receive a task's results.
        self.target_chats = TelegramTargetChats(self._application.bot)
        one_line_polling_failures()

    @property
    def bot_data(self) -> BotData:
        """What the door holds (PTB's bot_data, typed): the use cases, the gate's limits, the
        refusals waiting to be sent."""
        bot_data = self._application.bot_data
        assert isinstance(bot_data, BotData)
        return bot_data

    def serve(self, use_cases: UseCases, *, limits: RequestLimits, webapp_url: str | None) -> None:
        """Hand the handlers the use cases and the door's settings, and register them (once,
        before `start`)."""
        bot_data = self._application.bot_data
        assert isinstance(bot_data, BotData)
        bot_data.fill(use_cases, limits, webapp_url)
        # Results and notices speak each chat's language.
        self.delivery.learn_languages(use_cases.languages.of_chat)
        register(self._application)

    def operator(self, chat_id: int, topic_id: int | None) -> TelegramOperator:
        """The operator's chat (OPERATOR_CHAT_ID), where incidents are told; after `serve`."""
        return TelegramOperator(
            self._application.bot, chat_id, topic_id, self.bot_data.use_cases.languages.of_chat
        )

    async def start(self) -> None:
        """Initialise PTB and start dispatching (updates come later; the command menu is
        `show_commands`, which answering does not wait for)."""
        await self._application.initialize()
        await self._application.start()

    async def show_commands(self) -> None:
        """Set the command menu in every language and, with WEBAPP_URL, the Mini App's menu
        button: up to seven requests and every catalog read (in a worker thread), so `cronpilot
        run` does it once updates flow (Telegram keeps the menu of the last start meanwhile)."""
        await asyncio.to_thread(read_catalogs)
        await set_commands(self._application.bot)
        await set_menu_button(self._application.bot, self.bot_data.webapp_url)

    async def poll(self, *, poll_interval: float, poll_timeout: int) -> None:
        updater = self._application.updater
        assert updater is not None
        await updater.start_polling(
            poll_interval=poll_interval, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES
        )
        log.info("bot.polling")

    async def set_webhook(self, url: str, *, secret: str) -> None:
        """Ask Telegram to post updates to `url`; they arrive through `receive`."""
        await self._application.bot.set_webhook(
            url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
        )

    async def receive(self, payload: dict[str, Any]) -> None:
        """One update posted to the webhook, onto PTB's update queue."""
        update = Update.de_json(payload, self._application.bot)
        await self._application.update_queue.put(update)

    async def stop_polling(self) -> None:
        updater = self._application.updater
        if updater is not None and updater.running:
            await updater.stop()

    async def open_delivery(self, language_of: Callable[[int], Awaitable[str]]) -> None:
        """Only the outgoing side (no handlers, no updates): for `cronpilot tasks run`, which
        posts a run's result to its chat as Run now does."""
        self.delivery.learn_languages(language_of)
        await self._application.bot.initialize()

    async def close_delivery(self) -> None:
        await self._application.bot.shutdown()

    async def stop(self) -> None:
        if self._application.running:
            await self._application.stop()
        await self.bot_data.refusals.close()
        await self._application.shutdown()
