"""How often one person may ask: a sliding window per user, and one answer per period to
people who are not allowed at all. In memory, per process: it protects the bot and the LLM bill
from a flood, it is not an accounting."""

from __future__ import annotations

import collections
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from scheduler.clock import Clock

# Forget idle people once this many are tracked, so a flood of ids cannot grow memory forever.
_MAX_TRACKED = 10_000


class Verdict(Enum):
    ALLOW = "allow"
    # Over the limit, and not told yet in this period: say so once.
    WARN = "warn"
    # Over the limit and already told (or a stranger already answered): say nothing.
    IGNORE = "ignore"


@dataclass(frozen=True, slots=True)
class LimitSettings:
    # Messages one allowed user may send per window.
    messages_per_window: int = 20
    window: timedelta = timedelta(minutes=1)
    # A user who is not allowed hears so once per this period.
    stranger_period: timedelta = timedelta(hours=1)


class RequestLimits:
    def __init__(self, clock: Clock, settings: LimitSettings | None = None) -> None:
        self._clock = clock
        self._settings = settings or LimitSettings()
        self._recent: dict[int, collections.deque[datetime]] = {}
        self._warned_until: dict[int, datetime] = {}
        self._strangers: dict[int, datetime] = {}

    def message(self, user_id: int) -> Verdict:
        """An allowed user sent a message: may the bot act on it?"""
        now = self._clock.now()
        settings = self._settings
        recent = self._recent.get(user_id)
        if recent is None:
            self._forget_idle(now)
            recent = self._recent[user_id] = collections.deque()
        while recent and recent[0] <= now - settings.window:
            recent.popleft()
        if len(recent) < settings.messages_per_window:
            recent.append(now)
            return Verdict.ALLOW
        warned_until = self._warned_until.get(user_id)
        if warned_until is not None and warned_until > now:
            return Verdict.IGNORE
        self._warned_until[user_id] = recent[0] + settings.window
        return Verdict.WARN

    def stranger(self, user_id: int) -> bool:
        """A user who is not allowed wrote: True when they should be told (once a period)."""
        now = self._clock.now()
        told = self._strangers.get(user_id)
        if told is not None and told > now - self._settings.stranger_period:
            return False
        if len(self._strangers) >= _MAX_TRACKED:
            cutoff = now - self._settings.stranger_period
            self._strangers = {key: at for key, at in self._strangers.items() if at > cutoff}
        self._strangers[user_id] = now
        return True

    def not_told(self, user_id: int) -> None:
        """The answer `stranger` asked for was not sent after all (the bot was busy): the next
        time they write, they are told."""
        self._strangers.pop(user_id, None)

    def _forget_idle(self, now: datetime) -> None:
        if len(self._recent) < _MAX_TRACKED:
            return
        cutoff = now - self._settings.window
        self._recent = {
            user: times for user, times in self._recent.items() if times and times[-1] > cutoff
        }
        self._warned_until = {
            user: until for user, until in self._warned_until.items() if until > now
        }
