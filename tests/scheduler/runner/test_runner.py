"""The task runner through the real LiteLLM client against a fake OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application import UseCases, build_use_cases
from application.access import Access, NoMembers
from application.permissions import Actor, Door
from application.records import ApplicationSettings
from core.reasons import (
    EndlessTools,
    FailedInARow,
    InternalError,
    KeyRejected,
    ProviderFailed,
    RequestRefused,
    RunTimedOut,
)
from core.settings import AllowedUsers, load_settings
from scheduler.engine import Engine, EngineSettings
from scheduler.llm import LiteLLMClient, LLMClient
from scheduler.parsing.request import build_request_parser
from scheduler.runner.budget import BudgetGate
from scheduler.runner.prompt import SILENT_MARKER
from scheduler.runner.runner import RunnerSettings, TaskRunner
from scheduler.runner.steps import MAX_STEP_RESULT_CHARS, MAX_TOOL_CALLS_PER_STEP
from scheduler.runner.tools.registry import Toolset, Toolsets, build_toolsets
from scheduler.runner.tools.web_fetch import KEY as WEB_FETCH
from scheduler.runner.tools.web_fetch import FetchPolicy, WebFetchToolset
from storage import chats, runs, tasks
from storage.database import create_engine, create_sessionmaker
from storage.records import NewTask, Run, RunStatus, RunTrigger, Task, TaskKind, TaskState
from tests.fakes.clock import FakeClock
from tests.fakes.delivery import FakeDelivery
from tests.fakes.llm import FakeLLM, TextReply

pytestmark = pytest.mark.usefixtures("litellm_imported")

Sessions = async_sessionmaker[AsyncSession]
CHAT = 777
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
MODEL = "openai/gpt-4o-mini"


@pytest.fixture
async def sessions(pg_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(pg_url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


@dataclass
class World:
    sessions: Sessions
    llm: FakeLLM
    clock: FakeClock
    delivery: FakeDelivery
    engine: Engine
    runner: TaskRunner

    async def task(self, prompt: str = "Summarize the news", **changes: object) -> Task:
        fields: dict[str, object] = {
            "chat_id": CHAT,
            "created_by": 1,
            "name": prompt[:40],
            "prompt": prompt,
            "kind": TaskKind.CRON,
            "timezone": "Europe/Berlin",
            "next_run_at": START + timedelta(days=1),
            "cron": "0 10 * * *",
        }
        fields.update(changes)
        async with self.sessions() as session, session.begin():
            await chats.upsert(session, CHAT, type="private", title=None, now=START)
            return await tasks.add(session, NewTask(**fields), now=START)  # type: ignore[arg-type]

    async def run(self, task: Task, *, trigger: RunTrigger = RunTrigger.SCHEDULE) -> Run:
        """Run the task now, as the schedule would (or as a person would, with MANUAL)."""
        run = await self.engine.run_now(task.id, trigger=trigger)
        await self.engine.wait_idle()
        # Each scheduled occurrence is one instant; the next run is another.
        self.clock.current += timedelta(seconds=1)
        async with self.sessions() as session:
            finished = await runs.get(session, run.id)
        assert finished is not None
        return finished


def make_world(
    sessions: Sessions,
    llm: FakeLLM,
    *,
    fetch_policy: FetchPolicy | None = None,
    client: LLMClient | None = None,
    toolsets: Sequence[Toolset] = (),
    budget: BudgetGate | None = None,
    clock: FakeClock | None = None,
    delivery: FakeDelivery | None = None,
    **settings: object,
) -> World:
    clock = clock or FakeClock(START)
    delivery = delivery or FakeDelivery()
    options: dict[str, object] = {
        "model": MODEL,
        "run_timeout_seconds": 5,
        "max_tool_steps": 3,
        "retry_wait_seconds": 0.01,
        "retry_wait_max_seconds": 0.05,
    }
    options.update(settings)
    # The tools every run has by default (the registry's, under default settings), web_fetch
    # under the test's policy, and the test's own.
    offered = [
        WebFetchToolset(fetch_policy) if fetch_policy and toolset.key == WEB_FETCH else toolset
        for toolset in build_toolsets(load_settings(_env_file=None), clock=clock)
    ]
    runner = TaskRunner(
        sessions,
        client or LiteLLMClient(api_base=llm.base_url, api_key="sk-test-key-123456"),
        delivery,
        clock,
        RunnerSettings(**options),  # type: ignore[arg-type]
        toolsets=Toolsets([*offered, *toolsets]),
        budget=budget,
    )
    engine = Engine(sessions, runner, clock, EngineSettings())
    return World(sessions, llm, clock, delivery, engine, runner)


@pytest.fixture
def world(sessions: Sessions, llm: FakeLLM) -> World:
    return make_world(sessions, llm)


async def test_plain_answer_is_recorded_and_delivered(world: World) -> None:
    task = await world.task()
    world.llm.reply_text(
        "**Top story**: nothing burned down.", prompt_tokens=120, completion_tokens=30
    )
    run = await world.run(task)
    assert run.status is RunStatus.SUCCEEDED
    assert run.output == "**Top story**: nothing burned down."
    assert (run.prompt_tokens, run.completion_tokens) == (120, 30)
    assert run.cost is not None
    assert run.cost > 0
    assert run.started_at is not None
    assert run.finished_at is not None
    assert run.delivered_message_id == world.delivery.next_message_id
    assert world.delivery.results == [(task.id, "**Top story**: nothing burned down.")]
    assert world.delivery.working_in == [CHAT]

    [request] = world.llm.requests
    assert request["model"] == "gpt-4o-mini"
    assert request.headers["Authorization"] == "Bearer sk-test-key-123456"
    system, user = request["messages"]
    assert system["role"] == "system"
    assert "Thursday 2026-11-26 10:00 (Europe/Berlin, UTC+0100)" in system["content"]
    assert SILENT_MARKER in system["content"]
    assert user == {"role": "user", "content": "[2026-11-26 10:00] Summarize the news"}
    assert {tool["function"]["name"] for tool in request["tools"]} == {"current_time", "web_fetch"}


async def test_the_model_is_told_to_write_in_the_chat_language(world: World) -> None:
    task = await world.task()
    world.llm.reply_text("Готово.")
    await world.run(task)
    assert "Write in English, the language of the chat" in system_prompt(world, 0)

    # The person's Telegram app speaks Portuguese; the chat then chose German.
    async with world.sessions() as session, session.begin():
        await chats.upsert(session, CHAT, type="private", title=None, now=START, user_language="pt")
    world.llm.reply_text("Pronto.")
    await world.run(task)
    assert "Write in Portuguese, the language of the chat, unless the task" in system_prompt(
        world, 1
    )
    async with world.sessions() as session, session.begin():
        await chats.set_language(session, CHAT, "de")
    world.llm.reply_text("Fertig.")
    await world.run(task)
    assert "Write in German" in system_prompt(world, 2)


def system_prompt(world: World, request: int) -> str:
    system = world.llm.requests[request]["messages"][0]
    assert system["role"] == "system"
    return str(system["content"])


async def test_tool_call_then_answer(world: World) -> None:
    task = await world.task("Tell me the time in Tokyo")
    [call_id] = world.llm.reply_tool_calls([("current_time", {"timezone": "Asia/Tokyo"})])
    world.llm.reply_text("It is evening in Tokyo.", prompt_tokens=50, completion_tokens=7)
    run = await world.run(task)
    assert run.status is RunStatus.SUCCEEDED
    assert (run.prompt_tokens, run.completion_tokens) == (60, 12)
    second = world.llm.requests[1]["messages"]
    assert second[-2]["role"] == "assistant"
    assert second[-2]["tool_calls"][0]["id"] == call_id
    assert second[-1] == {
        "role": "tool",
        "tool_call_id": call_id,
        "content": "Thursday 2026-11-26 18:00:00 JST (UTC+0900, Asia/Tokyo)",
    }


async def test_endless_tool_calls_are_bounded(world: World) -> None:
    task = await world.task()
    for _ in range(10):
        world.llm.reply_tool_calls([("current_time", {})])
    run = await world.run(task)
    assert run.status is RunStatus.FAILED
    assert run.reason == EndlessTools(steps=3)
    assert len(world.llm.requests) == 4  # three rounds with tools, one last asking for an answer
    assert world.llm.requests[-1]["tool_choice"] == "none"
    assert world.delivery.failures == [(task.id, EndlessTools(steps=3))]


async def test_server_error_then_success_is_retried(world: World) -> None:
    task = await world.task()
    world.llm.reply_error(500, "The server had an error")
    world.llm.reply_text("Recovered.")
    run = await world.run(task)
    assert run.status is RunStatus.SUCCEEDED
    assert run.output == "Recovered."
    assert len(world.llm.requests) == 2


async def test_persistent_server_errors_fail_after_bounded_attempts(world: World) -> None:
    task = await world.task()
    for _ in range(5):
        world.llm.reply_error(503, "Overloaded")
    run = await world.run(task)
    assert run.status is RunStatus.FAILED
    assert len(world.llm.requests) == 3
    assert world.delivery.failures == [(task.id, ProviderFailed(status=503))]


async def test_bad_key_is_not_retried(world: World) -> None:
    task = await world.task()
    world.llm.reply_error(401, "Incorrect API key provided: sk-test-key-123456")
    run = await world.run(task)
    assert run.status is RunStatus.FAILED
    assert len(world.llm.requests) == 1
    # The kind of failure and its facts, never the provider's words (which quote the key).
    assert run.reason == KeyRejected(status=401)
    assert run.reason.stored() == {"status": 401}


async def test_timeout(sessions: Sessions, llm: FakeLLM) -> None:
    world = make_world(sessions, llm, run_timeout_seconds=0.5, llm_attempts=1)
    task = await world.task()
    llm.reply_delay(5)
    run = await world.run(task)
    assert run.status is RunStatus.FAILED
    assert run.reason == RunTimedOut(seconds=0.5)
    assert run.reason.message() == "no answer within 0.5 s"
    assert run.finished_at is not None


async def test_malformed_tool_arguments_go_back_to_the_model(world: World) -> None:
    task = await world.task()
    world.llm.reply_tool_calls_raw([("web_fetch", '{"url": "https://exa')])
    world.llm.reply_tool_calls([("no_such_tool", {})])
    world.llm.reply_text("I could not fetch it.")
    run = await world.run(task)
    assert run.status is RunStatus.SUCCEEDED
    first_result = world.llm.requests[1]["messages"][-1]["content"]
    assert first_result.startswith("error: the arguments are not valid JSON")
    second_result = world.llm.requests[2]["messages"][-1]["content"]
    assert second_result == (
        "error: there is no tool named 'no_such_tool'; the tools are: current_time, web_fetch"
    )


async def test_silent_marker_posts_nothing(world: World) -> None:
    task = await world.task("Tell me only about new releases")
    world.llm.reply_text(f" {SILENT_MARKER}. ")
    run = await world.run(task)
    assert run.status is RunStatus.SILENT
    assert world.delivery.results == []
    assert world.delivery.nothing_to_report == []
    assert run.delivered_message_id is None


async def test_a_silent_run_someone_asked_for_says_nothing_to_report(world: World) -> None:
    task = await world.task("Tell me only about new releases")
    world.llm.reply_text(SILENT_MARKER)
    run = await world.run(task, trigger=RunTrigger.MANUAL)
    assert run.status is RunStatus.SILENT
    assert world.delivery.nothing_to_report == [task.id]
    assert run.delivered_message_id == world.delivery.next_message_id


async def test_failed_manual_runs_do_not_count_towards_pausing(world: World) -> None:
    task = await world.task()
    for _ in range(4):
        world.llm.reply_error(400, "Bad request")
        await world.run(task, trigger=RunTrigger.MANUAL)
    async with world.sessions() as session:
        current = await tasks.get(session, task.id)
    assert current is not None
    assert current.state is TaskState.ACTIVE
    assert current.consecutive_failures == 0
    assert world.delivery.paused == []


async def test_memory_of_earlier_runs(world: World) -> None:
    task = await world.task("What is new on the blog?")
    for text in ("Post A", "Post B", "Post C", "Post D"):
        world.llm.reply_text(text)
        await world.run(task)
        world.clock.current += timedelta(hours=1)
    world.llm.reply_text("Post E")
    await world.run(task)
    messages = world.llm.requests[-1]["messages"]
    remembered = [m["content"] for m in messages if m["role"] == "assistant"]
    assert remembered == ["Post B", "Post C", "Post D"]
    assert messages[1]["content"] == "[2026-11-26 11:00] What is new on the blog?"


async def test_three_failures_in_a_row_pause_the_task(world: World) -> None:
    task = await world.task()
    for _ in range(3):
        world.llm.reply_error(400, "Bad request")
    for _ in range(3):
        await world.run(task)
    async with world.sessions() as session:
        paused = await tasks.get(session, task.id)
    assert paused is not None
    assert paused.state is TaskState.PAUSED
    assert paused.next_run_at is None
    assert len(world.delivery.failures) == 3
    assert [task_id for task_id, _ in world.delivery.paused] == [task.id]
    assert world.delivery.paused[0][1] == FailedInARow(count=3, error=RequestRefused(status=400))


async def test_success_resets_the_failure_count(world: World) -> None:
    task = await world.task()
    world.llm.reply_error(400, "Bad request")
    world.llm.reply_error(400, "Bad request")
    world.llm.reply_text("fine")
    world.llm.reply_error(400, "Bad request")
    for _ in range(4):
        await world.run(task)
    async with world.sessions() as session:
        current = await tasks.get(session, task.id)
    assert current is not None
    assert current.state is TaskState.ACTIVE
    assert current.consecutive_failures == 1


async def test_blocked_chat_pauses_its_tasks(world: World) -> None:
    task = await world.task()
    other = await world.task("Another")
    world.delivery.unreachable = True
    world.llm.reply_text("hello")
    run = await world.run(task)
    assert run.status is RunStatus.SUCCEEDED
    assert run.delivery_error == "Forbidden: bot was blocked by the user"
    async with world.sessions() as session:
        chat = await chats.get(session, CHAT)
        states = [(await tasks.get(session, t.id)) for t in (task, other)]
    assert chat is not None
    assert chat.active is False
    assert [t.state for t in states if t is not None] == [TaskState.PAUSED, TaskState.PAUSED]


async def test_web_fetch_through_the_runner(sessions: Sessions, llm: FakeLLM) -> None:
    async def page(_: web.Request) -> web.Response:
        return web.Response(
            text="<html><head><title>Release notes</title></head><body><article>"
            "<h1>Version 2.0</h1><p>Version 2.0 adds scheduling by cron expression and "
            "fixes the daylight saving bug that made jobs run twice.</p></article></body></html>",
            content_type="text/html",
        )

    app = web.Application()
    app.router.add_get("/notes", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        policy = FetchPolicy(allowed_test_addresses=frozenset({("127.0.0.1", port)}))
        world = make_world(sessions, llm, fetch_policy=policy)
        task = await world.task("Summarize the release notes")
        llm.reply_tool_calls(
            [
                ("web_fetch", {"url": f"http://127.0.0.1:{port}/notes"}),
                ("web_fetch", {"url": "http://169.254.169.254/latest/meta-data/"}),
            ]
        )
        llm.reply_text("2.0 fixes the DST bug.")
        run = await world.run(task)
    finally:
        await runner.cleanup()
    assert run.status is RunStatus.SUCCEEDED
    fetched, refused = world.llm.requests[1]["messages"][-2:]
    assert "Title: Release notes" in fetched["content"]
    assert "daylight saving bug" in fetched["content"]
    assert "<p>" not in fetched["content"]
    assert refused["content"].startswith("error: refused: 169.254.169.254")


async def test_one_steps_tool_calls_and_their_text_are_capped(
    sessions: Sessions, llm: FakeLLM
) -> None:
    """Fifty fetches in one step would carry about a million characters into the next request:
    only MAX_TOOL_CALLS_PER_STEP run, their text is capped, and every call still gets an answer."""
    fetched: list[str] = []

    async def page(request: web.Request) -> web.Response:
        fetched.append(request.path)
        words = " ".join(f"word{index}" for index in range(6_000))
        body = f"<html><body><p>{words}</p></body></html>"
        return web.Response(text=body, content_type="text/html")

    app = web.Application()
    app.router.add_get("/{name}", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        policy = FetchPolicy(allowed_test_addresses=frozenset({("127.0.0.1", port)}))
        world = make_world(sessions, llm, fetch_policy=policy)
        task = await world.task("Read everything")
        call_ids = llm.reply_tool_calls(
            [("web_fetch", {"url": f"http://127.0.0.1:{port}/p{n}"}) for n in range(50)]
        )
        llm.reply_text("done")
        run = await world.run(task)
    finally:
        await runner.cleanup()
    assert run.status is RunStatus.SUCCEEDED
    answers = [m for m in world.llm.requests[1]["messages"] if m["role"] == "tool"]
    assert [answer["tool_call_id"] for answer in answers] == list(call_ids)
    assert len(fetched) <= MAX_TOOL_CALLS_PER_STEP
    assert sum(len(answer["content"]) for answer in answers) < MAX_STEP_RESULT_CHARS + 10_000
    assert "at most 5 tool calls are run per step" in answers[-1]["content"]


async def test_created_task_fires_once_across_a_restart(pg_url: str, llm: FakeLLM) -> None:
    """The whole path: use cases create the task, the engine fires it at its instant, the LLM
    answers, the delivery port gets the result, once, and a restarted process does not repeat it."""

    def process() -> tuple[World, UseCases, object]:
        database = create_engine(pg_url)
        sessions = create_sessionmaker(database)
        world = make_world(sessions, llm)
        app = build_use_cases(
            sessions,
            world.engine,
            build_request_parser(llm=None, model="off", min_interval_seconds=300),
            world.clock,
            ApplicationSettings(
                default_timezone="Europe/Berlin", max_tasks_per_chat=25, min_interval_seconds=300
            ),
            world.runner,
            Access(sessions, AllowedUsers(everyone=True), NoMembers(), world.clock),
        )
        return world, app, database

    first, app, first_db = process()
    await app.chats.see(CHAT, type="private", title="Alice")
    alice = Actor(CHAT, Door.BOT, chat_id=CHAT, chat_type="private")
    card = await app.drafts.create(alice, CHAT, "every day at 10:30 summarize the news")
    task = await app.drafts.confirm(alice, card.draft_id)
    due = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)  # 10:30 in Berlin
    assert task.next_run_at == due

    llm.reply_text("Today: calm.")
    first.clock.current = due
    await first.engine.claim_due()
    await first.engine.wait_idle()
    await first.engine.stop()
    await first_db.dispose()  # type: ignore[attr-defined]

    second, _, second_db = process()
    second.clock.current = due + timedelta(seconds=20)
    await second.engine.start()
    await second.engine.wait_idle()
    await second.engine.stop()
    await second_db.dispose()  # type: ignore[attr-defined]

    assert first.delivery.results == [(task.id, "Today: calm.")]
    assert second.delivery.results == []
    assert len(llm.requests) == 1
    async with first.sessions() as session:
        history = await runs.list_for_task(session, task.id)
        stored = await tasks.get(session, task.id)
    assert [(r.scheduled_for, r.trigger, r.status) for r in history] == [
        (due, RunTrigger.SCHEDULE, RunStatus.SUCCEEDED)
    ]
    assert stored is not None
    assert stored.next_run_at == due + timedelta(days=1)
    assert json.loads(json.dumps(llm.requests[0]["messages"]))[-1]["content"].endswith(
        "Summarize the news"
    )
    assert isinstance(TextReply("x"), TextReply)


class _BrokenLLM:
    """An LLM client whose library raises something nobody documented."""

    async def complete(self, *args: object, **kwargs: object) -> object:
        raise KeyError("choices")

    async def warm_up(self) -> None:
        return None


async def test_a_run_that_crashes_unexpectedly_is_reported_and_counted(
    sessions: Sessions, llm: FakeLLM
) -> None:
    world = make_world(sessions, llm, client=_BrokenLLM())  # type: ignore[arg-type]
    task = await world.task()
    run = await world.run(task)
    assert run.status is RunStatus.FAILED
    assert run.reason == InternalError()
    assert world.delivery.failures == [(task.id, InternalError())]
    assert run.delivered_message_id == world.delivery.next_message_id
    async with sessions() as session:
        stored = await tasks.get(session, task.id)
    assert stored is not None
    assert stored.consecutive_failures == 1


async def _wait_for(condition: Callable[[], bool], *, seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - the fake server's requests have no event
            await asyncio.sleep(0.01)


async def test_runs_wait_on_the_model_side_by_side_up_to_the_limit(
    pg_url: str, llm: FakeLLM
) -> None:
    # A database pool of one connection (two at busy moments) for eight runs at once: a run
    # holds a connection only for its reads and writes, never while the model thinks.
    database = create_engine(pg_url, pool_size=1)
    try:
        world = make_world(create_sessionmaker(database), llm, max_concurrent_runs=8)
        gate = asyncio.Event()
        many = [await world.task(f"Task {number}") for number in range(12)]
        for number in range(12):
            world.llm.reply_when(gate, TextReply(f"Answer {number}"))
        started = [await world.engine.run_now(task.id, trigger=RunTrigger.MANUAL) for task in many]

        # Eight runs are with the model at once; the other four wait for a slot.
        await _wait_for(lambda: len(world.llm.requests) == 8)
        await asyncio.sleep(0.3)
        assert len(world.llm.requests) == 8
        gate.set()
        await world.engine.wait_idle()
    finally:
        await database.dispose()

    assert len(world.llm.requests) == 12
    assert sorted(text for _, text in world.delivery.results) == sorted(
        f"Answer {number}" for number in range(12)
    )
    async with world.sessions() as session:
        finished = [await runs.get(session, run.id) for run in started]
    assert [run.status if run else None for run in finished] == [RunStatus.SUCCEEDED] * 12


class TimedDelivery(FakeDelivery):
    """Notes the loop's time as each run starts showing "typing…" (its model call follows)."""

    def __init__(self) -> None:
        super().__init__()
        self.thinking_since: list[float] = []

    @contextlib.asynccontextmanager
    async def working(self, chat_id: int) -> AsyncIterator[None]:
        self.thinking_since.append(asyncio.get_running_loop().time())
        async with super().working(chat_id):
            yield


async def test_runs_due_together_start_at_their_pace(sessions: Sessions, llm: FakeLLM) -> None:
    delivery = TimedDelivery()
    world = make_world(sessions, llm, delivery=delivery, run_starts_per_second=10)
    many = [await world.task(f"Task {number}") for number in range(5)]
    for number in range(5):
        world.llm.reply_text(f"Answer {number}")
    for task in many:
        await world.engine.run_now(task.id, trigger=RunTrigger.MANUAL)
    await world.engine.wait_idle()

    moments = delivery.thinking_since
    assert len(moments) == 5
    # Ten a second: the fifth starts 0.4 s after the first (give or take the reads before
    # "typing…"); all at once, they would start within a few milliseconds.
    assert moments[-1] - moments[0] >= 0.3
    assert len(world.delivery.results) == 5


class CancelledAsItSends(FakeDelivery):
    """A shutdown that lands the moment the message has gone out: the delivery is cancelled
    on its way from sending to recording."""

    async def send_result(self, task: Task, run: Run, text: str) -> Sequence[int]:
        sent = await super().send_result(task, run, text)
        current = asyncio.current_task()
        assert current is not None
        current.cancel()
        return sent


async def test_a_message_that_went_out_is_recorded_even_when_a_shutdown_cancels_its_delivery(
    sessions: Sessions, llm: FakeLLM
) -> None:
    delivery = CancelledAsItSends()
    world = make_world(sessions, llm, delivery=delivery)
    task = await world.task()
    world.llm.reply_text("The news, once.")
    run = await world.run(task)
    assert delivery.results == [(task.id, "The news, once.")]
    # Recorded as delivered, so the next start does not send it a second time.
    assert (run.delivery_pending, run.delivered_message_id) == (False, delivery.next_message_id)
