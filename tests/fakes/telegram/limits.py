"""Flood limits: per chat, per group and overall, with Telegram's retry_after answers."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

# ---------------------------------------------------------------------------------------------
# Rate limiting
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimits:
    """Flood limits; the defaults are Telegram's documented ones.

    One message per second per chat with a short burst, twenty per minute in a group, thirty per
    second over all chats. Only methods that send or edit messages count.
    """

    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    per_group_per_minute: int = 20
    global_per_second: int = 30
    enabled: bool = True

    @classmethod
    def unlimited(cls) -> RateLimits:
        return cls(enabled=False)


class _Limit(Protocol):
    def wait(self, now: float) -> float:
        """Seconds until one more message is allowed (0 when it is allowed now)."""

    def take(self, now: float) -> None:
        """Count one message."""


class _TokenBucket:
    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait(self, now: float) -> float:
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1


class _SlidingWindow:
    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self.sent: deque[float] = deque()

    def wait(self, now: float) -> float:
        while self.sent and self.sent[0] <= now - self.window:
            self.sent.popleft()
        return 0.0 if len(self.sent) < self.limit else self.sent[0] + self.window - now

    def take(self, now: float) -> None:
        self.sent.append(now)


@dataclass(frozen=True)
class Refusal:
    """A message refused with 429: to which chat, when, and which limit it broke ("global",
    "chat" or "group"; the first of them that was full)."""

    chat_id: int
    at: float
    limit: str


class FloodControl:
    """Telegram's flood control as the fake server enforces it: past a limit, 429 and
    retry_after. Every refusal is kept in `refusals` (which limit, which chat, when)."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self.clock = clock
        self._global = _SlidingWindow(limits.global_per_second, 1.0)
        self._chats: dict[int, _TokenBucket] = {}
        self._groups: dict[int, _SlidingWindow] = {}
        self.refusals: list[Refusal] = []

    def acquire(self, chat_id: int, *, is_group: bool) -> int | None:
        """Count a message to ``chat_id``; None if allowed, else the seconds to retry after."""
        if not self.limits.enabled:
            return None
        now = self.clock()
        named: list[tuple[str, _Limit]] = [
            ("global", self._global),
            ("chat", self._chat_bucket(chat_id, now)),
        ]
        if is_group:
            named.append(("group", self._groups.setdefault(chat_id, self._group_window())))
        waits = [(limit.wait(now), name) for name, limit in named]
        wait = max(seconds for seconds, _ in waits)
        if wait > 0:
            broken = next(name for seconds, name in waits if seconds > 0)
            self.refusals.append(Refusal(chat_id, now, broken))
            return max(1, math.ceil(wait))
        for _, limit in named:
            limit.take(now)
        return None

    def _chat_bucket(self, chat_id: int, now: float) -> _TokenBucket:
        if chat_id not in self._chats:
            self._chats[chat_id] = _TokenBucket(
                self.limits.per_chat_per_second, self.limits.per_chat_burst, now
            )
        return self._chats[chat_id]

    def _group_window(self) -> _SlidingWindow:
        return _SlidingWindow(self.limits.per_group_per_minute, 60.0)


class ManualClock:
    """A clock that moves only when told to; pass it as ``FakeTelegram(clock=...)``."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go back")
        self.now += seconds
