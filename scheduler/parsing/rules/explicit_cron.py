"""A message that starts with five cron fields or a Vixie macro."""

from __future__ import annotations

import re
from typing import Final

from scheduler.parsing.rules.scan import Text
from scheduler.schedules.cron import MACROS

_CRON_NAME = r"(?:sun|mon|tue|wed|thu|fri|sat|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
_CRON_VALUE = rf"(?:[0-9]{{1,2}}|{_CRON_NAME})"
_CRON_ITEM = rf"(?:(?:\*|{_CRON_VALUE}(?:-{_CRON_VALUE})?)(?:/[0-9]{{1,2}})?|l|{_CRON_VALUE}#[0-9])"
_CRON_FIELD_RE: Final = re.compile(rf"{_CRON_ITEM}(?:,{_CRON_ITEM}){{0,59}}", re.IGNORECASE)
_CRON_TIME_ITEM = r"(?:\*|[0-9]{1,2}(?:-[0-9]{1,2})?)(?:/[0-9]{1,2})?"
_CRON_TIME_FIELD_RE: Final = re.compile(rf"{_CRON_TIME_ITEM}(?:,{_CRON_TIME_ITEM}){{0,59}}")
_CRON_HEAD_RE: Final = re.compile(r"\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)(?!\S)")
_CRON_MACRO_RE: Final = re.compile(r"\s*@(\w+)(?!\S)")


def explicit_cron(text: Text) -> str | None:
    """The five fields (or macro) the message starts with, claimed; None if it doesn't."""
    macro = _CRON_MACRO_RE.match(text.original)
    expanded = MACROS.get("@" + macro.group(1).lower()) if macro is not None else None
    if macro is not None and expanded is not None:
        text.claim(macro.start(1) - 1, macro.end())
        return expanded
    head = _CRON_HEAD_RE.match(text.original)
    if head is None:
        return None
    fields = list(head.groups())
    end = head.end()
    if fields[4][-1:] in (":", ","):  # "0 9 * * 1-5: summarize HN"
        fields[4] = fields[4][:-1]
    if not all(_CRON_TIME_FIELD_RE.fullmatch(field) for field in fields[:2]):
        return None
    if not all(_CRON_FIELD_RE.fullmatch(field) for field in fields[2:]):
        return None
    text.claim(head.start(1), end)
    return " ".join(fields)
