"""The task runner: one run of one task through the LLM, with tools and memory, logged in full.

A run: wait for a free slot (MAX_CONCURRENT_RUNS) and its moment to start
(RUN_STARTS_PER_SECOND, see scheduler/runner/pace.py), mark the run started, read the task, its
last few answers and documents, show "typing…" while the model works, loop over tool calls up to
MAX_TOOL_STEPS, all within RUN_TIMEOUT_SECONDS, retrying transient LLM errors with a bounded
backoff. Then record the outcome (status, output, reason, tokens, cost), marking the run as owing
its chat a message, and return it: the engine has `deliver` send that message, retrying with
backoff until it is delivered or never can be (the chat is gone, the message refused), in
`scheduler/runner/sending.py`. Three failures in a row pause the task.

The database may go away at any point: its work is retried with backoff until it is back. An
answer that is ready while the database is away is delivered at once and recorded later.

The model may answer with the silent marker alone to say there is nothing worth posting: the run
is recorded as `silent` and nothing is sent.

`converse` is the same loop for a conversation about a task (a follow-up question, a change asked
for in words): the same slots, tools, timeout, tool-step limit and retries, "typing…" included;
the caller builds the messages and records the outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from core import metrics
from core.languages import ENGLISH, chat_language
from core.logs import get_logger
from core.reasons import (
    BudgetSpent,
    DatabaseUnavailable,
    EmptyAnswer,
    EndlessTools,
    InternalError,
    NoModelSetUp,
    Reason,
    RunTimedOut,
    logged,
)
from scheduler.clock import Clock
from scheduler.delivery import Delivery
from scheduler.documents import attachments_message
from scheduler.llm import (
    Completion,
    LLMClient,
    LLMError,
    ToolCall,
    TransientLLMError,
)
from scheduler.model_routes import asked_model, task_model
from scheduler.parsing.reminders import reminder_words
from scheduler.runner.budget import BudgetGate, BudgetReached
from scheduler.runner.chains import queue_followers
from scheduler.runner.inputs import event_input, upstream_input
from scheduler.runner.pace import Pace
from scheduler.runner.prompt import MEMORY_RUNS, build_messages, is_silent
from scheduler.runner.quiet import unchanged
from scheduler.runner.retrying import may_try_again, next_try, repeats_schedule
from scheduler.runner.sending import (
    DELIVERY_BACKOFF,
    FAILURES_BEFORE_PAUSE,
    ResultSender,
    Sent,
    owes_message,
)
from scheduler.runner.skips import skip_and_tell_once
from scheduler.runner.steps import call_tools
from scheduler.runner.targets import TargetSender
from scheduler.runner.task_cap import TaskCap
from scheduler.runner.tools.registry import Toolsets
from scheduler.runner.tools.toolbox import Toolbox
from scheduler.schedules.schedule import zone_for
from storage import attachments, runs, spending, tasks
from storage.database import autocommitting
from storage.records import Attachment, Run, RunStatus, Spending, Task, TaskMode, TaskState
from storage.retry import DEFAULT_BACKOFF, Backoff, describe, patiently, unavailable

log = get_logger(__name__)

MAX_OUTPUT_CHARS = 50_000


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    model: str
    # The names of MODELS a task may run on; a task naming one no longer there runs on `model`.
    models: tuple[str, ...] = ()
    run_timeout_seconds: float = 120.0
    max_tool_steps: int = 5
    max_concurrent_runs: int = 100
    run_starts_per_second: float = 28.0
    llm_attempts: int = 3
    retry_wait_seconds: float = 1.0
    retry_wait_max_seconds: float = 10.0
    # Waits while the database is away, and between attempts to deliver a result.
    database_backoff: Backoff = DEFAULT_BACKOFF
    delivery_backoff: Backoff = DELIVERY_BACKOFF
    # RUN_RETRY_DELAYS: the waits before each new try of a run that failed for a reason that
    # heals; none, no tries.
    retry_delays: tuple[float, ...] = ()


@dataclass(slots=True)
class ModelUsage:
    """Tokens and cost of every model call a run or a conversation made."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None
    calls: int = 0
    # Tool name → calls, in the order of first use.
    tools: dict[str, int] = field(default_factory=dict)
    # The model that gave the last answer (after any fallback).
    model: str | None = None

    def used(self, tool: str) -> None:
        self.tools[tool] = self.tools.get(tool, 0) + 1

    def add(self, completion: Completion) -> None:
        self.calls += 1
        self.prompt_tokens += completion.prompt_tokens
        self.completion_tokens += completion.completion_tokens
        self.model = completion.answered_by or completion.model
        if completion.cost is not None:
            self.cost = (self.cost or 0.0) + completion.cost


@dataclass(frozen=True, slots=True)
class Turn:
    """What a conversation with the model came to: an answer, a call to one of the caller's own
    functions (which ends the conversation), or the reason there is neither."""

    answer: str | None
    call: ToolCall | None
    reason: Reason | None
    usage: ModelUsage


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: RunStatus
    output: str | None
    reason: Reason | None


@dataclass(frozen=True, slots=True)
class _Prepared:
    """What a started run read before it thinks: its task, the task's last answers, the
    chat's language, what started it (an upstream result, an event) and the task's documents."""

    task: Task
    memory: list[Run]
    language: str
    inputs: tuple[str, ...]
    documents: list[Attachment]


# Starts runs this runner recorded for others (a chain's followers): the engine's.
RunStarter = Callable[[Sequence[tuple[Run, Task]]], None]


def _database_away(task: Task, error: BaseException) -> DatabaseUnavailable:
    """Why a run whose database work found no connection in time (a pool wait past its
    timeout, as under CPU starvation) or lost it failed: a reason that heals, so
    RUN_RETRY_DELAYS try the run again."""
    log.warning("run.database_unavailable", task_id=task.id, error=describe(error))
    return DatabaseUnavailable()


class _RunFailed(Exception):
    """The run cannot produce an answer, for `reason`."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.message())
        self.reason = reason


class TaskRunner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        llm: LLMClient,
        delivery: Delivery,
        clock: Clock,
        settings: RunnerSettings,
        *,
        toolsets: Toolsets | None = None,
        budget: BudgetGate | None = None,
        targets: TargetSender | None = None,
    ) -> None:
        """`toolsets` are what runs are offered (`registry.build_toolsets`); none without.
        `targets` sends results to the targets beside a task's own chat."""
        self._sessions = sessions
        self._statements = autocommitting(sessions)
        self._llm = llm
        self._delivery = delivery
        self._clock = clock
        self._settings = settings
        self._toolsets = toolsets if toolsets is not None else Toolsets()
        self._budget = budget
        self._slots = asyncio.Semaphore(settings.max_concurrent_runs)
        self._starts = Pace(settings.run_starts_per_second)
        self._sender = ResultSender(
            sessions,
            delivery,
            clock,
            database_backoff=settings.database_backoff,
            delivery_backoff=settings.delivery_backoff,
            targets=targets,
        )
        self._cap = TaskCap(sessions, delivery, clock, self._sender)
        self._start_followers: RunStarter | None = None

    def start_followers_with(self, starter: RunStarter) -> None:
        """Have `starter` (the engine) start the runs of tasks that run after a finished one."""
        self._start_followers = starter

    async def execute(self, run: Run, task: Task) -> Run | None:
        """Run it and record the outcome; return the finished run when the chat is owed a
        message (the engine then has `deliver` send it), None when nothing is owed."""
        async with self._slots:
            await self._starts.wait()
            prepared = await patiently(
                lambda: self._prepare(run), what="run.start", backoff=self._db_backoff
            )
            if prepared is None:
                return None  # interrupted while it waited for a slot, or the task was deleted
            current = prepared.task
            if current.mode is TaskMode.REMINDER:
                # No model: the words are the message; free, so no budget applies. A run started
                # by an event posts the event beneath them (the run keeps it whole, /history).
                words = reminder_words(current.prompt)
                if run.payload is not None:
                    words = f"{words}\n\n{run.payload}"
                outcome = _Outcome(RunStatus.SUCCEEDED, words, None)
                return await self._conclude(current, run, outcome, ModelUsage())
            if not self._settings.model:
                outcome = _Outcome(RunStatus.FAILED, None, NoModelSetUp())
                return await self._conclude(current, run, outcome, ModelUsage())
            budget = self._budget
            try:
                reached = await budget.reached(current.chat_id) if budget is not None else None
                capped = reached is None and await self._cap.spent(current)
            except Exception as error:
                if not unavailable(error):
                    raise
                outcome = _Outcome(RunStatus.FAILED, None, _database_away(current, error))
                return await self._conclude(current, run, outcome, ModelUsage())
            if reached is not None:
                await self._over_budget(current, run, reached)
                return None
            if capped:
                await self._cap.skip(current, run)
                return None
            usage = ModelUsage()
            async with self._delivery.working(current.chat_id):
                outcome = await self._think(prepared, usage)
        return await self._conclude(current, run, outcome, usage)

    async def _prepare(self, run: Run) -> _Prepared | None:
        """Mark the run started and read everything it needs: one write, so no transaction
        around it (`autocommitting`), and the reads see the run started."""
        async with self._statements() as session, session.begin():
            started = await runs.start(
                session, run, started_at=self._clock.now(), memory=MEMORY_RUNS
            )
            if started is None:
                return None
            current, chat, memory = started.task, started.chat, started.memory
            parent = await runs.get(session, run.parent_run_id) if run.parent_run_id else None
            upstream = await tasks.get(session, parent.task_id) if parent else None
            # A reminder's words are its message: it reads no documents.
            documents = (
                await attachments.of_task(session, current.id)
                if current.mode is not TaskMode.REMINDER and started.has_documents
                else []
            )
        language = chat_language(chat.language, chat.user_language) if chat else ENGLISH
        inputs: list[str] = []
        if parent is not None:
            name = upstream.name if upstream is not None else ""
            inputs.append(upstream_input(parent, parent.task_id, name))
        if run.payload is not None:
            inputs.append(event_input(run.payload))
        return _Prepared(current, memory, language, tuple(inputs), documents)

    # --- the model --------------------------------------------------------------------------

    async def _think(self, prepared: _Prepared, usage: ModelUsage) -> _Outcome:
        task, memory = prepared.task, prepared.memory
        toolbox = await self._toolsets.toolbox(task, task.tools)
        messages = build_messages(
            task,
            memory,
            now=self._clock.now(),
            language=prepared.language,
            advice=toolbox.advice,
            inputs=prepared.inputs,
        )
        if prepared.documents:
            # After the system prompt: the person's documents, marked as data.
            messages.insert(1, {"role": "user", "content": attachments_message(prepared.documents)})
        try:
            answer = await self._bounded(task, messages, usage, (), toolbox)
        except _RunFailed as failed:
            return _Outcome(RunStatus.FAILED, None, failed.reason)
        assert isinstance(answer, str)
        if is_silent(answer):
            return _Outcome(RunStatus.SILENT, answer, None)
        answer = answer[:MAX_OUTPUT_CHARS]
        if task.quiet_changed and unchanged(answer, memory[-1].output if memory else None):
            return _Outcome(RunStatus.SILENT, answer, None)
        return _Outcome(RunStatus.SUCCEEDED, answer, None)

    async def converse(
        self,
        task: Task,
        messages: list[dict[str, Any]],
        *,
        functions: Sequence[dict[str, Any]] = (),
    ) -> Turn:
        """One conversation turn about `task` with the task's tools and bounds.

        `functions` are the caller's own, offered beside the tools: the first call to one ends
        the turn and is handed back unanswered. Never raises for the model's or the tools'
        failures: they come back as `Turn.reason`.
        """
        usage = ModelUsage()
        async with self._slots, self._delivery.working(task.chat_id):
            try:
                result = await self._bounded(task, messages, usage, functions)
            except _RunFailed as failed:
                return Turn(None, None, failed.reason, usage)
        if isinstance(result, ToolCall):
            return Turn(None, result, None, usage)
        return Turn(result[:MAX_OUTPUT_CHARS], None, None, usage)

    async def _bounded(
        self,
        task: Task,
        messages: list[dict[str, Any]],
        usage: ModelUsage,
        functions: Sequence[dict[str, Any]],
        toolbox: Toolbox | None = None,
    ) -> str | ToolCall:
        """The tool loop within the run timeout; every failure becomes _RunFailed."""
        try:
            async with asyncio.timeout(self._settings.run_timeout_seconds):
                if toolbox is None:
                    toolbox = await self._toolsets.toolbox(task, task.tools)
                result = await self._converse(task, messages, usage, functions, toolbox)
        except TimeoutError:
            raise _RunFailed(RunTimedOut(seconds=self._settings.run_timeout_seconds)) from None
        except LLMError as error:
            # The chat and /history hear what kind of failure it was; the provider's own
            # words (which may quote the request or a key) go to the log only.
            log.warning("run.llm_failed", task_id=task.id, error=str(error))
            raise _RunFailed(error.reason) from None
        except _RunFailed:
            raise
        except Exception:  # a bug or a library surprise: the chat still hears of the failure
            log.exception("run.think_crashed", task_id=task.id)
            raise _RunFailed(InternalError()) from None
        if isinstance(result, ToolCall):
            return result
        # A model can emit NUL, which PostgreSQL cannot store; it never means anything.
        return result.replace("\x00", "")

    async def _converse(
        self,
        task: Task,
        messages: list[dict[str, Any]],
        usage: ModelUsage,
        functions: Sequence[dict[str, Any]],
        toolbox: Toolbox,
    ) -> str | ToolCall:
        own = {spec["function"]["name"] for spec in functions}
        specs = [*toolbox.specs(), *functions]
        model = self.model_of(task)
        for step in range(self._settings.max_tool_steps + 1):
            last_step = step == self._settings.max_tool_steps
            completion = await self._complete(
                messages, specs, tool_choice="none" if last_step else "auto", model=model
            )
            usage.add(completion)
            if not completion.tool_calls:
                answer = (completion.content or "").strip()
                if not answer:
                    raise _RunFailed(EmptyAnswer())
                return answer
            if last_step:
                break
            called = next((call for call in completion.tool_calls if call.name in own), None)
            if called is not None:
                return called
            messages.append(completion.as_message())
            messages.extend(await call_tools(toolbox, completion.tool_calls, usage.used))
        raise _RunFailed(EndlessTools(steps=self._settings.max_tool_steps))

    def model_of(self, task: Task) -> str:
        """The model a task runs on: its own choice of MODELS, else LLM_MODEL."""
        return task_model(task, self._settings.model, self._settings.models)

    def _asked(self, task: Task, usage: ModelUsage) -> str | None:
        return asked_model(task, usage.model, self._settings.model, self._settings.models)

    async def _complete(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        *,
        tool_choice: str,
        model: str,
    ) -> Completion:
        settings = self._settings
        retrying = AsyncRetrying(
            stop=stop_after_attempt(settings.llm_attempts),
            wait=wait_exponential(
                multiplier=settings.retry_wait_seconds, max=settings.retry_wait_max_seconds
            ),
            retry=retry_if_exception_type(TransientLLMError),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._llm.complete(
                    messages,
                    model=model,
                    tools=tools,
                    tool_choice=tool_choice,
                    timeout=settings.run_timeout_seconds,
                )
        raise AssertionError("unreachable: tenacity re-raises the last error")

    # --- the record and the chat ---------------------------------------------------------

    async def _conclude(
        self, task: Task, run: Run, outcome: _Outcome, usage: ModelUsage
    ) -> Run | None:
        try:
            finished = await self._record(task, run, outcome, usage, sent=None)
        except Exception as error:
            if not unavailable(error):
                raise
            # The database is away and the answer is here: the chat gets it now, the record
            # follows once the database is back.
            log.warning("run.record_deferred", run_id=run.id, task_id=task.id)
            sent = await self._sender.send(
                task, run, outcome.status, outcome.output, outcome.reason
            )
            finished = await patiently(
                lambda: self._record(task, run, outcome, usage, sent=sent),
                what="run.finish",
                backoff=self._db_backoff,
            )
            if finished is not None and sent.message_id is not None:
                await self._sender.notify_if_paused(finished)
            if finished is None or not finished.delivery_pending:
                return None
            # Copies to other targets are still owed; the record now says what the chat got.
            async with self._sessions() as session:
                return await runs.get(session, run.id)
        if finished is None or not finished.delivery_pending:
            return None
        return finished

    async def _record(
        self, task: Task, run: Run, outcome: _Outcome, usage: ModelUsage, *, sent: Sent | None
    ) -> Run | None:
        """Close the run (and count it against the task) in one transaction; with `sent`,
        what the delivery that went ahead of the record did."""
        now = self._clock.now()
        owes = owes_message(outcome.status, outcome.output, run.trigger)
        # A reminder's run is counted as what it is: no tokens, nothing spent.
        counted = usage.calls > 0 or task.mode is TaskMode.REMINDER
        delays = self._settings.retry_delays
        async with self._sessions() as session, session.begin():
            # The task as it is now matters only to a failure that may try again.
            retry_at = (
                next_try(
                    run,
                    await tasks.get(session, task.id),
                    outcome.status,
                    outcome.reason,
                    delays=delays,
                    now=now,
                )
                if may_try_again(run, outcome.status, outcome.reason, delays=delays)
                else None
            )
            finished = await runs.finish(
                session,
                run.id,
                status=outcome.status,
                finished_at=now,
                output=outcome.output,
                reason=outcome.reason,
                prompt_tokens=usage.prompt_tokens if counted else None,
                completion_tokens=usage.completion_tokens if counted else None,
                cost=0.0 if task.mode is TaskMode.REMINDER else usage.cost,
                owner=run.owner,
                delivery_pending=owes and sent is None,
                tool_calls=tuple(usage.tools.items()),
                model=self._asked(task, usage),
                retry_at=retry_at,
            )
            if finished is not None and owes and outcome.status is RunStatus.SUCCEEDED:
                finished = await self._sender.owe_targets(session, task, finished)
            spent = (
                Spending(
                    chat_id=task.chat_id,
                    task_id=task.id,
                    kind=spending.RUN,
                    at=now,
                    prompt_tokens=usage.prompt_tokens,
                    completion_tokens=usage.completion_tokens,
                    cost=usage.cost,
                )
                if usage.calls
                else None
            )
            if finished is None:
                # Spent even when the run's own record was closed meanwhile (a shutdown
                # interrupted it), but not recorded for a task deleted meanwhile, whose chat
                # may be gone too.
                if spent is not None and await tasks.get(session, task.id):
                    await spending.add(session, spent)
                return None  # interrupted by a shutdown meanwhile, or the task was deleted
            if sent is not None and owes:
                await self._sender.record_in(session, task, run, sent)
            # A failure that tries again does not count yet: only a run whose tries are spent.
            counts = repeats_schedule(run) and retry_at is None
            tally = await tasks.count_run(
                session,
                task.id,
                failed=outcome.status is RunStatus.FAILED,
                finished_at=now,
                counts=counts,
                spent=spent,
            )
            if counts and tally is not None and tally.failures >= FAILURES_BEFORE_PAUSE:
                await tasks.set_state(session, task.id, TaskState.PAUSED, next_run_at=None, now=now)
            followers = (
                await queue_followers(session, finished, now=now, owner=run.owner)
                if tally is not None and tally.followed
                else []
            )
        if followers and self._start_followers is not None:
            self._start_followers(followers)
        metrics.observe_run(
            outcome.status.value,
            run.trigger.value,
            finished.duration_seconds,
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.cost,
        )
        metrics.observe_model_run(
            self._asked(task, usage) or self._settings.model, outcome.status.value
        )
        log.info(
            "run.finished",
            run_id=run.id,
            task_id=task.id,
            chat_id=task.chat_id,
            trigger=run.trigger.value,
            status=outcome.status.value,
            duration=round(finished.duration_seconds or 0.0, 3),
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost=usage.cost,
            tools=usage.tools or None,
            **logged(outcome.reason),
        )
        return finished

    async def _over_budget(self, task: Task, run: Run, reached: BudgetReached) -> None:
        """Record the run as skipped without calling the model; tell the chat once a day."""
        now = self._clock.now()
        day_start = now.astimezone(zone_for(task.timezone)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        await skip_and_tell_once(
            self._sessions,
            self._sender,
            task,
            run,
            BudgetSpent(),
            now=now,
            since=day_start,
            tell=lambda: self._delivery.send_budget_reached(
                task, reached.spent_usd, reached.budget_usd
            ),
            spent=reached.spent_usd,
            budget=reached.budget_usd,
        )

    async def deliver(self, run: Run, task: Task) -> None:
        """Send the message a finished run owes its chat (see ResultSender.deliver)."""
        await self._sender.deliver(run, task)

    @property
    def _db_backoff(self) -> Backoff:
        return self._settings.database_backoff
