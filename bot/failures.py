"""Why a run or a follow-up failed, in the chat's language.

Runs and follow-ups record their failure as an English sentence (for /history, the terminal and
the HTTP API): one of RUN_FAILURES, with its facts filled in. Read back against those sentences,
the facts come out again and the sentence is said through the catalogs.
"""

from __future__ import annotations

import functools
import re
from string import Formatter

from bot.i18n import Translator
from scheduler.engine import (
    FOLLOWUP_INTERRUPTED,
    INTERNAL_ERROR,
    INTERRUPTED_BY_CRASH,
    INTERRUPTED_BY_STOP,
)
from scheduler.runner.runner import FAILURES

RUN_FAILURES = (
    *FAILURES,
    INTERRUPTED_BY_CRASH,
    INTERRUPTED_BY_STOP,
    INTERNAL_ERROR,
    FOLLOWUP_INTERRUPTED,
)
# A fact that is itself a recorded failure ("… the last error was: {error}").
_NESTED = "error"


def run_failure(_: Translator, reason: str) -> str:
    """Why a run or a follow-up failed, as recorded (English), in the chat's language (plain
    text). A reason that is not one of RUN_FAILURES (a tool's or provider's words) stays."""
    for template, pattern in _failure_patterns():
        found = pattern.fullmatch(reason)
        if found is None:
            continue
        facts = {
            name: run_failure(_, value) if name == _NESTED else value
            for name, value in found.groupdict().items()
        }
        return _(template, **facts)
    return reason


@functools.cache
def _failure_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each recorded sentence as a pattern that gives its facts back."""
    patterns = []
    for template in RUN_FAILURES:
        parts = []
        for literal, name, _spec, _conversion in Formatter().parse(template):
            parts.append(re.escape(literal))
            if name is not None:
                parts.append(f"(?P<{name}>.+)" if name == _NESTED else f"(?P<{name}>.+?)")
        patterns.append((template, re.compile("".join(parts), re.DOTALL)))
    return tuple(patterns)
