"""The rules parser: the English phrases people really type, turned into a schedule and a prompt.

No LLM is involved and nothing is guessed: whatever is not fully understood is declined with
`NotUnderstoodError`, whose text is a short reason meant for the user (the LLM parser may then try).

How it works. The text is copied into a lowercase "scan" of the same length (URLs and e-mail
addresses masked so nothing inside them is read as a schedule). Small matchers, in a fixed order,
each look for one kind of schedule phrase (zone, "in 2 hours", "every 15 minutes", "from 9 to 17",
"the first monday of the month", dates, "on the 15th", "daily"/"monthly", "tomorrow", day names,
"every morning", clock times), record what they found and claim the characters they used. What is
left is the prompt. Before building the schedule, the leftovers are checked: a schedule-like word
that no matcher claimed (a day or month name, "every", a clock time, "daily", "until", ...) means
the message was not fully understood, so it is declined rather than scheduled wrongly.
`explain_rules` returns the same reading with the words each matcher claimed and what was left
(`cronpilot parse --explain`).

What counts as left-over schedule language (leftovers.py), the rule behind "never a wrong guess":
words that can only be schedule decline wherever they stand (a weekday, a clock time, a date,
"every", "except", a frequency word not describing a noun); words that may also be the task's
(numbers, ordinals, "and"/"or", "of", "for N weeks", "until", "starting" ...) decline when they
touch a claimed phrase: a number or "for 3 weeks" right before it, a modifier word right before or
after it, "and"/"or" whose other side is schedule language, another claimed phrase or the edge of
the message, "of" before schedule language. So "first and [third friday of the month]" and
"[aug 20] and 30" decline, while "summarize the top 5 stories [every day at 9]" is read.

Decisions (the product contract is PRODUCT.md, "Scheduling semantics"):

- Cron output is standard Vixie cron read in the schedule's zone, in canonical form: numbers, not
  names; runs of three or more consecutive values as ranges (`1-5`), other sets as lists (`0,6`);
  `*` for "every"; `* * * * *` for every minute and `0 * * * *` for every hour (not `*/1`).
- Times: `9am`, `9 am`, `9 a.m.`, `9:30`, `09:30`, `9:30pm`, `9.30pm`, `18:30`, `9 o'clock`,
  `nine pm`, noon/midday (12:00), midnight (00:00). A bare hour is only read as a time after
  "at"/"@" (or inside "from 9 to 17" / "between 9 and 17") and means that hour on the 24-hour
  clock: "at 9" is 09:00, "at 17" is 17:00. `9.30` without am/pm is declined (ambiguous); so are
  25:00, 9:75, 13pm, 0am, and a list or window that mixes bare hours with am/pm ("from 9am to 5").
  Also `9.30` after "at" (elsewhere it may be a price), `9h30`, "half past 8" (08:30), "quarter
  past 9" (09:15), "quarter to 6" (05:45): these read like a bare hour (24-hour, moved by
  "tonight"). "twice a day at 8 and 20" needs exactly as many times as it says.
- Parts of day: morning 08:00, afternoon 14:00, evening 18:00, night/tonight 21:00. With a clock
  time the part of day must agree: an hour 1-11 written without am/pm and without a leading zero
  is moved to the afternoon/evening when the words say so ("tonight at 8" is 20:00, "each evening
  at 6:30" is 18:30, but "every evening at 06:30" is declined); any other disagreement
  ("tomorrow morning at 9pm", "tonight at 1") is declined. Accepted hours: morning 04-11,
  afternoon 12-17, evening 16-23, night 18-23.
- Days without a time run at 09:00, recurring or one-shot ("every monday", "tomorrow").
  "today" with no time at all is declined (which time?).
- Several times in one cron only when they form a grid: "at 9 and 17" is `0 9,17`, "at 9:00 and
  9:30" is `0,30 9`; "at 9 and 17:30" is declined (`0,30 9,17` would fire four times).
- "every weekend", "on weekends", "weekends" all mean Saturday and Sunday (`0,6`).
  "on monday" (singular) is a one-shot; "mondays", "every monday", or two or more days
  ("on monday and thursday", "mon, wed and fri", "mon-fri") repeat. Day ranges may wrap
  ("fri-mon" is `0,1,5,6`).
- Periods: every N minutes is `*/N` when N divides 60 (N < 60), otherwise an interval of N*60 s
  counted from now (so "every 60 minutes" is an interval, "every hour"/"hourly" is `0 * * * *`);
  every N hours is `0 */N` when N divides 24 (N < 24), otherwise an interval; every N seconds is
  an interval (the validator applies the minimum); every N days or weeks (N > 1, also "every
  other week/day", "every 2nd week", "fortnightly", "every other monday") is an interval from
  now, or from its first run when a time or one weekday is given ("every 2 weeks on friday at 5pm"
  starts on the first Friday 17:00 ahead): whole-day intervals step in local days, so the time
  holds across DST. Two weekdays with it are declined. "every 1 day" is "every day" and
  "every 1 week"/"weekly"/"every week" with a day ("weekly on monday") is that day; "weekly" with
  no day and no time is an interval of 7 days from now, with a time but no day it is declined.
  A period can be limited to days ("every 30 minutes on weekdays" is `*/30 * * * 1-5`) only when
  it is a cron.
- Windows: hour steps include the end hour ("every hour from 9 to 17" is `0 9-17`, "every 2
  hours from 8 to 20" is `0 8-20/2`; the minute of the start is kept: "every hour from 9:30 to
  17" is `30 9-16`); minute steps exclude it ("every 30 minutes between 9am and 5pm" is
  `*/30 9-16`, last run 16:30) and need whole-hour bounds and a step dividing 60. Windows across
  midnight are declined. A window without a period is declined.
- Monthly: "monthly"/"every month" alone is the 1st at 09:00; "on the 1st and 15th of every month"
  is `1,15`; "the last day of the month" is `L`; "the first monday of every month" is `1#1`, up to
  "fifth" (`#5`, skips months without one). "of the month" counts as "every month". A day of the
  month or an n-th weekday without any "every month"/"monthly" is declined (once or monthly?),
  "every second tuesday" without "of the month" is declined (fortnightly or the 2nd of the
  month?); "every 15th" with nothing after it is monthly; "the last friday of the month" is `5L`;
  "every quarter"/"quarterly" is the 1st of January, April, July and October. Days 29-31 are
  taken literally (they skip shorter months; the confirmation card shows the next runs).
- Yearly: "every year on March 3", "every December 24", "annually on 1 jan", "on march 3 every
  year" give `M H D Mo *`. February 29 is accepted (runs in leap years).
- One-shots: "today/tonight/this evening" must still be ahead ("that time has already passed
  today"); "next monday" is the coming Monday, in 7 days if today is Monday; "on friday"/"friday"
  is the coming Friday, today if today is Friday and the time is still ahead, else in 7 days;
  "this friday" is the same except that a passed time today is declined; "the day after tomorrow"
  is supported; a date without a year is this year if still ahead, else the next year in which
  the date exists; a date with a year must be ahead; "Thursday, December 24" is checked for
  agreement; a time alone ("at 8pm") is today if still ahead, else tomorrow.
- "in N seconds/minutes/hours/days/weeks" (also "in an hour and a half", "in 1 hour and 30
  minutes", "in half an hour", "N minutes from now") is the exact instant now + N of elapsed
  time, computed in UTC, so DST does not shift it. "in 3 days at 9" is the calendar day three days
  from today at 09:00.
- A local time that falls in a spring-forward gap moves to the first valid instant after it
  (02:30 -> 03:00); in the repeated fall-back hour the first occurrence is used.
- Zones: "<city> time" / "in <city> time" where the city is the last part of an IANA name
  (underscores as spaces, case-insensitive, regions Africa ... Pacific only, so legacy names like
  "US/Pacific" are not cities; a few English words such as "christmas", "wake", "north" are not
  cities either), full IANA names anywhere ("Europe/Berlin"), "UTC"/"GMT" after a time or as
  "in UTC"/"UTC time", and "Z" right after a time ("18:00Z"). "local time"/"my time" means the
  chat's zone. An unknown "in Foo time" or "at 9 Foo time" is declined,
  and so is a city right after a time without "time" ("at 9 Berlin": a zone or a place?).
  The text's zone is the schedule's zone and the times are read in it.
- Explicit cron: when the first five whitespace-separated tokens all look like cron fields (the
  minute and hour fields numeric), they are passed through unchanged with source "cron" and the
  rest is the prompt (zone phrases in it still apply). The Vixie macros (@daily, @hourly, ...)
  at the start are accepted as well and written out as five fields.
- The prompt is the text without the schedule phrases. Fragments made only of punctuation are
  dropped, a schedule set off by commas on both sides takes one comma with it, empty brackets go,
  punctuation left dangling at either end is removed (a final "." or "!" that belongs to the
  user's sentence stays, a final "?" always stays), runs of spaces become one (line breaks are
  kept), and the first letter is capitalised. Nothing else is rewritten.
- Frequency adjectives are part of the prompt when a determiner precedes them ("my daily
  briefing", "the weekly report"). Otherwise "daily" (and hourly/weekly/monthly/yearly/annually/
  nightly/everyday) is a schedule when it is the first word ("Daily news at 9": daily at 9,
  prompt "News") or ends a phrase (followed by punctuation, the end, a time, or "at"/"on"/...);
  elsewhere ("summarize daily news every morning") it is declined as ambiguous.
- "today"/"tomorrow"/"tonight" after "for"/"of"/"about" or with "'s" belong to the prompt
  ("tomorrow's weather", "the news for today").
- Words that change the meaning of a schedule next to it are declined rather than ignored
  (unless a matcher reads them: "starting next monday", "every other week", "twice a day at 9
  and 21"): "until", "except", "but not", "starting", "before", "after", "around", "or",
  "during", "for 2 weeks", "for an hour", "in Paris" right after a time, a number right after a
  schedule phrase ("every day 10 UTC", "every monday 5 tips") or right before it ("8 [every
  day]"), and the joined words described above.
- Numeric dates: `31/12` and `12/31` when only one reading is a date (`03/04` is declined and
  asks for the month as a word; `05/05` is fine), `31.12.` and `31.12.2026` day first.
- Misspellings (misspellings.py): a word close to one schedule word and not an English word is
  read as that word when the corrected word becomes part of the schedule, and the request lists
  the correction; otherwise the message is declined. Unclaimed day abbreviations that are not
  English words ("thurs"), "sun"/"sat"/"wed" next to the schedule, "ever day", cron fields after a
  frequency word, and past references next to the schedule ("yesterday at 5pm", "last monday at
  9") are declined. "daily"/"weekly" inside the task are fine when a recurring schedule is stated
  elsewhere and a noun follows ("send weekly wins every friday"). A lone plural day inside the
  text ("I love mondays") needs a time to be a schedule.
- N-th weekdays (days.py): lists ("the 2nd and 4th tuesday of the month" `2#2,2#4`, "every last
  and first monday" `1#1,1L`, "the first monday and third friday of each month" `1#1,5#3`); with
  "every" and no "of the month" a list, the first or the last is monthly, a single 2nd-5th is not
  ("every 3rd friday": every three weeks?). With a month: "last monday of may" is once, the next
  one ahead; "every fourth thursday in november"/"each year on the second sunday of may" repeat
  yearly (`0 9 * 11 4#4`); "the first friday of next month" is once. "every 10th day of the
  month" is the 10th; "every 4th day"/"every third week" are periods.
- Months (months.py): "from april through june", "between march and october", "in december",
  "in may and june" limit a repeating schedule to those months (the cron's month field, yearly);
  they must touch the rest of the schedule. A one-shot with only a month declines (which day?).
- Every N months (N dividing 12) on a day (the 1st if none, like "monthly") or an n-th weekday:
  the months from the first such day ahead ("every 3 months on the 4th" on 26 November: December,
  March, June, September); "every other month", "semiannually", "the 4th of every other month".
  "every 2 years" declines.
- Starts (starts.py): "starting|beginning|from <day>" (tomorrow, next monday, 1 Nov, 2026-12-01;
  "from" not before a range) give a repeating schedule its first day: an interval's first run,
  a cron's start (`run_at`: no run before it; validation drops a start that holds nothing back).
  "starting at 7pm" places a period's runs ("every 12 hours starting at 7pm" is `0 7,19`; "every
  5 hours starting at 9" an interval from the next 09:00) or is the time of a daily schedule.
  A start with a one-shot, "starting next week" and "starting in january" decline.
- Windows off the hour: the runs are the steps from start to end, both included, when they make
  a grid of minutes x hours ("every 30 minutes between 9:15 and 17:45" is `15,45 9-17`); else the
  end alone is dropped when it is the one run off the grid (the whole-hour rule above); else
  declined.
- Dates: lists ("every 3/15 and 10/15", "every march 15 and september 15", "every aug 20 and
  30") repeat yearly when their days and months make one cron, else decline; "on the 12th of next
  month"; ordinal words ("march first", "the twenty-first of december"; a word before the month
  needs "of").
- Offsets: "in 3 months" (calendar months, the same local time, the month's last day when it has
  no such day), "in a year", "in 1 month and 3 days"; with hours it declines. "a week from
  tomorrow", "two weeks from today" are days (09:00 unless a time is given); "1 week hence".
- Times also: `0930`, `1745`, `1700 hours` after "at" (a round `1000` only when the sentence or
  the schedule goes on: "at 1000 followers"), `930am`, `8:30a`, "at 5p", "10 past 2", "twenty-five
  past 7", "5 minutes to 9", "6 in the morning" and "8 tonight" after a day or at the start.
- Zones: "UTC+2", "GMT-05:30", "(UTC+5:45)" after a time or as "in UTC+2" are fixed-offset zones
  (`UTC+02:00`; see scheduler/schedules/schedule.py); abbreviations after a time that name one
  clock (zones.py: EST/EDT/ET New York, PST Los Angeles, CET, JST ...) are that clock's zone, with
  its daylight saving; ambiguous ones (IST, CST, BST, AST, MST, AEST, ACST) and two-letter ones not
  in capitals decline.
- Frequency words: "once a week/month/year", "N times a week" with that many days, "once every 10
  days"; a first-word adjective before a noun ("Weekly wrap-up every friday") stays in the prompt
  when "every"/"each" states the repeat elsewhere. Words of their own that look like misspellings
  of schedule words ("biweekly", "bimonthly", "semimonthly") are never corrected; the ambiguous
  ones decline.
- Still declined, as not worth the risk: "9 to 5" without "from", "12 noon", "10 to 8" (07:50 or a
  window?), "tom" first in the message (tomorrow or Tom?), and "today"/"tomorrow" inside a
  repeating task's prompt unless written "for tomorrow"/"tomorrow's".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Final, Literal

from core.errors import N_, NotUnderstoodError
from scheduler.parsing.rules.build import build_schedule
from scheduler.parsing.rules.dates import match_dates, match_month_days
from scheduler.parsing.rules.days import (
    match_days,
    match_frequency_words,
    match_nth_weekdays,
    match_relative_days,
)
from scheduler.parsing.rules.explicit_cron import explicit_cron
from scheduler.parsing.rules.intervals import match_offsets, match_periods
from scheduler.parsing.rules.leftovers import (
    check_leftovers,
    check_past,
    check_zone_words,
    not_sure_of,
)
from scheduler.parsing.rules.misspellings import corrected, misspellings
from scheduler.parsing.rules.months import match_months
from scheduler.parsing.rules.prompt import prompt_of
from scheduler.parsing.rules.scan import NO_SCHEDULE, Found, Text, When
from scheduler.parsing.rules.starts import match_starts
from scheduler.parsing.rules.times import (
    match_hours_before_parts,
    match_parts_of_day,
    match_times,
    match_windows,
)
from scheduler.parsing.rules.zones import match_zone, read_zone_after
from scheduler.schedules.schedule import ParsedRequest, Schedule, canonical_zone, zone_for
from storage.records import TaskKind

__all__ = ["Consumed", "Reading", "explain_rules", "parse_rules"]

_MATCHERS: Final[tuple[Callable[[Text, Found], None], ...]] = (
    match_zone,
    match_offsets,
    match_starts,
    match_dates,
    match_periods,
    match_windows,
    match_nth_weekdays,
    match_month_days,
    match_months,
    match_frequency_words,
    match_hours_before_parts,
    match_relative_days,
    match_days,
    match_parts_of_day,
    match_times,
)


@dataclass(frozen=True, slots=True)
class Consumed:
    """Words one rule read as schedule: `rule` is the matcher ("times", "days", "zone" ...)."""

    rule: str
    words: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Reading:
    """How the rules read a message (`cronpilot parse --explain`): the words each rule consumed,
    in the order they stand, what was left (the prompt), and the outcome: the request, or why
    it was declined. Positions are in `text`, the message as read (misspellings corrected)."""

    text: str
    consumed: tuple[Consumed, ...]
    left: str
    request: ParsedRequest | None
    declined: NotUnderstoodError | None
    corrections: tuple[tuple[str, str], ...] = ()


@dataclass
class _Trace:
    consumed: list[Consumed] = field(default_factory=list)
    text: str = ""
    left: str = ""
    corrections: tuple[tuple[str, str], ...] = ()


def parse_rules(
    text: str, *, now: datetime, timezone: str, require_prompt: bool = True
) -> ParsedRequest:
    """The schedule and task prompt in `text`, or NotUnderstoodError with a reason for the user.

    With `require_prompt=False` a text that is only a schedule ("only on weekdays at 8am", for
    a change to an existing task) is accepted and its prompt is what was left, maybe nothing.

    `now` must be aware; `timezone` is the chat's zone, used unless the text names another.
    Raises ValueError for a naive `now` and ScheduleError for an unknown `timezone` (both are
    the caller's mistakes, not the user's).

    A misspelled schedule word is read as the word it stands for only when that is unambiguous
    and the corrected word becomes part of the schedule; the request then lists the correction.
    Otherwise the message is declined: a misspelling is never left in the prompt.
    """
    return _read(text, now, timezone, require_prompt=require_prompt, trace=None)


def explain_rules(text: str, *, now: datetime, timezone: str) -> Reading:
    """What `parse_rules` makes of `text`, with which words each rule consumed and what was
    left, whether it understood the message or declined it."""
    trace = _Trace(text=text, left=text)
    try:
        request = _read(text, now, timezone, require_prompt=True, trace=trace)
    except NotUnderstoodError as declined:
        return Reading(trace.text, _ordered(trace), trace.left, None, declined, trace.corrections)
    return Reading(trace.text, _ordered(trace), trace.left, request, None, trace.corrections)


def _ordered(trace: _Trace) -> tuple[Consumed, ...]:
    return tuple(sorted(trace.consumed, key=lambda consumed: consumed.start))


def _read(
    text: str, now: datetime, timezone: str, *, require_prompt: bool, trace: _Trace | None
) -> ParsedRequest:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    chat_zone = canonical_zone(timezone)
    typos = misspellings(Text(text).scan)
    if not typos:
        return _parse(Text(text), now, chat_zone, require_prompt=require_prompt, trace=trace)
    for typo in typos:
        if typo.meant is None:
            raise not_sure_of(typo.typed)
    fixed, spans = corrected(text, typos)
    corrections = tuple((typo.typed, typo.meant or "") for typo in typos)
    if trace is not None:
        trace.corrections = corrections
    message = Text(fixed)
    try:
        request = _parse(message, now, chat_zone, require_prompt=require_prompt, trace=trace)
    except NotUnderstoodError:
        raise not_sure_of(typos[0].typed) from None
    for typo, (start, end) in zip(typos, spans, strict=True):
        if not message.covers(start, end):
            raise not_sure_of(typo.typed)
    return replace(request, corrections=corrections)


def _parse(
    message: Text, now: datetime, chat_zone: str, *, require_prompt: bool, trace: _Trace | None
) -> ParsedRequest:
    try:
        return _parse_message(message, now, chat_zone, require_prompt=require_prompt, trace=trace)
    finally:
        if trace is not None:
            trace.text = message.original
            trace.left = prompt_of(message)


def _parse_message(
    message: Text, now: datetime, chat_zone: str, *, require_prompt: bool, trace: _Trace | None
) -> ParsedRequest:
    found = Found()
    source: Literal["rules", "cron"]
    cron = explicit_cron(message)
    if cron is not None:
        _record(trace, message, "cron", 0)
        # "0 9 * * 1-5 UTC summarize HN", "0 9 * * 1-5 EST ..."
        end = message.spans[0][1]
        zone_end = read_zone_after(message, found, end)
        if zone_end > end:
            message.claim(end, zone_end)
        match_zone(message, found)
        _record(trace, message, "zone", 1)
        check_zone_words(message)
        schedule = Schedule(kind=TaskKind.CRON, timezone=found.zone or chat_zone, cron=cron)
        source = "cron"
    else:
        for matcher in _MATCHERS:
            claimed = len(message.spans)
            matcher(message, found)
            _record(trace, message, matcher.__name__.removeprefix("match_"), claimed)
        check_past(message)
        check_leftovers(message, found)
        if not found.schedule_words:
            raise NotUnderstoodError(NO_SCHEDULE)
        zone_name = found.zone or chat_zone
        zone = zone_for(zone_name)
        schedule = build_schedule(found, When(zone_name, zone, now.astimezone(zone)))
        source = "rules"
    prompt = prompt_of(message)
    if not prompt and require_prompt:
        raise NotUnderstoodError(N_("I understood when, but not what to do then."))
    return ParsedRequest(schedule=schedule, prompt=prompt, source=source)


def _record(trace: _Trace | None, message: Text, rule: str, claimed: int) -> None:
    """Note the spans a rule claimed (those after the first `claimed`)."""
    if trace is None:
        return
    for start, end in message.spans[claimed:]:
        words = message.original[start:end].strip()
        trace.consumed.append(Consumed(rule, words, start, end))
