"""Throttling outgoing messages the way Telegram counts them.

PTB's AIORateLimiter throttles every request that names a chat, so "typing…" actions and
getChatMember lookups would eat the 30-messages-a-second budget that results need. This subclass
throttles only the methods that post or change messages, and adds Telegram's per-chat pace of
about one message a second, which AIORateLimiter leaves out.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import AIORateLimiter

from cronpilot import metrics

MESSAGE_METHODS = frozenset(
    {
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
        "sendPhoto",
        "sendDocument",
        "sendLocation",
        "copyMessage",
        "forwardMessage",
    }
)
# Telegram: about one message a second in any one chat, with short bursts tolerated.
PER_CHAT_RATE = 1.0
PER_CHAT_BURST = 3
_MAX_CHAT_LIMITERS = 2048

JSONish = bool | dict[str, Any] | list[dict[str, Any]]


class MessageRateLimiter(AIORateLimiter):
    def __init__(
        self,
        *,
        max_retries: int = 3,
        per_chat_rate: float = PER_CHAT_RATE,
        per_chat_burst: int = PER_CHAT_BURST,
        overall_max_rate: float = 30,
        group_max_rate: float = 20,
    ) -> None:
        super().__init__(
            max_retries=max_retries,
            overall_max_rate=overall_max_rate,
            group_max_rate=group_max_rate,
        )
        self._per_chat_rate = per_chat_rate
        self._per_chat_burst = per_chat_burst
        self._chat_limiters: dict[int | str, AsyncLimiter] = {}

    def _chat_limiter(self, chat_id: int | str) -> AsyncLimiter:
        limiter = self._chat_limiters.get(chat_id)
        if limiter is None:
            if len(self._chat_limiters) >= _MAX_CHAT_LIMITERS:
                # Forget the idle ones; a full limiter has no history worth keeping.
                for key, idle in list(self._chat_limiters.items()):
                    if idle.has_capacity(idle.max_rate):
                        del self._chat_limiters[key]
            # A bucket of `burst` messages that refills at `rate` a second.
            limiter = AsyncLimiter(
                max_rate=self._per_chat_burst,
                time_period=self._per_chat_burst / self._per_chat_rate,
            )
            self._chat_limiters[chat_id] = limiter
        return limiter

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONish]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONish:
        callback = _counting_errors(callback, endpoint)
        if endpoint not in MESSAGE_METHODS:
            return await callback(*args, **kwargs)
        chat_id = data.get("chat_id")
        if self._per_chat_rate and isinstance(chat_id, int | str):
            async with self._chat_limiter(chat_id):
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )


def _error_kind(error: TelegramError) -> str:
    # Subclasses first: BadRequest and TimedOut are NetworkErrors too.
    for kind, error_type in (
        ("retry_after", RetryAfter),
        ("forbidden", Forbidden),
        ("bad_request", BadRequest),
        ("timeout", TimedOut),
        ("network", NetworkError),
    ):
        if isinstance(error, error_type):
            return kind
    return "other"


def _counting_errors(
    callback: Callable[..., Coroutine[Any, Any, JSONish]], endpoint: str
) -> Callable[..., Coroutine[Any, Any, JSONish]]:
    """Count every failed Bot API request (each retry too) in cronpilot_telegram_errors_total."""

    async def counted(*args: Any, **kwargs: Any) -> JSONish:
        try:
            return await callback(*args, **kwargs)
        except TelegramError as error:
            metrics.observe_telegram_error(endpoint, _error_kind(error))
            raise

    return counted
