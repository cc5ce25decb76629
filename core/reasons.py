"""Why a run or a follow-up ended as it did, and why a task was paused: a code and its facts.

A reason is a class that declares everything about itself, with `@reason`: its `code` (what runs
and follow-ups store in `reason_code`), its English `sentence` with a placeholder for each fact
(marked `N_`, so it is also the message the bot's catalogs translate), whether it is `transient`
(likely to go away by itself, so that trying again later without changing anything is worth it;
the runner retries the model on those, see scheduler/llm.py), and its facts: the class's fields,
stored as JSON in `reason_facts`. `REASONS` lists them all; `load` reads a stored one back.
Nothing is ever read back from a sentence.

The words belong to the doors: `message()` is the English for the HTTP API, the terminal and the
logs; the bot says the same sentence in the chat's language from the same facts
(`Translator.reason` in bot/i18n.py).

A new reason: a class here, declared with its code, sentence, transience and facts, listed in
`REASONS`; then `pybabel extract` / `update` and its translations (README, Translations). No door
changes.
A code, once released, keeps its meaning: stored rows carry it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias, TypeVar, dataclass_transform, get_type_hints

from core.errors import N_

# A fact: a number, a text (as the model, a provider or a user wrote it, or a name of ours), or
# another reason (the last failure inside "it failed 3 times in a row").
Fact: TypeAlias = "int | float | str | Reason"


@dataclass(frozen=True, slots=True)
class Reason:
    """The base of every reason; a reason is declared with `@reason` and listed in REASONS."""

    code: ClassVar[str]
    sentence: ClassVar[str]
    transient: ClassVar[bool] = False

    def facts(self) -> dict[str, Fact]:
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    def stored(self) -> dict[str, Any]:
        """The facts as JSON: a fact that is a reason as {"code": …, "facts": {…}}."""
        return {
            name: {"code": value.code, "facts": value.stored()}
            if isinstance(value, Reason)
            else value
            for name, value in self.facts().items()
        }

    def placeholders(self, say: Callable[[Reason], str]) -> dict[str, str | int]:
        """The values for the sentence's placeholders: a fact that is a reason said by `say`,
        a number of seconds as people write it (30, not 30.0)."""
        values: dict[str, str | int] = {}
        for name, value in self.facts().items():
            if isinstance(value, Reason):
                values[name] = say(value)
            elif isinstance(value, float):
                values[name] = f"{value:g}"
            else:
                values[name] = value
        return values

    def message(self) -> str:
        """The sentence in English, its facts filled in."""
        return self.sentence.format(**self.placeholders(Reason.message))

    def shown(self) -> dict[str, Any]:
        """As the HTTP API and `cronpilot runs --json` show it: code, facts and English."""
        return {"code": self.code, "facts": self.stored(), "message": self.message()}

    def __str__(self) -> str:
        return self.message()


R = TypeVar("R", bound=Reason)


@dataclass_transform(frozen_default=True)
def reason(code: str, sentence: str, *, transient: bool = False) -> Callable[[type[R]], type[R]]:
    """Declares a reason: its code, its English sentence (marked `N_`) and whether it is
    transient; the class's fields are its facts."""

    def declare(kind: type[R]) -> type[R]:
        kind.code, kind.sentence, kind.transient = code, sentence, transient
        return dataclass(frozen=True, slots=True)(kind)

    return declare


# --- the model and its provider (scheduler/llm.py) -----------------------------------------------


@reason("model_timeout", N_("the model did not answer within {seconds} s"), transient=True)
class ModelTimedOut(Reason):
    seconds: float


@reason("unreadable_answer", N_("the model's answer could not be read"))
class UnreadableAnswer(Reason):
    pass


@reason("no_choices", N_("the model sent an answer with no choices"))
class NoChoices(Reason):
    pass


@reason("bad_api_base", N_("the LLM API base is not a valid http(s) URL"))
class BadApiBase(Reason):
    pass


@reason("no_connection", N_("could not connect to the LLM provider"), transient=True)
class NoConnection(Reason):
    pass


@reason("client_failed", N_("the LLM client failed ({kind})"))
class ClientFailed(Reason):
    """The LLM library failed in a way of its own (`kind` is the exception's class name)."""

    kind: str


@reason("rate_limited", N_("the LLM provider is rate limiting"), transient=True)
class RateLimited(Reason):
    """Rate limited, as the LLM library said without an HTTP answer."""


@reason("no_key", N_("no usable API key for model {model}"))
class NoKey(Reason):
    model: str


@reason("call_failed", N_("the LLM call for model {model} failed"))
class CallFailed(Reason):
    model: str


@reason("key_rejected", N_("the LLM provider rejected the API key (HTTP {status})"))
class KeyRejected(Reason):
    status: int


@reason(
    "rate_limited_http", N_("the LLM provider is rate limiting (HTTP {status})"), transient=True
)
class RateLimitedHttp(Reason):
    status: int


@reason("provider_failed", N_("the LLM provider failed (HTTP {status})"), transient=True)
class ProviderFailed(Reason):
    """A timeout, conflict or server error on the provider's side (408, 409, 5xx)."""

    status: int


@reason("too_long", N_("the conversation is too long for model {model}"))
class TooLong(Reason):
    model: str


@reason("content_policy", N_("the LLM provider's content policy refused it"))
class ContentPolicy(Reason):
    pass


@reason("access_refused", N_("the LLM provider refused access (HTTP {status})"))
class AccessRefused(Reason):
    status: int


@reason("model_not_found", N_("model {model} or its API was not found (HTTP {status})"))
class ModelNotFound(Reason):
    model: str
    status: int


@reason("request_refused", N_("the LLM provider refused the request (HTTP {status})"))
class RequestRefused(Reason):
    status: int


# The model and its provider failing: what the operator's alert on model errors counts.
MODEL_FAILURES: tuple[type[Reason], ...] = (
    ModelTimedOut,
    UnreadableAnswer,
    NoChoices,
    BadApiBase,
    NoConnection,
    ClientFailed,
    RateLimited,
    NoKey,
    CallFailed,
    KeyRejected,
    RateLimitedHttp,
    ProviderFailed,
    TooLong,
    ContentPolicy,
    AccessRefused,
    ModelNotFound,
    RequestRefused,
)


# --- a run or a follow-up (scheduler/runner/, application/conversations.py) ------------------


@reason("internal_error", N_("internal error (see the bot's log)"))
class InternalError(Reason):
    """A bug or a library's surprise; the traceback is in the log."""


@reason("database_unavailable", N_("the database was busy or out of reach"), transient=True)
class DatabaseUnavailable(Reason):
    """The run's database work could not get a connection (every pooled one stayed busy past
    the pool's timeout, as under CPU starvation) or lost it (storage/retry.py `unavailable`)."""


@reason("run_timeout", N_("no answer within {seconds} s"), transient=True)
class RunTimedOut(Reason):
    """The whole conversation with the model (tool calls included) ran past RUN_TIMEOUT_SECONDS."""

    seconds: float


@reason("empty_answer", N_("the model gave an empty answer"))
class EmptyAnswer(Reason):
    pass


@reason("endless_tools", N_("the model kept calling tools after {steps} steps"))
class EndlessTools(Reason):
    steps: int


@reason("budget_reached", N_("monthly budget reached"))
class BudgetSpent(Reason):
    """The chat's monthly budget is spent: the run is skipped, the follow-up not answered."""


@reason("task_cap_reached", N_("this task's monthly cap of ${cap} is spent"))
class TaskCapSpent(Reason):
    """The task spent its own monthly cap (/budget N): the run is skipped."""

    cap: str


@reason("change_unusable", N_("the proposed change could not be used: {problem}"))
class ChangeUnusable(Reason):
    """A follow-up's proposed change could not be used; `problem` is why, in English."""

    problem: str


# --- the engine: skipped, missed and interrupted (scheduler/engine.py) ------------------------


@reason("previous_run_going", N_("the previous run was still going"))
class PreviousRunGoing(Reason):
    """Skipped: the task's previous run had not finished when this one was due."""


@reason("bot_was_down", N_("the bot was not running at this time"))
class BotWasDown(Reason):
    """Missed: due while no bot process was running, longer ago than the grace period."""


@reason(
    "bot_was_down_longer",
    N_(
        "the bot was not running at this time; later missed occurrences were not recorded one "
        "by one"
    ),
)
class BotWasDownLonger(Reason):
    """Missed, the last one recorded: the ones after it were too many to record one by one."""


@reason("folded_into_catch_up", N_("folded into the catch-up run that followed"))
class FoldedIntoCatchUp(Reason):
    """Missed: within the grace period, but a later occurrence ran once for all of them."""


@reason("bot_stopped", N_("the bot stopped while this run was going"), transient=True)
class BotStopped(Reason):
    """Interrupted: the process running it died (its heartbeat lapsed)."""


@reason("bot_shut_down", N_("the bot was shut down before this run finished"), transient=True)
class BotShutDown(Reason):
    """Interrupted: the bot was shut down and the run did not finish within the bound."""


@reason("answer_interrupted", N_("the bot stopped before it could answer"), transient=True)
class AnswerInterrupted(Reason):
    """Interrupted: a follow-up's process died before it answered."""


# --- a task paused (scheduler/runner/sending.py) ----------------------------------------------


@reason("failed_in_a_row", N_("it failed {count} times in a row; the last error was: {error}"))
class FailedInARow(Reason):
    count: int
    error: Reason


# --- the task's shape: reminders, skips, a bot without a model --------------------------------


@reason("no_model", N_("no AI model is set up on this bot"))
class NoModelSetUp(Reason):
    """An AI task's run, or a question about a task, on a bot with LLM_MODEL empty or `none`."""


@reason("skipped_by_person", N_("skipped on request (/skip) by user {user_id}"))
class SkippedByPerson(Reason):
    """Someone skipped this one occurrence ahead of time, with /skip or Skip next."""

    user_id: int


# --- a result's copy to another target (scheduler/runner/targets.py) ----------------------------


@reason("target_gone", N_("the chat is gone or the bot was removed from it"))
class TargetGone(Reason):
    """A Telegram target refused a copy, and the bot can no longer see the chat."""


@reason("target_cannot_post", N_("the bot can't post there"))
class TargetCannotPost(Reason):
    """A Telegram target refused a copy: the bot is no member there any more, or (a channel) no
    administrator who may post."""


@reason(
    "target_not_admin",
    N_("user {user_id}, who chose this target, is no longer an administrator there"),
)
class TargetNotAdmin(Reason):
    """A Telegram target refused a copy, and whoever chose it no longer administers it."""

    user_id: int


@reason("target_refused", N_("Telegram refused the message: {words}"))
class TargetRefused(Reason):
    """A Telegram target refused a copy, though the bot may still post there and whoever chose
    it still administers it; `words` is Telegram's description."""

    words: str


@reason("telegram_busy", N_("Telegram did not take it for now ({words})"), transient=True)
class TelegramBusy(Reason):
    """A flood wait, a server error or a lost connection (`words` says which): tried again."""

    words: str


@reason("telegram_not_connected", N_("Telegram is not connected"))
class TelegramNotConnected(Reason):
    """A copy to a Telegram chat from a process without the bot (the terminal)."""


@reason("destination_http", N_("the service answered HTTP {status}"), transient=True)
class DestinationHttp(Reason):
    """A destination's service answered with an error status."""

    status: int


@reason("destination_unreachable", N_("could not connect"), transient=True)
class DestinationUnreachable(Reason):
    pass


@reason("destination_refused", N_("the service did not take the message"), transient=True)
class DestinationRefused(Reason):
    pass


@reason("destination_unknown", N_("no such destination in DESTINATIONS_CONFIG"))
class DestinationUnknown(Reason):
    """The destination was removed from DESTINATIONS_CONFIG after the task chose it."""


@reason("delivery_gave_up", N_("gave up after {attempts} attempts; the last error was: {error}"))
class DeliveryGaveUp(Reason):
    """A target kept failing in a way that heals by itself, and was tried as often as it is."""

    attempts: int
    error: Reason


# Why a copy to a target failed or is being tried again.
DELIVERY_FAILURES: tuple[type[Reason], ...] = (
    TargetGone,
    TargetCannotPost,
    TargetNotAdmin,
    TargetRefused,
    TelegramBusy,
    TelegramNotConnected,
    DestinationHttp,
    DestinationUnreachable,
    DestinationRefused,
    DestinationUnknown,
    DeliveryGaveUp,
)


# --- anything else ------------------------------------------------------------------------------


@reason("other", N_("{text}"))
class Other(Reason):
    """Words we cannot tell apart by code: text recorded before reasons had codes, or a stored
    reason this version does not know."""

    text: str


REASONS: tuple[type[Reason], ...] = (
    ModelTimedOut,
    UnreadableAnswer,
    NoChoices,
    BadApiBase,
    NoConnection,
    ClientFailed,
    RateLimited,
    NoKey,
    CallFailed,
    KeyRejected,
    RateLimitedHttp,
    ProviderFailed,
    TooLong,
    ContentPolicy,
    AccessRefused,
    ModelNotFound,
    RequestRefused,
    InternalError,
    DatabaseUnavailable,
    RunTimedOut,
    EmptyAnswer,
    EndlessTools,
    BudgetSpent,
    TaskCapSpent,
    ChangeUnusable,
    PreviousRunGoing,
    BotWasDown,
    BotWasDownLonger,
    FoldedIntoCatchUp,
    BotStopped,
    BotShutDown,
    AnswerInterrupted,
    FailedInARow,
    NoModelSetUp,
    SkippedByPerson,
    *DELIVERY_FAILURES,
    Other,
)
BY_CODE: Mapping[str, type[Reason]] = {kind.code: kind for kind in REASONS}


def _hints(kind: type[Reason]) -> dict[str, Any]:
    hints = get_type_hints(kind)
    return {field.name: hints[field.name] for field in dataclasses.fields(kind)}


# Each reason's facts and their types, for reading stored ones back.
_FACTS = {kind: _hints(kind) for kind in REASONS}


def load(code: str, facts: Mapping[str, Any] | None) -> Reason:
    """A stored reason as it was recorded. Facts a reason no longer declares are left out; a
    code this version does not know, or facts that do not fit, come back as `Other` with the
    code and facts as its text, so no stored row is ever unreadable."""
    kind = BY_CODE.get(code)
    given = facts or {}
    if kind is not None:
        try:
            return kind(**{name: _fact(hint, given[name]) for name, hint in _FACTS[kind].items()})
        except (KeyError, TypeError, ValueError):
            pass
    text = f"{code} {json.dumps(given, ensure_ascii=False, sort_keys=True)}" if given else code
    return Other(text=text)


def logged(reason: Reason | None) -> dict[str, str | None]:
    """A reason as fields of a log record: its code, and its sentence in English."""
    if reason is None:
        return {"reason": None, "error": None}
    return {"reason": reason.code, "error": reason.message()}


def _fact(hint: Any, value: Any) -> Fact:
    if hint is Reason and isinstance(value, Mapping) and isinstance(value.get("code"), str):
        return load(value["code"], value.get("facts"))
    if hint is str and isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise TypeError("a truth value is not a number")
    if hint is int and isinstance(value, int):
        return value
    if hint is float and isinstance(value, int | float):
        return float(value)
    raise TypeError(f"{value!r} is not a {hint}")
