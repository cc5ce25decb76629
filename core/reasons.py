"""Why a run or a follow-up ended as it did, and why a task was paused: a code and its facts.

A reason is a frozen dataclass that declares everything about itself: its `code` (what runs and
follow-ups store in `reason_code`), its facts (the dataclass fields, stored as JSON in
`reason_facts`), its English `sentence` with a placeholder for each fact (marked `N_`, so it is
also the message the bot's catalogs translate), and whether it is `transient`: likely to go
away by itself, so that trying again later without changing anything is worth it (the runner
retries the model on those, see scheduler/llm.py). `REASONS` lists them all; `load` reads a
stored one back. Nothing is ever read back from a sentence.

The words belong to the doors: `message()` is the English for the HTTP API, the terminal and the
logs; the bot says the same sentence in the chat's language from the same facts
(`Translator.reason` in bot/i18n.py).

A new reason: a class here with its code, facts, sentence and transience, listed in `REASONS`;
then `pybabel extract` / `update` and its translations (README, Translations). No door changes.
A code, once released, keeps its meaning: stored rows carry it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias, get_type_hints

from core.errors import N_

# A fact: a number, a text (as the model, a provider or a user wrote it, or a name of ours), or
# another reason (the last failure inside "it failed 3 times in a row").
Fact: TypeAlias = "int | float | str | Reason"


@dataclass(frozen=True, slots=True)
class Reason:
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


# --- the model and its provider (scheduler/llm.py) -----------------------------------------------


@dataclass(frozen=True, slots=True)
class ModelTimedOut(Reason):
    code = "model_timeout"
    sentence = N_("the model did not answer within {seconds} s")
    transient = True
    seconds: float


@dataclass(frozen=True, slots=True)
class UnreadableAnswer(Reason):
    code = "unreadable_answer"
    sentence = N_("the model's answer could not be read")


@dataclass(frozen=True, slots=True)
class NoChoices(Reason):
    code = "no_choices"
    sentence = N_("the model sent an answer with no choices")


@dataclass(frozen=True, slots=True)
class BadApiBase(Reason):
    code = "bad_api_base"
    sentence = N_("the LLM API base is not a valid http(s) URL")


@dataclass(frozen=True, slots=True)
class NoConnection(Reason):
    code = "no_connection"
    sentence = N_("could not connect to the LLM provider")
    transient = True


@dataclass(frozen=True, slots=True)
class ClientFailed(Reason):
    """The LLM library failed in a way of its own (`kind` is the exception's class name)."""

    code = "client_failed"
    sentence = N_("the LLM client failed ({kind})")
    kind: str


@dataclass(frozen=True, slots=True)
class RateLimited(Reason):
    """Rate limited, as the LLM library said without an HTTP answer."""

    code = "rate_limited"
    sentence = N_("the LLM provider is rate limiting")
    transient = True


@dataclass(frozen=True, slots=True)
class NoKey(Reason):
    code = "no_key"
    sentence = N_("no usable API key for model {model}")
    model: str


@dataclass(frozen=True, slots=True)
class CallFailed(Reason):
    code = "call_failed"
    sentence = N_("the LLM call for model {model} failed")
    model: str


@dataclass(frozen=True, slots=True)
class KeyRejected(Reason):
    code = "key_rejected"
    sentence = N_("the LLM provider rejected the API key (HTTP {status})")
    status: int


@dataclass(frozen=True, slots=True)
class RateLimitedHttp(Reason):
    code = "rate_limited_http"
    sentence = N_("the LLM provider is rate limiting (HTTP {status})")
    transient = True
    status: int


@dataclass(frozen=True, slots=True)
class ProviderFailed(Reason):
    """A timeout, conflict or server error on the provider's side (408, 409, 5xx)."""

    code = "provider_failed"
    sentence = N_("the LLM provider failed (HTTP {status})")
    transient = True
    status: int


@dataclass(frozen=True, slots=True)
class TooLong(Reason):
    code = "too_long"
    sentence = N_("the conversation is too long for model {model}")
    model: str


@dataclass(frozen=True, slots=True)
class ContentPolicy(Reason):
    code = "content_policy"
    sentence = N_("the LLM provider's content policy refused it")


@dataclass(frozen=True, slots=True)
class AccessRefused(Reason):
    code = "access_refused"
    sentence = N_("the LLM provider refused access (HTTP {status})")
    status: int


@dataclass(frozen=True, slots=True)
class ModelNotFound(Reason):
    code = "model_not_found"
    sentence = N_("model {model} or its API was not found (HTTP {status})")
    model: str
    status: int


@dataclass(frozen=True, slots=True)
class RequestRefused(Reason):
    code = "request_refused"
    sentence = N_("the LLM provider refused the request (HTTP {status})")
    status: int


# --- a run or a follow-up (scheduler/runner/, application/conversations.py) ------------------


@dataclass(frozen=True, slots=True)
class InternalError(Reason):
    """A bug or a library's surprise; the traceback is in the log."""

    code = "internal_error"
    sentence = N_("internal error (see the bot's log)")


@dataclass(frozen=True, slots=True)
class RunTimedOut(Reason):
    """The whole conversation with the model (tool calls included) ran past RUN_TIMEOUT_SECONDS."""

    code = "run_timeout"
    sentence = N_("no answer within {seconds} s")
    transient = True
    seconds: float


@dataclass(frozen=True, slots=True)
class EmptyAnswer(Reason):
    code = "empty_answer"
    sentence = N_("the model gave an empty answer")


@dataclass(frozen=True, slots=True)
class EndlessTools(Reason):
    code = "endless_tools"
    sentence = N_("the model kept calling tools after {steps} steps")
    steps: int


@dataclass(frozen=True, slots=True)
class BudgetSpent(Reason):
    """The chat's monthly budget is spent: the run is skipped, the follow-up not answered."""

    code = "budget_reached"
    sentence = N_("monthly budget reached")


@dataclass(frozen=True, slots=True)
class ChangeUnusable(Reason):
    """A follow-up's proposed change could not be used; `problem` is why, in English."""

    code = "change_unusable"
    sentence = N_("the proposed change could not be used: {problem}")
    problem: str


# --- the engine: skipped, missed and interrupted (scheduler/engine.py) ------------------------


@dataclass(frozen=True, slots=True)
class PreviousRunGoing(Reason):
    """Skipped: the task's previous run had not finished when this one was due."""

    code = "previous_run_going"
    sentence = N_("the previous run was still going")


@dataclass(frozen=True, slots=True)
class BotWasDown(Reason):
    """Missed: due while no bot process was running, longer ago than the grace period."""

    code = "bot_was_down"
    sentence = N_("the bot was not running at this time")


@dataclass(frozen=True, slots=True)
class BotWasDownLonger(Reason):
    """Missed, the last one recorded: the ones after it were too many to record one by one."""

    code = "bot_was_down_longer"
    sentence = N_(
        "the bot was not running at this time; later missed occurrences were not recorded one "
        "by one"
    )


@dataclass(frozen=True, slots=True)
class FoldedIntoCatchUp(Reason):
    """Missed: within the grace period, but a later occurrence ran once for all of them."""

    code = "folded_into_catch_up"
    sentence = N_("folded into the catch-up run that followed")


@dataclass(frozen=True, slots=True)
class BotStopped(Reason):
    """Interrupted: the process running it died (its heartbeat lapsed)."""

    code = "bot_stopped"
    sentence = N_("the bot stopped while this run was going")
    transient = True


@dataclass(frozen=True, slots=True)
class BotShutDown(Reason):
    """Interrupted: the bot was shut down and the run did not finish within the bound."""

    code = "bot_shut_down"
    sentence = N_("the bot was shut down before this run finished")
    transient = True


@dataclass(frozen=True, slots=True)
class AnswerInterrupted(Reason):
    """Interrupted: a follow-up's process died before it answered."""

    code = "answer_interrupted"
    sentence = N_("the bot stopped before it could answer")
    transient = True


# --- a task paused (scheduler/runner/sending.py) ----------------------------------------------


@dataclass(frozen=True, slots=True)
class FailedInARow(Reason):
    code = "failed_in_a_row"
    sentence = N_("it failed {count} times in a row; the last error was: {error}")
    count: int
    error: Reason


# --- anything else ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Other(Reason):
    """Words we cannot tell apart by code: text recorded before reasons had codes, or a stored
    reason this version does not know."""

    code = "other"
    sentence = N_("{text}")
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
    RunTimedOut,
    EmptyAnswer,
    EndlessTools,
    BudgetSpent,
    ChangeUnusable,
    PreviousRunGoing,
    BotWasDown,
    BotWasDownLonger,
    FoldedIntoCatchUp,
    BotStopped,
    BotShutDown,
    AnswerInterrupted,
    FailedInARow,
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
