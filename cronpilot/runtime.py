"""The composition root: one function builds everything and hands it on, typed."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncEngine

from application import UseCases, build_use_cases
from application.access import Access, ChatMembers, NoMembers
from application.limits import LimitSettings, RequestLimits
from application.records import ApplicationSettings
from application.targets import TargetChats, TargetChecks
from application.usage import Ledger, MeteredLLM
from application.watch import OperatorChannel, Watch, WatchSettings
from bot.chat_slots import ChatSlots
from bot.i18n import translator
from bot.problems import explain
from bot.ratelimit import OVERALL, MessageRateLimiter
from bot.render import describe
from bot.telegram_bot import BotRateLimiter, TelegramBot
from core.logs import get_logger
from core.settings import Settings
from scheduler.clock import Clock, SystemClock
from scheduler.delivery import CopyDelivery, Delivery
from scheduler.destinations import Destinations
from scheduler.engine import Engine, EngineSettings
from scheduler.llm import LiteLLMClient, LLMClient
from scheduler.parsing.request import build_request_parser
from scheduler.runner.runner import RunnerSettings, TaskRunner
from scheduler.runner.sending import DELIVERY_BACKOFF
from scheduler.runner.targets import TARGET_BACKOFF, TargetSender
from scheduler.runner.tools.registry import Toolsets, build_toolsets
from scheduler.transcription import LiteLLMTranscriber
from storage.database import create_engine, create_sessionmaker
from storage.retry import DEFAULT_BACKOFF, Backoff

if TYPE_CHECKING:
    # The HTTP door is imported only when HTTP_PORT asks for it (`_import_web`).
    from web.api import ApiDoor
    from web.app import WebApp
    from web.health import Health
    from web.server import HttpServer
    from web.webhook import Webhook

log = get_logger(__name__)

DRAFT_PURGE_SECONDS = 3600
# What `_add_http_server` imports (in a worker thread, `Runtime.start_others`).
WEB_MODULES = (
    "web.api",
    "web.app",
    "web.health",
    "web.hooks",
    "web.ratelimit",
    "web.server",
    "web.texts",
    "web.webhook",
)
# How often each replica runs the operator's checks (application/watch.py).
WATCH_SECONDS = 30.0

# Imported once updates flow (`Runtime._warm_up`), not at start: it compiles hundreds of regular
# expressions; a message read before then imports it itself.
RULES_PARSER = "scheduler.parsing.rules"
# Updates waiting when the process starts (a restart, a deploy) are answered before the LLM
# library starts loading beside them: its import shares the interpreter with the event loop.
# A run or an LLM parse needing it sooner starts the load itself and waits for it.
WARM_UP_DELAY_SECONDS = 1.0
# Objects allocated (net) between two young-generation collections; Python's default is 700. A
# run makes thousands of short-lived objects (requests, responses, rows), which the default
# collects for about every ten runs, each collection then counting toward the older ones: at
# the 09:00 burst, 2.8 of its 35 s of CPU went to collecting (benchmarks/burst.py, 786
# collections), 0.7 s with this (30). Objects that live on are still collected, only less often.
YOUNG_COLLECTION_THRESHOLD = 10_000


@dataclass
class Runtime:
    """The process, composed: everything below the front doors (`assemble`: the database, the
    engine and runner, the use cases, the LLM client, the tools), and the doors `cronpilot run`
    opens on it (`build_runtime`: the Telegram bot, the HTTP server), started and stopped in
    the order they must be. The terminal's commands use the part below the doors."""

    settings: Settings
    database: AsyncEngine
    engine: Engine
    use_cases: UseCases
    llm: LLMClient
    # The tools runs are offered (the MCP servers of MCP_CONFIG among them), started once and
    # shared by every run.
    tools: Toolsets
    # The checks `cronpilot doctor` prints and the operator's alerts come from.
    watch: Watch
    bot: TelegramBot | None = None
    # OPERATOR_CHAT_ID's chat, where incidents are told; None when the setting is unset.
    operator: OperatorChannel | None = None
    # The one HTTP server (HTTP_PORT); None when the setting is unset.
    http: HttpServer | None = None
    webhook: Webhook | None = None
    health: Health | None = None
    # The ASGI app the HTTP server serves, and what its API is built from (tests use both).
    web_app: WebApp | None = None
    api_door: ApiDoor | None = None
    # The heartbeat's own connection (PostgreSQL), so that it never waits behind runs; the
    # chats' shared pace (bot.chat_slots) goes through it too.
    heartbeat_database: AsyncEngine | None = None
    chat_slots: ChatSlots | None = None
    _background: list[asyncio.Task[None]] = field(default_factory=list, init=False)

    @property
    def telegram(self) -> TelegramBot:
        if self.bot is None:
            raise RuntimeError("this runtime was assembled without the Telegram bot")
        return self.bot

    async def start(self) -> None:
        """Everything that comes before updates: what answering them needs
        (`start_answering`) and the rest (`start_others`). `cronpilot run` takes updates in
        between, so that a restart answers as soon as it can."""
        await self.start_answering()
        await self.start_others()

    async def start_answering(self) -> None:
        """Initialise the bot and start dispatching, and start the engine; in webhook mode the
        HTTP server too, since updates arrive through it."""
        gc.set_threshold(YOUNG_COLLECTION_THRESHOLD)  # the older generations' stay Python's
        await self.telegram.start()
        jobs = await self.engine.start()
        self._background = [asyncio.create_task(self._purge_drafts(), name="purge-drafts")]
        if self.operator is not None:
            self._background.append(asyncio.create_task(self._watch(), name="watch"))
        log.info("scheduler.started", job_count=jobs, worker=self.engine.worker_id)
        if self.settings.webhook_url is not None:
            await self._open_http()

    async def start_others(self) -> None:
        """What answering does not wait for: the tools (MCP servers, the extraction workers),
        the command menu, and in polling mode the HTTP server (health, metrics, the API, the
        Mini App), whose web stack is imported in a worker thread while the loop answers."""
        self._background.append(asyncio.create_task(self.tools.start(), name="tools-start"))
        await self.telegram.show_commands()
        if self.http is None and self.settings.http_port is not None:
            await asyncio.to_thread(_import_web)
            await self._open_http()

    def build_http(self) -> None:
        """Build the HTTP server of HTTP_PORT (not started); `start` does it when it is set."""
        _add_http_server(self, self.settings.require_bot_token().get_secret_value())

    async def _open_http(self) -> None:
        self.build_http()
        assert self.http is not None
        await self.http.start()

    async def take_updates(self, *, poll_interval: float = 0.0, poll_timeout: int = 10) -> None:
        """Start receiving updates: webhook mode when WEBHOOK_URL is set, else long polling.
        Then load the LLM library in the background: what needs no model is answered at once,
        and a run or an LLM parse started meanwhile waits for the library."""
        url = self.settings.webhook_url
        if url is None:
            await self.telegram.poll(poll_interval=poll_interval, poll_timeout=poll_timeout)
        else:
            # Telegram posts to WEBHOOK_URL; the load balancer forwards that path to HTTP_PORT.
            await self.telegram.set_webhook(url, secret=self.settings.effective_webhook_secret())
            log.info("bot.webhook", url=url, port=self.http.port if self.http else None)
        self._background.append(asyncio.create_task(self._warm_up(), name="warm-up"))

    async def stop_updates(self) -> None:
        """Stop receiving updates (the webhook itself stays set, for the other replicas) and
        close the HTTP server."""
        await self.telegram.stop_polling()
        if self.webhook is not None:
            self.webhook.accepting = False
        if self.http is not None:
            await self.http.stop()
        if self.health is not None:
            await self.health.close()

    async def stop(self) -> None:
        """After updates stopped: finish or interrupt runs, then close everything."""
        if self.http is not None:
            await self.http.stop()
        for task in self._background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.engine.stop()
        await self.tools.stop()
        if self.bot is not None:
            await self.bot.stop()
        if self.chat_slots is not None:
            await self.chat_slots.close()
        await self.database.dispose()
        if self.heartbeat_database is not None:
            await self.heartbeat_database.dispose()

    async def _warm_up(self) -> None:
        """Import the rules parser (its regular expressions) in a worker thread, then load the
        LLM library now rather than inside the first run. It loads in a worker
        thread with collections off, and what it made is frozen out of the collector's sight
        before they resume (`scheduler.llm`), so the loop stalls only briefly meanwhile; what
        this process made before is frozen too, without a full collection on the loop first
        (that would be a long pause of its own)."""
        await asyncio.sleep(WARM_UP_DELAY_SECONDS)
        await asyncio.to_thread(importlib.import_module, RULES_PARSER)
        if not self.settings.has_model:
            return
        try:
            await self.llm.warm_up()
        except Exception:  # the first run will try again and report the problem properly
            log.exception("llm.warm_up_failed")
            return
        gc.freeze()
        log.info("llm.ready")

    async def _watch(self) -> None:
        """Every replica runs the checks; the incidents table has only one of them tell."""
        assert self.operator is not None
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            try:
                await self.watch.review(self.operator)
            except Exception:  # the watch must not die; the next round tries again
                log.exception("watch.review_failed")

    async def _purge_drafts(self) -> None:
        while True:
            await asyncio.sleep(DRAFT_PURGE_SECONDS)
            try:
                await self.use_cases.drafts.purge_expired()
                await self.use_cases.changes.purge_expired()
            except Exception:  # housekeeping must not die; the next round tries again
                log.exception("drafts.purge_failed")


class _WaitingPrices:
    """LiteLLM's prices for a door that waits for the library to load rather than show a card
    without its estimate (`cronpilot chat`)."""

    def __init__(self, llm: LiteLLMClient) -> None:
        self._llm = llm

    def prices_ready(self) -> bool:
        return True

    async def run_cost(
        self, model: str, prompt_tokens: int, completion_tokens: int
    ) -> float | None:
        return await self._llm.run_cost(model, prompt_tokens, completion_tokens)


def assemble(
    settings: Settings,
    delivery: Delivery,
    *,
    clock: Clock,
    llm: LLMClient,
    retry_backoff: Backoff | None = None,
    members: ChatMembers | None = None,
    estimates: bool = False,
    wait_for_prices: bool = False,
    target_chats: TargetChats | None = None,
    copies: CopyDelivery | None = None,
) -> Runtime:
    """The use cases over storage and the scheduler, results leaving through `delivery`
    (Telegram for the bot, the terminal for `cronpilot chat` and `cronpilot tasks run`), and
    group roles asked of `members` (Telegram's getChatMember; the terminal knows none).
    With `estimates`, a request's card says what its task will cost (LiteLLM's cost map: the
    bot loads LiteLLM in the background after start, and a card made before that says the
    price list is still loading rather than wait; `wait_for_prices`: the card waits for it,
    as `cronpilot chat`, one person at a terminal, does). Tests pass (shorter) waits between
    retries of database work and deliveries."""
    database = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    sessions = create_sessionmaker(database)
    access = Access(
        sessions,
        settings.allowed_users,
        members or NoMembers(),
        clock,
        group_members_can_manage=settings.group_members_can_manage,
    )

    ledger = Ledger(sessions, clock, settings.chat_monthly_budget_usd)
    tools = build_toolsets(settings, clock=clock)
    destinations = Destinations(settings.destinations) if settings.destinations else None
    targets = TargetSender(
        sessions,
        copies,
        destinations,
        clock,
        backoff=retry_backoff or TARGET_BACKOFF,
        database_backoff=retry_backoff or DEFAULT_BACKOFF,
        checks=TargetChecks(target_chats) if target_chats is not None else None,
    )
    runner = TaskRunner(
        sessions,
        llm,
        delivery,
        clock,
        RunnerSettings(
            # Empty: no model at all; AI tasks fail saying so, reminders run as ever.
            model=settings.llm_model if settings.has_model else "",
            models=tuple(settings.models),
            retry_delays=settings.run_retry_delays,
            run_timeout_seconds=settings.run_timeout_seconds,
            max_tool_steps=settings.max_tool_steps,
            max_concurrent_runs=settings.max_concurrent_runs,
            run_starts_per_second=settings.run_starts_per_second,
            database_backoff=retry_backoff or DEFAULT_BACKOFF,
            delivery_backoff=retry_backoff or DELIVERY_BACKOFF,
        ),
        toolsets=tools,
        budget=ledger,
        targets=targets,
    )
    # SQLite has one process and one writer at a time: the heartbeat shares the pool there.
    heartbeat_database = (
        None
        if database.dialect.name == "sqlite"
        else create_engine(settings.database_url, pool_size=1)
    )
    engine = Engine(
        sessions,
        runner,
        clock,
        EngineSettings(
            misfire_grace_seconds=settings.misfire_grace_seconds,
            database_backoff=retry_backoff or DEFAULT_BACKOFF,
            # Runs going plus as many waiting for a slot: enough to keep the slots busy.
            max_claimed=2 * settings.max_concurrent_runs,
            # Beside other replicas, claim what this one's share of the bot's rate sends soon.
            messages_per_second=OVERALL[0] / OVERALL[1],
        ),
        heartbeats=create_sessionmaker(heartbeat_database) if heartbeat_database else None,
    )
    runner.start_followers_with(engine.start_runs)
    use_cases = build_use_cases(
        sessions,
        engine,
        build_request_parser(
            llm=MeteredLLM(llm, ledger),
            model=settings.effective_parser_model,
            min_interval_seconds=settings.min_interval_seconds,
        ),
        clock,
        ApplicationSettings(
            default_timezone=settings.default_timezone,
            max_tasks_per_chat=settings.max_tasks_per_chat,
            min_interval_seconds=settings.min_interval_seconds,
            monthly_budget_usd=settings.chat_monthly_budget_usd,
            default_model=settings.llm_model,
            models=tuple(settings.models),
            transcription_model=settings.transcription_model,
            voice_max_seconds=settings.voice_max_seconds,
            attachment_max_bytes=settings.attachment_max_bytes,
            has_model=settings.has_model,
            public_url=settings.public_url,
            trigger_per_minute=settings.trigger_per_minute,
            trigger_max_bytes=settings.trigger_max_bytes,
        ),
        runner,
        access,
        ledger=ledger,
        toolsets=tools,
        # The cost map is LiteLLM's; a client of another kind (a test's) gives no prices.
        prices=(
            (_WaitingPrices(llm) if wait_for_prices else llm)
            if estimates and isinstance(llm, LiteLLMClient)
            else None
        ),
        transcriber=(
            LiteLLMTranscriber.from_settings(settings) if settings.transcription_model else None
        ),
        target_chats=target_chats,
        destinations=destinations,
    )
    watch = Watch(
        sessions,
        clock,
        WatchSettings(lease_seconds=engine.settings.lease_seconds),
        me=engine.worker_id,
    )
    runtime = Runtime(settings, database, engine, use_cases, llm, tools, watch)
    runtime.heartbeat_database = heartbeat_database
    return runtime


def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    llm: LLMClient | None = None,
    rate_limiter: BotRateLimiter | None = None,
    retry_backoff: Backoff | None = None,
) -> Runtime:
    """Build the whole bot from settings. Nothing connects until `Runtime.start`.

    Tests pass their own clock, LLM client, rate limiter and (shorter) waits between retries
    of database work and deliveries; production uses the defaults.
    """
    token = settings.require_bot_token().get_secret_value()
    clock = clock or SystemClock()
    llm = llm or LiteLLMClient.from_settings(settings)
    bot = TelegramBot(
        token,
        base_url=settings.telegram_api_base_url,
        rate_limiter=rate_limiter,
        long_result_chars=settings.long_result_chars,
    )
    runtime = assemble(
        settings,
        bot.delivery,
        clock=clock,
        llm=llm,
        retry_backoff=retry_backoff,
        members=bot.members,
        estimates=True,
        target_chats=bot.target_chats,
        copies=bot.delivery,
    )
    bot.serve(
        runtime.use_cases,
        limits=RequestLimits(
            clock, LimitSettings(messages_per_window=settings.user_messages_per_minute)
        ),
        webapp_url=settings.webapp_url,
    )
    runtime.bot = bot
    if isinstance(bot.rate_limiter, MessageRateLimiter):
        runtime.engine.share_sending(bot.rate_limiter.share)
        if runtime.heartbeat_database is not None:
            # Replicas (PostgreSQL) keep each chat's pace together, through the heartbeat's own
            # connection: a pool busy with runs must not hold a message back.
            runtime.chat_slots = ChatSlots(create_sessionmaker(runtime.heartbeat_database))
            bot.rate_limiter.share_chats(runtime.chat_slots)
    operator_chat = settings.operator_chat
    if operator_chat is not None:
        runtime.operator = bot.operator(*operator_chat)
    return runtime


def _import_web() -> None:
    """The HTTP door's modules (FastAPI, Starlette, uvicorn and the API's models: about a
    fifth of what `cronpilot run` imports), imported only when HTTP_PORT is set."""
    for name in WEB_MODULES:
        importlib.import_module(name)


def _add_http_server(runtime: Runtime, bot_token: str) -> None:
    """The one HTTP server on HTTP_PORT: health, metrics, the webhook, the API, the Mini App
    (built when it starts, `Runtime.start_answering` or `start_others`)."""
    from web.api import ApiDoor, build_api
    from web.app import build_app
    from web.health import Health, callable_probe, database_probe
    from web.hooks import Hooks
    from web.ratelimit import SignInLimiter
    from web.server import HttpServer
    from web.texts import MiniAppTexts
    from web.webhook import Webhook

    settings = runtime.settings
    assert settings.http_port is not None
    engine = runtime.engine
    runtime.health = Health(
        [
            database_probe(runtime.database),
            callable_probe(
                "scheduler", lambda: engine.running, problem="the scheduler is not running"
            ),
        ]
    )
    if settings.webhook_url is not None:
        runtime.webhook = Webhook(
            urlsplit(settings.webhook_url).path,
            settings.effective_webhook_secret(),
            runtime.telegram.receive,
        )
    runtime.api_door = ApiDoor(
        use_cases=runtime.use_cases,
        bot_token=bot_token,
        rate_limiter=SignInLimiter(),
        texts=MiniAppTexts(
            lambda language, text: translator(language).text(text),
            labels=[label for _, label in runtime.use_cases.setup.tool_choices],
        ),
        explain=lambda language, error: explain(
            translator(language), error, settings.default_timezone
        ),
        describe=lambda language, schedule: describe(translator(language), schedule),
        say_reason=lambda language, reason: translator(language).reason(reason),
    )
    api = build_api(runtime.api_door)
    hooks = Hooks(runtime.use_cases.triggers, settings.trigger_max_bytes)
    runtime.web_app = build_app(runtime.health, webhook=runtime.webhook, api=api, hooks=hooks)
    runtime.http = HttpServer(
        runtime.web_app,
        settings.http_port,
        host=settings.http_host,
        trusted_proxies=settings.forwarded_allow_ips,
    )
