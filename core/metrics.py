"""Prometheus metrics: what the engine, the runner and the bot count, served at `/metrics`.

Everything lives in one dedicated registry, `REGISTRY`, so `/metrics` shows cronpilot's own
series (all named `cronpilot_…`) plus the standard `process_…` ones, and nothing that another
library registers in prometheus-client's global default. Importing this module connects to
nothing; the functions below only update numbers in memory and are safe to call from any
coroutine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Final

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.exposition import choose_encoder

from core import __version__

# The `…_created` series prometheus-client adds to every counter and histogram double what a
# scrape carries and say nothing a restart does not; this switch is process-wide, and cronpilot
# is the only user of prometheus-client in its process.
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in prometheus-client

REGISTRY: Final = CollectorRegistry()

# The kinds of Bot API failure worth telling apart on a dashboard; anything else is "other",
# which keeps the label's cardinality bounded whatever a caller passes.
TELEGRAM_ERROR_KINDS: Final = frozenset(
    {"bad_request", "forbidden", "retry_after", "timeout", "network", "other"}
)

# LLM runs take from under a second (a short answer) to minutes (tool steps, slow models);
# RUN_TIMEOUT_SECONDS may be up to an hour, which lands in +Inf.
RUN_DURATION_BUCKETS: Final = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 180.0, 300.0)
# How far behind its instant an occurrence was claimed: milliseconds when all is well.
FIRE_LATENESS_BUCKETS: Final = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)
# A model's answer: about a second for a short one, up to minutes for a slow model.
LLM_LATENCY_BUCKETS: Final = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
DELIVERY_OUTCOMES: Final = ("delivered", "failed", "chat_gone", "retrying")
# Where a result may go (storage.records.TargetKind's values).
TARGET_KINDS: Final = ("chat", "telegram", "destination")

RUNS: Final = Counter(
    "cronpilot_runs",
    "Runs that ended (or were recorded without running), by status and trigger.",
    ["status", "trigger"],
    registry=REGISTRY,
)
RUN_DURATION: Final = Histogram(
    "cronpilot_run_duration_seconds",
    "Wall-clock time of a run, from start to the recorded outcome.",
    buckets=RUN_DURATION_BUCKETS,
    registry=REGISTRY,
)
FIRE_LATENESS: Final = Histogram(
    "cronpilot_fire_lateness_seconds",
    "How long after its scheduled instant an occurrence was claimed.",
    buckets=FIRE_LATENESS_BUCKETS,
    registry=REGISTRY,
)
LLM_TOKENS: Final = Counter(
    "cronpilot_llm_tokens",
    "Tokens the LLM provider counted for task runs, by kind (prompt or completion).",
    ["kind"],
    registry=REGISTRY,
)
LLM_COST: Final = Counter(
    "cronpilot_llm_cost_usd",
    "Cost of task runs in US dollars, as LiteLLM prices them (models it cannot price add 0).",
    registry=REGISTRY,
)
TELEGRAM_ERRORS: Final = Counter(
    "cronpilot_telegram_errors",
    "Failed Bot API calls, by method and kind of failure.",
    ["method", "kind"],
    registry=REGISTRY,
)
TRIGGER_REQUESTS: Final = Counter(
    "cronpilot_trigger_requests",
    "POSTs to trigger URLs, by outcome (started, unknown, paused, busy, rate_limited, invalid).",
    ["outcome"],
    registry=REGISTRY,
)
CHAIN_RUNS: Final = Counter(
    "cronpilot_chain_runs",
    "Runs of a task started after another task's run (/after), by outcome (started, skipped).",
    ["outcome"],
    registry=REGISTRY,
)
SCHEDULER_ALARM_JOBS: Final = Gauge(
    "cronpilot_scheduler_alarm_jobs",
    "Jobs armed in the in-process scheduler (alarms within the horizon, plus the refill).",
    registry=REGISTRY,
)
RUNS_IN_FLIGHT: Final = Gauge(
    "cronpilot_runs_in_flight",
    "Runs this process has started and not yet finished.",
    registry=REGISTRY,
)
# What the dashboard (deploy/grafana) and the alert rules (deploy/prometheus) read besides:
# runs per model, the model's latency, and what became of the results owed to chats.
MODEL_RUNS: Final = Counter(
    "cronpilot_model_runs",
    "Runs that asked a model, by the model and the status they ended with.",
    ["model", "status"],
    registry=REGISTRY,
)
LLM_REQUESTS: Final = Counter(
    "cronpilot_llm_requests",
    "Requests to the LLM provider, by model and outcome (ok, or the failure's reason code).",
    ["model", "outcome"],
    registry=REGISTRY,
)
LLM_LATENCY: Final = Histogram(
    "cronpilot_llm_request_duration_seconds",
    "Time from a request to the LLM provider to its answer or failure, by model.",
    ["model"],
    buckets=LLM_LATENCY_BUCKETS,
    registry=REGISTRY,
)
DELIVERIES: Final = Counter(
    "cronpilot_deliveries",
    "Results owed to a target, by kind of target (chat: the task's own; telegram: another chat "
    "or channel; destination: outside Telegram) and outcome: delivered, failed (given up), "
    "chat_gone, or retrying (one per attempt that will be tried again).",
    ["target", "outcome"],
    registry=REGISTRY,
)
RESULTS_OWED: Final = Gauge(
    "cronpilot_results_owed",
    "Results this process owes chats and is still sending (a growing queue: sending lags).",
    registry=REGISTRY,
)
BUILD_INFO: Final = Gauge(
    "cronpilot_build_info",
    "Always 1; the label carries the running cronpilot version.",
    ["version"],
    registry=REGISTRY,
)

ProcessCollector(registry=REGISTRY)
BUILD_INFO.labels(version=__version__).set(1)
# Both kinds exist from the start, so a dashboard shows 0 rather than "no data".
LLM_TOKENS.labels(kind="prompt")
LLM_TOKENS.labels(kind="completion")
TRIGGER_OUTCOMES: Final = frozenset(
    {"started", "unknown", "paused", "busy", "rate_limited", "invalid"}
)
CHAIN_OUTCOMES: Final = frozenset({"started", "skipped"})
for _outcome in TRIGGER_OUTCOMES:
    TRIGGER_REQUESTS.labels(outcome=_outcome)
for _outcome in CHAIN_OUTCOMES:
    CHAIN_RUNS.labels(outcome=_outcome)
for _outcome in DELIVERY_OUTCOMES:
    for _target in TARGET_KINDS:
        DELIVERIES.labels(target=_target, outcome=_outcome)


class _Reading:
    """A gauge's value, read from a function on every scrape (0 until there is one)."""

    def __init__(self) -> None:
        self._source: Callable[[], float] | None = None

    def follow(self, source: Callable[[], float]) -> None:
        self._source = source

    def __call__(self) -> float:
        return float(self._source()) if self._source is not None else 0.0


_alarm_jobs = _Reading()
_in_flight = _Reading()
SCHEDULER_ALARM_JOBS.set_function(_alarm_jobs)
RUNS_IN_FLIGHT.set_function(_in_flight)


def observe_run(
    status: str,
    trigger: str,
    duration: float | None,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    cost: float | None = None,
) -> None:
    """Count one run's outcome; `duration` None for runs recorded without running (skipped…)."""
    RUNS.labels(status=status, trigger=trigger).inc()
    if duration is not None and math.isfinite(duration):
        RUN_DURATION.observe(max(duration, 0.0))
    if prompt_tokens > 0:
        LLM_TOKENS.labels(kind="prompt").inc(prompt_tokens)
    if completion_tokens > 0:
        LLM_TOKENS.labels(kind="completion").inc(completion_tokens)
    if cost is not None and math.isfinite(cost) and cost > 0:
        LLM_COST.inc(cost)


def observe_model_run(model: str, status: str) -> None:
    """Count one run that asked `model`, by the status it ended with."""
    MODEL_RUNS.labels(model=model, status=status).inc()


def observe_llm_request(model: str, outcome: str, seconds: float) -> None:
    """Count one request to the LLM provider and how long it took; `outcome` is "ok" or the
    failure's reason code (a short, bounded set)."""
    LLM_REQUESTS.labels(model=model, outcome=outcome).inc()
    if math.isfinite(seconds):
        LLM_LATENCY.labels(model=model).observe(max(seconds, 0.0))


def observe_delivery(outcome: str, target: str = "chat") -> None:
    """Count what became of one owed result at one kind of target: one of DELIVERY_OUTCOMES."""
    DELIVERIES.labels(target=target, outcome=outcome).inc()


def observe_claims(lateness_seconds: Iterable[float]) -> None:
    """Record how late each claimed occurrence was (pass only those that start running)."""
    for lateness in lateness_seconds:
        # A claim committed a hair before its instant (clock granularity) counts as on time.
        FIRE_LATENESS.observe(max(lateness, 0.0))


def observe_telegram_error(method: str, kind: str) -> None:
    """Count one failed Bot API call; `kind` is one of TELEGRAM_ERROR_KINDS, else "other"."""
    TELEGRAM_ERRORS.labels(
        method=method, kind=kind if kind in TELEGRAM_ERROR_KINDS else "other"
    ).inc()


def observe_trigger(outcome: str) -> None:
    """Count one POST to a trigger URL; `outcome` is one of TRIGGER_OUTCOMES."""
    TRIGGER_REQUESTS.labels(outcome=outcome if outcome in TRIGGER_OUTCOMES else "invalid").inc()


def observe_chain(outcome: str) -> None:
    """Count one run of a chain's follower recorded; `outcome` is one of CHAIN_OUTCOMES."""
    CHAIN_RUNS.labels(outcome=outcome if outcome in CHAIN_OUTCOMES else "skipped").inc()


def follow_scheduler(jobs: Callable[[], float], in_flight: Callable[[], float]) -> None:
    """Read the scheduler gauges from these functions at every scrape, e.g.
    `follow_scheduler(lambda: engine.job_count, lambda: engine.in_flight)`."""
    _alarm_jobs.follow(jobs)
    _in_flight.follow(in_flight)


def exposition(accept: str = "") -> tuple[bytes, str]:
    """The registry in the format the scraper's Accept header asks for, and its content type."""
    encoder, content_type = choose_encoder(accept)
    return encoder(REGISTRY), content_type
