"""Token buckets: one per API caller (a token, or a Mini App user), where bursts are fine and
floods are not; and one per client address for failed sign-ins, so guessing tokens is slow.

A request over its budget is refused at once with the seconds it must wait (the 429's
Retry-After), and a failed sign-in is counted after it failed. aiolimiter's leaky bucket holds
the same budget but is made to make a caller wait: it can say whether there is room, never how
long until there is, and it keeps time on the event loop's clock, where this one takes a clock
the tests set. `limits` refuses and says when, but has no token bucket: after a burst its
windows refuse for a whole window's length, where this bucket lets one request a second through.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

# Sixty requests at once, then one a second: a dashboard refresh or a script's loop fits.
BURST = 60
PER_SECOND = 1.0
# Failed sign-ins from one address: ten, then one every ten seconds.
FAILURES_BURST = 10
FAILURES_PER_SECOND = 0.1
# Buckets idle this long are full again anyway; forgetting them bounds the memory.
FORGET_AFTER_SECONDS = 3600.0


class SignInLimiter:
    """Token buckets by key over the API's sign-ins: every request signs in (a token or initData)
    and takes from its caller's bucket; a failed sign-in takes from its address's."""

    def __init__(
        self,
        *,
        burst: int = BURST,
        per_second: float = PER_SECOND,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._burst = float(burst)
        self._per_second = per_second
        self._monotonic = monotonic
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> int | None:
        """Take one request for `key`; None when allowed, else whole seconds to wait."""
        now = self._monotonic()
        if len(self._buckets) > 10_000:
            self._forget_idle(now)
        level, then = self._buckets.get(key, (self._burst, now))
        level = min(self._burst, level + (now - then) * self._per_second)
        if level < 1.0:
            self._buckets[key] = (level, now)
            return max(1, math.ceil((1.0 - level) / self._per_second))
        self._buckets[key] = (level - 1.0, now)
        return None

    def waiting(self, key: str) -> int | None:
        """Whole seconds `key` must still wait before its next request, without taking one."""
        now = self._monotonic()
        level, then = self._buckets.get(key, (self._burst, now))
        level = min(self._burst, level + (now - then) * self._per_second)
        if level < 1.0:
            return max(1, math.ceil((1.0 - level) / self._per_second))
        return None

    def _forget_idle(self, now: float) -> None:
        self._buckets = {
            key: (level, then)
            for key, (level, then) in self._buckets.items()
            if now - then < FORGET_AFTER_SECONDS
        }
