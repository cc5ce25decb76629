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
from telegram.ext import AIORateLimiter

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
PER_CHAT_RATE = 1.0  # messages per second in any one chat
_MAX_CHAT_LIMITERS = 2048

JSONish = bool | dict[str, Any] | list[dict[str, Any]]


class MessageRateLimiter(AIORateLimiter):
    def __init__(self, *, max_retries: int = 3) -> None:
        super().__init__(max_retries=max_retries)
        self._chat_limiters: dict[int | str, AsyncLimiter] = {}

    def _chat_limiter(self, chat_id: int | str) -> AsyncLimiter:
        limiter = self._chat_limiters.get(chat_id)
        if limiter is None:
            if len(self._chat_limiters) >= _MAX_CHAT_LIMITERS:
                # Forget the idle ones; a full limiter has no history worth keeping.
                for key, idle in list(self._chat_limiters.items()):
                    if idle.has_capacity(idle.max_rate):
                        del self._chat_limiters[key]
            limiter = AsyncLimiter(max_rate=1, time_period=1 / PER_CHAT_RATE)
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
        if endpoint not in MESSAGE_METHODS:
            return await callback(*args, **kwargs)
        chat_id = data.get("chat_id")
        if isinstance(chat_id, int | str):
            async with self._chat_limiter(chat_id):
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )
