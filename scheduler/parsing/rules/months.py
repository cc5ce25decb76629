"""Months a repeating schedule is limited to: "from april through june", "in december"."""

from __future__ import annotations

import re
from typing import Final

from core.errors import N_
from scheduler.parsing.rules.scan import Found, Text
from scheduler.parsing.rules.vocabulary import MONTH_WORD, MONTHS

_MONTH = rf"\b{MONTH_WORD}\.?"
# "from april through june", "between march and october", "april - june", "nov thru feb".
_RANGE_RE: Final = re.compile(
    rf"(?:\bonly\s+)?(?:\b(?P<pre>from|between)\s+)?(?P<first>{MONTH_WORD})\.?\s*"
    rf"(?P<separator>-|\bto\b|\bthrough\b|\bthru\b|\btill\b|\buntil\b|\band\b)\s*"
    rf"(?P<last>{MONTH_WORD})\b\.?(?!\s*[0-9])"
)
_SEPARATORS_AFTER: Final = {
    "from": frozenset({"-", "to", "through", "thru", "till", "until"}),
    "between": frozenset({"and"}),
    None: frozenset({"-", "through", "thru"}),
}
# "in december", "during january and february", "in the months of may, june and july".
_LIST_SEPARATOR = r"(?:\s*,\s*and\s+|\s*,\s*|\s+and\s+|\s*&\s*|\s+or\s+)"
_LIST_RE: Final = re.compile(
    rf"(?:\bonly\s+)?\b(?:in|during)\s+(?:the\s+months?\s+of\s+)?"
    rf"(?P<months>{_MONTH}(?:{_LIST_SEPARATOR}{_MONTH}){{0,11}})(?![\w'])(?!\s*[0-9])"
)
_MONTH_RE: Final = re.compile(MONTH_WORD)


def match_months(text: Text, found: Found) -> None:
    """Months named apart from a date: the months a repeating schedule runs in (cron's month
    field). A range may wrap ("from november through february"). Such a phrase must touch the
    rest of the schedule (checked with the leftovers), so "in march" inside the task is not one.
    """
    for match in _RANGE_RE.finditer(text.scan):
        if match.group("separator") not in _SEPARATORS_AFTER[match.group("pre")]:
            continue
        first, last = MONTHS[match.group("first")], MONTHS[match.group("last")]
        span = (last - first) % 12
        months = frozenset((first - 1 + step) % 12 + 1 for step in range(span + 1))
        _put(text, found, months, match)
    for match in _LIST_RE.finditer(text.scan):
        months = frozenset(MONTHS[name.group()] for name in _MONTH_RE.finditer(match["months"]))
        _put(text, found, months, match)


def _put(text: Text, found: Found, months: frozenset[int], match: re.Match[str]) -> None:
    found.put("months", months, N_("a month"))
    found.months_span = (match.start(), match.end())
    text.claim(match.start(), match.end())
