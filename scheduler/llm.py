"""The LLM port the task runner and the schedule parser use, and its LiteLLM implementation;
likewise `LiteLLMSearch`, LiteLLM's search API behind the `web_search` tool's port (`WebSearch`,
declared by the tool's module, scheduler/runner/tools/web_search.py).

Callers see only `LLMClient.complete`, `Completion` and the `LLMError` family, and
`LiteLLMSearch.search`, `SearchHit` and `SearchError`; everything LiteLLM-specific (its import,
its exceptions and response objects) stays in `LiteLLMClient` and `LiteLLMSearch`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import functools
import gc
import json
import logging
import math
import os
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from core import metrics
from core.errors import CronpilotError
from core.logs import REDACTED, Redactor, get_logger
from core.reasons import (
    AccessRefused,
    BadApiBase,
    CallFailed,
    ClientFailed,
    ContentPolicy,
    KeyRejected,
    ModelNotFound,
    ModelTimedOut,
    NoChoices,
    NoConnection,
    NoKey,
    ProviderFailed,
    RateLimited,
    RateLimitedHttp,
    Reason,
    RequestRefused,
    TooLong,
    UnreadableAnswer,
)
from scheduler.model_routes import ModelRoutes, answered_by, build_router, run_price

if TYPE_CHECKING:
    from core.settings import Settings

# Set before LiteLLM is imported, which reads them at import time. Operators may override any.
_LITELLM_ENVIRONMENT: Mapping[str, str] = {
    # Use the bundled model cost map instead of fetching it from GitHub at import.
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    # Use bundled copies of everything else LiteLLM would fetch on its own (Anthropic beta
    # headers, tokenizers): the bot talks to the configured provider and nothing else.
    "LITELLM_OFFLINE_MODE": "true",
    # In its default "DEV" mode LiteLLM loads the nearest `.env` into os.environ at import;
    # cronpilot's settings read `.env` themselves, and the environment must stay as given.
    "LITELLM_MODE": "PRODUCTION",
}
_LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")
# Where LiteLLM keeps the callbacks it tells of calls (its documented `litellm.callbacks`,
# `success_callback`, `failure_callback` and the lists they fill); the Router adds its own.
_LITELLM_CALLBACK_LISTS = (
    "callbacks",
    "input_callback",
    "success_callback",
    "failure_callback",
    "_async_input_callback",
    "_async_success_callback",
    "_async_failure_callback",
    "service_callback",
)

# LiteLLM is given the caller's timeout and normally reports it first, cleaning up after itself;
# this much later the call is cancelled regardless, in case the library overruns.
_OVERRUN_GRACE_SECONDS = 1.0
_DETAIL_MAX_CHARS = 200
# Key shapes providers echo back in error messages (OpenAI-style `sk-…` and kin).
_KEY_PATTERN = re.compile(r"\b(?:sk|pk|rk|gsk|xai|csk)-[A-Za-z0-9_\-]{8,}")
# LiteLLM prefixes its messages with class names: "litellm.BadRequestError: OpenAIException - …".
_LITELLM_PREFIX = re.compile(r"^(?:(?:litellm\.)?\w+(?:Error|Exception|Timeout)\s*[:-]\s*)+")
# Statuses worth retrying, as the OpenAI SDK counts them: timeout, conflict, rate limit, 5xx.
_TRANSIENT_STATUSES = frozenset({408, 409, 429})


class LLMError(CronpilotError):
    """The LLM call failed. `reason` says what kind of failure it was (core.reasons), and is
    what a chat may be told; `detail` is the provider's own words (cut short, secrets taken
    out), for the log and for the operator's `cronpilot check`. `str()` gives both."""

    def __init__(self, reason: Reason, detail: str | None = None) -> None:
        summary = reason.message()
        super().__init__(f"{summary}: {detail}" if detail else summary)
        self.reason = reason
        self.detail = detail


class TransientLLMError(LLMError):
    """Worth retrying later: a timeout, a connection error, rate limiting, a provider error."""


class PermanentLLMError(LLMError):
    """Not worth retrying: a bad key, an unknown model, a refused or malformed request."""


def failure(reason: Reason, detail: str | None = None) -> LLMError:
    """The error for a failed call: worth retrying exactly when its reason is transient."""
    kind = TransientLLMError if reason.transient else PermanentLLMError
    return kind(reason, detail)


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One function call the model asked for."""

    id: str
    name: str
    arguments: str  # raw JSON text as the model sent it; it may not be valid JSON

    def result_message(self, content: str) -> dict[str, Any]:
        """The `tool` message that answers this call, in OpenAI format."""
        return {"role": "tool", "tool_call_id": self.id, "content": content}


@dataclass(frozen=True, slots=True)
class Completion:
    """The model's answer to one request."""

    content: str | None
    tool_calls: tuple[ToolCall, ...]
    prompt_tokens: int
    completion_tokens: int
    cost: float | None  # USD, when LiteLLM knows the model's prices
    model: str
    answered_by: str = ""  # the model asked for; of MODELS, the one answering after fallbacks

    def as_message(self) -> dict[str, Any]:
        """The assistant message to append to the conversation, in OpenAI format."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in self.tool_calls
            ]
        return message


class LLMClient(Protocol):
    # `timeout` bounds one provider request and is handed on to it, which is what ASYNC109
    # (prefer a cancel scope around the call) is about; the runner adds its own overall bound.
    async def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        model: str,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        timeout: float,  # noqa: ASYNC109
    ) -> Completion: ...

    async def warm_up(self) -> None:
        """Get ready for the first call ahead of time (load libraries, open pools)."""
        ...


class LiteLLMClient:
    """`LLMClient` through LiteLLM: any provider it supports, one attempt per call.

    Retries are the caller's business (bounded backoff on `TransientLLMError`), so LiteLLM's
    and the OpenAI SDK's own retries are turned off. LiteLLM is imported on first use, in a
    worker thread: the import takes seconds and must neither slow down start-up nor block the
    event loop. `warm_up` does it ahead of time.
    """

    def __init__(
        self,
        *,
        api_base: str | None,
        api_key: str | None,
        secrets: Iterable[str] = (),
        models: Mapping[str, str] | None = None,
        fallbacks: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self._api_base = api_base or None
        self._api_key = api_key or None
        # A name of MODELS goes through LiteLLM's Router (and its fallbacks).
        self._routes = ModelRoutes(models or {}, fallbacks or {}, self._api_base, self._api_key)
        self._router: Any = None
        # Every key the provider might echo back: ours and the provider variables LiteLLM reads.
        self._redactor = Redactor([*secrets, *([api_key] if api_key else [])])
        self._litellm: Any = None

    @classmethod
    def from_settings(cls, settings: Settings) -> LiteLLMClient:
        """The client LLM_API_BASE and LLM_API_KEY describe."""
        key = settings.llm_api_key
        return cls(
            api_base=settings.llm_api_base,
            api_key=key.get_secret_value() if key else None,
            secrets=settings.secret_values(),
            models=settings.models,
            fallbacks=settings.model_fallbacks,
        )

    def __repr__(self) -> str:
        return f"LiteLLMClient(api_base={self._api_base!r})"

    async def warm_up(self) -> None:
        """Import and configure LiteLLM now rather than on the first call."""
        await self._library()

    async def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        model: str,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        timeout: float,  # noqa: ASYNC109
    ) -> Completion:
        litellm = await self._library()
        arguments: dict[str, Any] = {
            "model": model,
            # Copies: provider adapters rewrite messages and tools, and the caller's
            # conversation must stay as it was.
            "messages": [copy.deepcopy(dict(message)) for message in messages],
            "timeout": float(timeout),
            # One attempt: `num_retries` stops LiteLLM's own retry wrapper and becomes the
            # OpenAI SDK's `max_retries`, which would otherwise be 2.
            "num_retries": 0,
            "max_retries": 0,
        }
        routed = self._routes.routes(model)
        # Only when set, so provider variables (OPENAI_API_KEY, …) work; routed models have theirs.
        if self._api_base is not None and not routed:
            arguments["api_base"] = self._api_base
        if self._api_key is not None and not routed:
            arguments["api_key"] = self._api_key
        if tools is not None:
            arguments["tools"] = [copy.deepcopy(dict(tool)) for tool in tools]
        if tool_choice is not None:
            arguments["tool_choice"] = (
                tool_choice if isinstance(tool_choice, str) else copy.deepcopy(dict(tool_choice))
            )
        started = time.perf_counter()
        try:
            completion = await self._ask(litellm, arguments, model=model, timeout=timeout)
        except LLMError as error:
            metrics.observe_llm_request(model, error.reason.code, time.perf_counter() - started)
            raise
        metrics.observe_llm_request(model, "ok", time.perf_counter() - started)
        return completion

    async def _ask(
        self,
        litellm: Any,
        arguments: dict[str, Any],
        *,
        model: str,
        timeout: float,  # noqa: ASYNC109
    ) -> Completion:
        routed = self._routes.routes(model)
        try:
            async with asyncio.timeout(timeout + _OVERRUN_GRACE_SECONDS):
                if routed and self._router is None:
                    self._router = build_router(litellm, self._routes)
                target = self._router if routed else litellm
                with _unlogged(litellm) if not routed else contextlib.nullcontext():
                    response = await target.acompletion(**arguments)
        except TimeoutError:
            raise failure(ModelTimedOut(seconds=float(timeout))) from None
        # LiteLLM raises its own classes, the SDKs', httpx's and plain Python errors from its
        # response parsing; every one of them becomes an LLMError here.
        except Exception as error:
            raise _llm_error(
                error, litellm, model=model, timeout=timeout, redactor=self._redactor
            ) from error
        try:
            completion = _completion_from(response, model)
            if routed:  # the model group that answered, after any fallback
                hidden = getattr(response, "_hidden_params", None)
                completion = dataclasses.replace(completion, answered_by=answered_by(hidden, model))
        except (AttributeError, TypeError, ValueError) as error:
            raise failure(UnreadableAnswer()) from error
        return completion

    def prices_ready(self) -> bool:
        """Whether LiteLLM (and so its cost map) has loaded: a card made in the seconds after a
        start does not wait for it (PRODUCT: what needs no model works at once)."""
        return self._litellm is not None or litellm_loaded()

    async def run_cost(self, model: str, prompt: int, completion: int) -> float | None:
        """A call's price in USD from LiteLLM's cost map (scheduler/model_routes.py)."""
        return run_price(await self._library(), self._routes, model, prompt, completion)

    async def _library(self) -> Any:
        if self._litellm is None:
            self._litellm = await litellm_library()
        return self._litellm


def litellm_loaded() -> bool:
    """Whether LiteLLM has been imported and configured here (without waiting for it)."""
    return _load_litellm.cache_info().currsize > 0


async def litellm_library() -> Any:
    """LiteLLM, imported (once, in a worker thread) and configured for this package: the client,
    the search and the neighbours' other LiteLLM APIs (transcription, vision) all get it here."""
    return await asyncio.to_thread(_import_litellm)


async def supports_vision(model: str) -> bool:
    """Whether LiteLLM knows `model` to take pictures (False for a model it does not know)."""
    litellm = await litellm_library()
    try:
        return bool(litellm.supports_vision(model=model))
    except Exception:  # noqa: BLE001 - LiteLLM raises plain exceptions for names it cannot place
        return False


def call_failure(
    error: Exception, litellm: Any, *, model: str, timeout: float, redactor: Redactor
) -> LLMError:
    """The `LLMError` for an exception a LiteLLM call raised, classified as `complete` does."""
    return _llm_error(error, litellm, model=model, timeout=timeout, redactor=redactor)


# Calls made while the library loads wait for that one import (in their worker threads)
# rather than each starting its own.
_IMPORT_LOCK = threading.Lock()


def _import_litellm() -> Any:
    with _IMPORT_LOCK:
        return _load_litellm()


@functools.cache
def _load_litellm() -> Any:
    for name, value in _LITELLM_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    # Before the import, which already logs (at DEBUG) about optional modules it lacks.
    if "LITELLM_LOG" not in os.environ:  # else the operator asked for LiteLLM's own level
        for name in _LITELLM_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    # No collections while some 200 MB of objects appear: each pass over them would hold the
    # interpreter (and so the event loop, which runs beside this thread) for hundreds of
    # milliseconds. Everything made while collections were off is still in the young
    # generation, so the first collection after would be such a pass too: it is frozen (taken
    # out of every collection's sight; it lives as long as the process) before they resume.
    collecting = gc.isenabled()
    gc.disable()
    try:
        import litellm  # slow and heavy: only once an LLM is actually used
    finally:
        gc.freeze()
        if collecting:
            gc.enable()

    # No "Give Feedback / Get Help" banners printed to stdout on every error.
    litellm.suppress_debug_info = True
    _adopt_litellm_loggers()
    _prime(litellm)
    return litellm


def _prime(litellm: Any) -> None:
    """One call answered by LiteLLM itself (its documented `mock_response`: no request leaves),
    so the modules its first call imports (some sixty, a quarter of a second of CPU) load here,
    in the loading thread, rather than under the first runs, where they would hold the event
    loop."""
    try:
        litellm.completion(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "warm-up"}],
            mock_response="ready",
        )
    except Exception:  # noqa: BLE001 - a head start only: the first real call loads them too
        get_logger(__name__).debug("litellm.prime_failed", exc_info=True)


def _unlogged(litellm: Any) -> contextlib.AbstractContextManager[object]:
    """A call without LiteLLM's logging of it, when nothing would hear of it anyway.

    After every call LiteLLM builds its "standard logging payload" (a copy of the request, the
    response, the usage, the timings) and queues it for its callbacks, even when none is
    registered: some 2 ms of CPU per call, a third of the call. Calls it makes on behalf of an
    outer call that logs and bills them (its `internal_sub_call`) skip that, and that is what
    each call is here: cronpilot records its usage and cost itself. The cost is LiteLLM's all
    the same, priced while the response is read, before any logging. With a callback registered
    (an operator's own LiteLLM setup, or the Router's, whose cooldowns and fallbacks rely on
    theirs) calls are logged as usual.
    """
    if any(getattr(litellm, name, None) for name in _LITELLM_CALLBACK_LISTS):
        return contextlib.nullcontext()
    from litellm._internal_context import internal_sub_call

    return internal_sub_call()


def _adopt_litellm_loggers() -> None:
    """Route LiteLLM's records through the application's logging only.

    LiteLLM attaches its own stderr handler to its loggers, so each record would print twice,
    once in a foreign format. The handler's filters redact secrets; they move to the loggers
    so they keep doing so.
    """
    for name in _LITELLM_LOGGERS:
        library_logger = logging.getLogger(name)
        for handler in list(library_logger.handlers):
            for record_filter in handler.filters:
                if record_filter not in library_logger.filters:
                    library_logger.addFilter(record_filter)
            library_logger.removeHandler(handler)


def _completion_from(response: Any, requested_model: str) -> Completion:
    choices = getattr(response, "choices", None) or ()
    if not choices:
        raise failure(NoChoices())
    message = choices[0].message
    content = message.content if isinstance(message.content, str) else None
    calls = tuple(
        _tool_call_from(call, index) for index, call in enumerate(message.tool_calls or ())
    )
    usage = getattr(response, "usage", None)
    model = getattr(response, "model", None)
    return Completion(
        content=content,
        tool_calls=calls,
        prompt_tokens=_count(getattr(usage, "prompt_tokens", None)),
        completion_tokens=_count(getattr(usage, "completion_tokens", None)),
        cost=_cost(response),
        model=model if isinstance(model, str) and model else requested_model,
        answered_by=requested_model,
    )


def _tool_call_from(call: Any, index: int) -> ToolCall:
    arguments = call.function.arguments
    if not isinstance(arguments, str):  # a few providers hand back parsed JSON
        arguments = json.dumps(arguments)
    return ToolCall(
        id=call.id or f"call_{index}",
        name=str(call.function.name or ""),
        arguments=arguments,
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _cost(response: Any) -> float | None:
    """LiteLLM's cost of the call in USD; None when it does not know the model's prices.

    LiteLLM computes it while handling the response and leaves it in `_hidden_params`; for a
    model missing from its cost map the value is None (`litellm.completion_cost` would raise).
    """
    hidden = getattr(response, "_hidden_params", None)
    value = hidden.get("response_cost") if isinstance(hidden, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _llm_error(
    error: Exception, litellm: Any, *, model: str, timeout: float, redactor: Redactor
) -> LLMError:
    """Classify by what actually happened on the wire, then by LiteLLM's exception class.

    LiteLLM's class alone misleads: a refused connection arrives as InternalServerError and
    a 403 as a plain APIError, and some of its own bugs as APIConnectionError. The HTTP
    exchange underneath, kept in the exception chain, says what the provider did.
    """
    causes = _causes(error)
    response = next((c.response for c in causes if isinstance(c, httpx.HTTPStatusError)), None)
    if response is not None:
        return _from_status(response, error, litellm, model=model, redactor=redactor)
    if isinstance(error, litellm.Timeout) or any(
        isinstance(c, TimeoutError | httpx.TimeoutException) for c in causes
    ):
        return failure(ModelTimedOut(seconds=float(timeout)))
    if any(isinstance(c, httpx.InvalidURL | httpx.UnsupportedProtocol) for c in causes):
        return failure(BadApiBase())
    if any(isinstance(c, httpx.TransportError | ConnectionError) for c in causes):
        return failure(NoConnection())
    if not isinstance(error, tuple(litellm.LITELLM_EXCEPTION_TYPES)):
        return failure(ClientFailed(kind=type(error).__name__))
    # LiteLLM gave up without an HTTP answer: no or a refused key, an unknown provider, an
    # unreadable answer. Trying again would not change that, except for its own rate limits.
    detail = _detail(None, error, redactor)
    if isinstance(error, litellm.RateLimitError):
        return failure(RateLimited(), detail)
    if isinstance(error, litellm.AuthenticationError):
        return failure(NoKey(model=model), detail)
    return failure(CallFailed(model=model), detail)


def _from_status(
    response: httpx.Response, error: Exception, litellm: Any, *, model: str, redactor: Redactor
) -> LLMError:
    status = response.status_code
    if status == 401:
        # No detail: providers echo (part of) the rejected key.
        return failure(KeyRejected(status=status))
    detail = _detail(response, error, redactor)
    if status == 429:
        return failure(RateLimitedHttp(status=status), detail)
    if status in _TRANSIENT_STATUSES or status >= 500:
        return failure(ProviderFailed(status=status), detail)
    if isinstance(error, litellm.ContextWindowExceededError):
        return failure(TooLong(model=model), detail)
    if isinstance(error, litellm.ContentPolicyViolationError):
        return failure(ContentPolicy(), detail)
    if status == 403:
        return failure(AccessRefused(status=status), detail)
    if status == 404:
        return failure(ModelNotFound(model=model, status=status), detail)
    return failure(RequestRefused(status=status), detail)


def _causes(error: BaseException) -> list[BaseException]:
    """The exception and everything it was raised from or while handling, outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _detail(response: httpx.Response | None, error: Exception, redactor: Redactor) -> str:
    """The provider's own error message if it sent one, else LiteLLM's; short and key-free."""
    text = _provider_message(response) if response is not None else None
    if not text:
        text = _LITELLM_PREFIX.sub("", str(getattr(error, "message", None) or error))
    text = _KEY_PATTERN.sub(REDACTED, str(redactor.clean(" ".join(text.split()))))
    if len(text) > _DETAIL_MAX_CHARS:
        text = text[: _DETAIL_MAX_CHARS - 1] + "…"
    return text or "no details"


def _provider_message(response: httpx.Response) -> str | None:
    """`error.message` in OpenAI, Anthropic and Gemini bodies, `error` as text in Ollama's."""
    try:
        body = response.json()
    except (ValueError, httpx.ResponseNotRead, UnicodeDecodeError):
        return None
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        error = error.get("message")
    if not isinstance(error, str):
        error = body.get("message")
    return error if isinstance(error, str) else None


# --- web search ---------------------------------------------------------------------------------


class SearchError(CronpilotError):
    """The search failed; the message is short, for the model, and never holds the API key."""


@dataclass(frozen=True, slots=True)
class SearchHit:
    title: str
    url: str
    snippet: str


class LiteLLMSearch:
    """Web search through `litellm.asearch`: every provider LiteLLM's search API supports."""

    def __init__(
        self,
        *,
        provider: str,
        api_base: str | None,
        api_key: str | None,
        secrets: Iterable[str] = (),
    ) -> None:
        self._provider = provider
        self._api_base = api_base or None
        self._api_key = api_key or None
        self._redactor = Redactor([*secrets, *([api_key] if api_key else [])])

    @property
    def provider(self) -> str:
        return self._provider

    def __repr__(self) -> str:
        return f"LiteLLMSearch(provider={self._provider!r}, api_base={self._api_base!r})"

    async def search(
        self,
        query: str,
        *,
        max_results: int,
        timeout: float,  # noqa: ASYNC109
    ) -> list[SearchHit]:
        litellm = await litellm_library()
        arguments: dict[str, Any] = {
            "query": query,
            "search_provider": self._provider,
            "max_results": max_results,
            "timeout": float(timeout),
        }
        # Only when set, so the provider's own variables (TAVILY_API_KEY, …) keep working.
        if self._api_base is not None:
            arguments["api_base"] = self._api_base
        if self._api_key is not None:
            arguments["api_key"] = self._api_key
        try:
            # The request carries the timeout itself; this later bound only catches an overrun.
            async with asyncio.timeout(timeout + _OVERRUN_GRACE_SECONDS):
                response = await litellm.asearch(**arguments)
        except TimeoutError:
            raise SearchError(self._timed_out(timeout)) from None
        except Exception as error:  # LiteLLM's, httpx's, aiohttp's and pydantic's errors alike
            raise self._error(error, timeout) from error
        hits = []
        for result in getattr(response, "results", None) or ():
            url = getattr(result, "url", None)
            if not isinstance(url, str) or not url:
                continue
            hits.append(
                SearchHit(
                    title=_plain(getattr(result, "title", None)),
                    url=url,
                    snippet=_plain(getattr(result, "snippet", None)),
                )
            )
        return hits[:max_results]

    def _timed_out(self, timeout: float) -> str:
        return f"the search provider {self._provider} did not answer within {timeout:g} s"

    def _error(self, error: Exception, timeout: float) -> SearchError:
        causes = _causes(error)
        if any(isinstance(c, TimeoutError | httpx.TimeoutException) for c in causes) or (
            "timeout" in type(error).__name__.lower()
        ):
            return SearchError(self._timed_out(timeout))
        response = next((c.response for c in causes if isinstance(c, httpx.HTTPStatusError)), None)
        if response is not None and response.status_code in (401, 403):
            return SearchError(
                f"the search provider {self._provider} refused the API key "
                f"(HTTP {response.status_code})"
            )
        # LiteLLM appends a traceback to some of its messages; the first sentence says enough.
        detail = _detail(response, error, self._redactor).split(" Traceback (")[0]
        if response is not None:
            return SearchError(
                f"the search provider {self._provider} failed (HTTP {response.status_code}): "
                f"{detail}"
            )
        return SearchError(f"the search provider {self._provider} failed: {detail}")


def _plain(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""
