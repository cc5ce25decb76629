"""How fast runs may start: RUN_STARTS_PER_SECOND, evenly spaced.

At 09:00 a thousand runs are due at once, and their answers can reach Telegram no faster than
about 30 a second (the bot sends 27, bot/ratelimit.py). Runs are I/O-bound but not free: each
costs the process some 25–30 ms of CPU (the LiteLLM client, the Bot API requests, the database).
Started a hundred at a time, they keep one core busy, the event loop wakes late for everything,
and the answers already waiting leave at 14–20 a second until the runs are done (the burst's
last result after 46–64 s). Started about as fast as their answers can leave, the same runs
leave the loop a third of its time, and the answers leave at 26–27 a second from the third
second on (last result after 41–43 s). Runs that wait long for their model (tens of seconds,
tools) are held back by MAX_CONCURRENT_RUNS long before this pace.

aiolimiter's AsyncLimiter(1, 1 / rate) keeps the same even spacing and no burst, but it counts
each gap from the moment the last start actually woke, and a start wakes a loop turn or two
after its timer: every late wake-up is lost time. Measured (aiolimiter 1.2.1, 140 starts at 28
a second): 26.8 a second on an idle loop, 16.3–16.6 on a loop busy in 3 ms slices, where this
pace keeps 28.0 and 27.8, since each start's moment is reserved on the schedule, not counted
from the previous wake-up.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


class Pace:
    """At most `per_second` starts a second, evenly spaced; 0 means no limit. A start that finds
    the last one long past goes at once: the pace never makes up for quiet time with a burst.

    It keeps time on the event loop's clock, which times its sleeps; tests give it a clock of
    their own (`monotonic`, in seconds) and a `sleep` that goes with it."""

    def __init__(
        self,
        per_second: float,
        *,
        monotonic: Callable[[], float] = _loop_time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_second < 0:
            raise ValueError("a pace is not negative")
        self._interval = 1 / per_second if per_second else 0.0
        self._monotonic = monotonic
        self._sleep = sleep
        self._next = -math.inf

    async def wait(self) -> None:
        """Wait for this start's moment (each caller gets the next one, first come first
        served)."""
        if not self._interval:
            return
        now = self._monotonic()
        moment = max(now, self._next)
        self._next = moment + self._interval
        if moment > now:
            await self._sleep(moment - now)
