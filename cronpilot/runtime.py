"""The composition root: one function builds everything and hands it on, typed."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import BotCommand
from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter

from application.draft_edits import DraftEdits
from application.limits import LimitSettings, RequestLimits
from application.usecases import UseCases, UseCaseSettings
from bot.context import CONTEXT_TYPES, BotData, Services
from bot.delivery import TelegramDelivery
from bot.handlers.routes import COMMANDS, register
from bot.ratelimit import MessageRateLimiter
from core.logs import get_logger
from core.settings import Settings
from scheduler.clock import Clock, SystemClock
from scheduler.engine import Engine, EngineSettings
from scheduler.llm import LiteLLMClient, LLMClient
from scheduler.parsing.request import build_request_parser
from scheduler.runner.runner import RunnerSettings, TaskRunner
from storage.database import create_engine, create_sessionmaker

log = get_logger(__name__)

DRAFT_PURGE_SECONDS = 3600
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


@dataclass
class Runtime:
    """Everything `cronpilot run` starts and stops, in the order it must."""

    settings: Settings
    application: Application  # type: ignore[type-arg]
    services: Services
    database: AsyncEngine
    llm: LLMClient
    _background: list[asyncio.Task[None]] = field(default_factory=list, init=False)

    @property
    def engine(self) -> Engine:
        return self.services.engine

    async def start(self) -> None:
        """Initialise the bot, set the command menu, start the engine (not the updates)."""
        await self.application.initialize()
        await self.application.bot.set_my_commands(
            [BotCommand(name, description) for name, description in COMMANDS]
        )
        await self.application.start()
        jobs = await self.engine.start()
        self._background = [
            asyncio.create_task(self._purge_drafts(), name="purge-drafts"),
            asyncio.create_task(self._warm_up(), name="warm-up"),
        ]
        log.info("scheduler.started", job_count=jobs)

    async def take_updates(self, *, poll_interval: float = 0.0, poll_timeout: int = 10) -> None:
        """Start receiving updates: webhook mode when WEBHOOK_URL is set, else long polling."""
        updater = self.application.updater
        assert updater is not None
        url = self.settings.webhook_url
        if url is None:
            await updater.start_polling(
                poll_interval=poll_interval, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES
            )
            log.info("bot.polling")
            return
        # Telegram posts to WEBHOOK_URL; the load balancer forwards that path here unchanged.
        path = urlsplit(url).path.strip("/")
        await updater.start_webhook(
            listen="0.0.0.0",  # noqa: S104 - a webhook server must be reachable from outside
            port=self.settings.webhook_port,
            url_path=path,
            webhook_url=url,
            secret_token=self.settings.effective_webhook_secret(),
            allowed_updates=ALLOWED_UPDATES,
        )
        log.info("bot.webhook", url=url, port=self.settings.webhook_port)

    async def stop_updates(self) -> None:
        """Stop receiving updates (the webhook itself stays set, for the other replicas)."""
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()

    async def stop(self) -> None:
        """After updates stopped: finish or interrupt runs, then close everything."""
        for task in self._background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.engine.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()
        await self.database.dispose()

    async def _warm_up(self) -> None:
        """Load the LLM library now rather than inside the first run, then take everything
        loaded so far out of the garbage collector's sight: LiteLLM alone is ~200 MB of
        objects, and rescanning them made full collections pause the loop for 150–400 ms."""
        try:
            await self.llm.warm_up()
        except Exception:  # the first run will try again and report the problem properly
            log.exception("llm.warm_up_failed")
            return
        gc.collect()
        gc.freeze()
        log.info("llm.ready")

    async def _purge_drafts(self) -> None:
        while True:
            await asyncio.sleep(DRAFT_PURGE_SECONDS)
            try:
                await self.services.usecases.purge_expired_drafts()
            except Exception:  # housekeeping must not die; the next round tries again
                log.exception("drafts.purge_failed")


def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    llm: LLMClient | None = None,
    rate_limiter: BaseRateLimiter[Any] | None = None,
) -> Runtime:
    """Build the whole bot from settings. Nothing connects until `Runtime.start`.

    Tests pass their own clock, LLM client and rate limiter; production uses the defaults.
    """
    token = settings.require_bot_token().get_secret_value()
    clock = clock or SystemClock()
    llm = llm or LiteLLMClient.from_settings(settings)
    database = create_engine(settings.database_url, pool_size=settings.max_concurrent_runs + 5)
    sessions = create_sessionmaker(database)

    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_api_base_url)
        .context_types(CONTEXT_TYPES)
        .rate_limiter(rate_limiter or MessageRateLimiter())
        .concurrent_updates(True)
        .build()
    )
    delivery = TelegramDelivery(application.bot)
    runner = TaskRunner(
        sessions,
        llm,
        delivery,
        clock,
        RunnerSettings(
            model=settings.llm_model,
            run_timeout_seconds=settings.run_timeout_seconds,
            max_tool_steps=settings.max_tool_steps,
            max_concurrent_runs=settings.max_concurrent_runs,
        ),
    )
    engine = Engine(
        sessions,
        runner,
        clock,
        EngineSettings(misfire_grace_seconds=settings.misfire_grace_seconds),
    )
    usecases = UseCases(
        sessions,
        engine,
        build_request_parser(
            llm=llm,
            model=settings.effective_parser_model,
            min_interval_seconds=settings.min_interval_seconds,
        ),
        clock,
        UseCaseSettings(
            default_timezone=settings.default_timezone,
            max_tasks_per_chat=settings.max_tasks_per_chat,
            min_interval_seconds=settings.min_interval_seconds,
        ),
    )
    services = Services(
        settings=settings,
        usecases=usecases,
        engine=engine,
        clock=clock,
        edits=DraftEdits(sessions, clock),
        limits=RequestLimits(
            clock, LimitSettings(messages_per_window=settings.user_messages_per_minute)
        ),
    )
    bot_data = application.bot_data
    assert isinstance(bot_data, BotData)
    bot_data.services = services
    register(application)
    return Runtime(settings, application, services, database, llm)
