"""`cronpilot run`: migrate, start, take updates until SIGTERM or SIGINT, stop cleanly."""

from __future__ import annotations

import asyncio
import gc
import signal

from core import metrics
from core.errors import CronpilotError
from core.logs import Redactor, get_logger
from core.settings import Settings
from cronpilot.check import check_telegram
from cronpilot.runtime import build_runtime
from storage.migrate import upgrade_to_head

log = get_logger(__name__)


class BotApiUnusableError(CronpilotError):
    """The Bot API cannot be reached, or refuses the token: nothing can work, so nothing starts."""


async def check_bot_api(settings: Settings) -> None:
    """getMe before anything is migrated or written; one line saying what to fix if it fails."""
    settings.require_bot_token()
    result = await check_telegram(settings)
    if not result.ok:
        redactor = Redactor(settings.secret_values())
        reason = f"cannot start: {result.detail}" + (f" — {result.fix}" if result.fix else "")
        raise BotApiUnusableError(str(redactor.clean(reason)))


def load_before_serving() -> None:
    """Before the event loop starts: take everything imported so far, which lives as long as
    the process, out of the garbage collector's sight (full collections rescanning it paused
    the loop; `cronpilot.cli` keeps the collector off while it is imported). LiteLLM is not
    loaded here: it takes seconds, and the bot answers what needs no model meanwhile;
    `Runtime.take_updates` loads it in a worker thread once updates flow."""
    gc.freeze()


async def serve(settings: Settings, *, migrate: bool = True) -> None:
    await check_bot_api(settings)  # before anything is written
    if migrate:
        state = await upgrade_to_head(settings.database_url)
        log.info("database.migrated", revision=state.head)
    runtime = build_runtime(settings)
    engine = runtime.engine
    metrics.follow_scheduler(lambda: engine.job_count, lambda: engine.in_flight)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        # Updates are answered as soon as the bot and the engine are up; the rest (the
        # command menu, the tools, the HTTP server of polling mode) starts meanwhile.
        await runtime.start_answering()
        await runtime.take_updates()
        await runtime.start_others()
        await stop.wait()
        log.info("bot.stopping", in_flight=runtime.engine.in_flight)
        await runtime.stop_updates()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await runtime.stop()
