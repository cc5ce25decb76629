"""Day phrases: weekday names and groups, "tomorrow", "daily", "the first monday"."""

from __future__ import annotations

import re
from typing import Final

from core.errors import N_, NotUnderstoodError
from scheduler.parsing.rules.scan import CLAIMED, WORD_AFTER_RE, Found, Text, months_period
from scheduler.parsing.rules.vocabulary import (
    DAY_FORMS,
    DAY_GROUP,
    DAY_WORD,
    DETERMINERS,
    MONTH_SUFFIXES,
    MONTH_WORD,
    MONTHS,
    ORDINALS,
    PART_OF_DAY,
    alternation,
)

# Before a day name these make it something we don't schedule ("last monday", "every other").
_NOT_BEFORE_A_DAY: Final = frozenset(
    {"last", "past", "previous", "other", "first", "second", "third", "fourth", "fifth", "1st",
     "2nd", "3rd", "4th", "5th"}
)  # fmt: skip

# Words that may follow "daily" (& co.) when it closes a schedule phrase: "daily at 9".
FREQUENCY_FOLLOWERS: Final = frozenset(
    {"at", "on", "in", "from", "between", "and", "until", "till", "starting", "except", "around",
     "by", "before", "after", "every", "each"}
)  # fmt: skip
_ORDINAL = rf"\b(?:{alternation(ORDINALS)})\b"
_LIST_SEPARATOR = r"(?:\s*,\s*and\s+|\s*,\s*|\s+and\s+|\s*&\s*)(?:the\s+)?"
# "first and third friday", "2nd & 4th tuesdays", "last and first monday".
_ORDINALS_LIST = rf"{_ORDINAL}(?:{_LIST_SEPARATOR}{_ORDINAL}){{0,5}}"
_NTH_ITEM = rf"{_ORDINALS_LIST}\s+{DAY_WORD}(?!')"
_NTH_ITEM_RE: Final = re.compile(rf"(?P<ordinals>{_ORDINALS_LIST})\s+(?P<day>{DAY_WORD})")
_ORDINAL_RE: Final = re.compile(_ORDINAL)
_NTH_WEEKDAY_RE: Final = re.compile(
    r"(?:\b(?P<pre>on|every|each)\s+)?(?:\b(?:the|every|each)\s+)?"
    rf"(?P<items>{_NTH_ITEM}(?:{_LIST_SEPARATOR}{_NTH_ITEM}){{0,6}})"
    rf"(?:{MONTH_SUFFIXES}|(?P<in_month>\s+(?:of|in)\s+(?P<month>{MONTH_WORD})\b\.?))?"
)
_FREQUENCY_RE: Final = re.compile(
    r"\b(?P<daily>(?:every|each)\s+(?:single\s+)?day)\b"
    r"|\b(?P<weekly>(?:every|each)\s+week)\b"
    r"|\b(?P<monthly>(?:every|each)\s+month)\b"
    r"|\b(?P<yearly>(?:every|each)\s+year)\b"
    r"|\b(?P<quarterly>(?:every|each)\s+quarter)\b(?![\s-]*(?:of\s+an?\s+)?hour)"
    r"|(?:@|\b)(?P<word>daily|everyday|weekly|monthly|quarterly|yearly|annually|nightly)\b"
)
# A repeat stated with "every" or "each" elsewhere.
_REPEAT_ELSEWHERE_RE: Final = re.compile(r"\b(?:every|each)\b")
_TIMES_A_DAY_RE: Final = re.compile(
    r"\b(?P<count>once|twice|thrice|three\s+times|[1-6]\s+times)\s+(?:a|per|each|every)\s+"
    r"(?P<unit>day|week)\b"
)
# "once a month", "once a year": monthly, yearly.
_ONCE_A_RE: Final = re.compile(r"\bonce\s+(?:a|per|each|every)\s+(?P<unit>month|year)\b")
_TIMES_A_DAY: Final = {"once": 1, "twice": 2, "thrice": 3, "three times": 3}
_RELATIVE_DAY_RE: Final = re.compile(
    r"\b(?:(?P<after_tomorrow>(?:the\s+)?day\s+after\s+tomorrow)|(?P<tomorrow>tomorrow|tmrw)"
    rf"|(?P<today>today)|(?P<tonight>tonight)|this\s+(?P<this>morning|afternoon|evening))\b(?!')"
    rf"(?:\s+(?:in\s+the\s+)?(?P<part>{PART_OF_DAY})\b(?!'))?"
)
_DAY_ITEM = rf"(?:{DAY_WORD}(?:\s*(?:-|\bto\b|\bthrough\b|\bthru\b)\s*{DAY_WORD})?|{DAY_GROUP})"
_DAY_SEPARATOR = (
    r"(?:\s*,\s*and\s+|\s*,\s*|\s+and\s+|\s*&\s*|\s*/\s*|\s+(?=[a-z]{3}))"
    r"(?:(?:on|every|each)\s+)?"
)
_DAYS_RE: Final = re.compile(
    r"(?P<only>\bonly\s+)?"
    r"(?:\b(?P<pre>on\s+every|on\s+each|every|each|on|from|next|this\s+coming|this|coming|upcoming"
    r"|at)"
    r"\s+)?"
    rf"(?P<days>{_DAY_ITEM}(?:{_DAY_SEPARATOR}{_DAY_ITEM}){{0,6}})(?!')"
    rf"(?:\s+(?:in\s+the\s+)?(?P<part>{PART_OF_DAY})(?P<parts>s)?\b(?!'))?"
    r"(?P<only_after>\s+only\b)?"
)
_DAY_PART_RE: Final = re.compile(
    rf"(?P<first>{DAY_WORD})(?:\s*(?:-|\bto\b|\bthrough\b|\bthru\b)\s*(?P<last>{DAY_WORD}))?"
    rf"|(?P<group>{DAY_GROUP})"
)


def match_nth_weekdays(text: Text, found: Found) -> None:
    """ "the first monday of the month", "every 2nd and 4th tuesday", "last monday of may".

    With "of the month" (or "every" and the first, the last, or several) it repeats monthly;
    with a month ("of may") it is one day, every year with "every"; "every 3rd friday" alone is
    left undecided (every three weeks, or monthly?) and declined when the schedule is built.
    """
    for match in _NTH_WEEKDAY_RE.finditer(text.scan):
        nth: set[tuple[int, int]] = set()
        for item in _NTH_ITEM_RE.finditer(match.group("items")):
            weekday = DAY_FORMS[item.group("day")].weekday
            ordinals = _ORDINAL_RE.finditer(item.group("ordinals"))
            nth |= {(weekday, ORDINALS[word.group()]) for word in ordinals}
        pre = match.group("pre")
        every = pre in ("every", "each")
        month = match.group("month")
        end = match.end()
        if match.group("of_period") and not months_period(found):
            end = match.start("of_period")  # "of" before a claimed phrase that is no period
        suffix = match.group("of_month") or match.group("next_month") or month
        if not (suffix or pre) and all(k == -1 for _, k in nth):
            continue  # "last friday" is in the past: left for the past and leftover checks
        found.put("nth_weekdays", frozenset(nth), N_("a weekday of the month"))
        if month is not None:
            found.put("months", frozenset({MONTHS[month]}), N_("a month"))
            found.yearly = found.yearly or every  # "every fourth thursday in november"
        elif match.group("next_month"):
            found.next_month = True
        elif months_period(found) and match.group("of_period"):
            pass  # "the first friday of every other month"
        else:
            # "every first monday", "every last friday", "every 2nd and 4th tuesday" can only
            # be monthly; "every 3rd friday" could be every three weeks.
            listed = len(nth) > 1 or any(k in (1, -1) for _, k in nth)
            found.monthly = found.monthly or bool(match.group("of_month")) or (every and listed)
        text.claim(match.start(), end)


def match_frequency_words(text: Text, found: Found) -> None:
    for match in _FREQUENCY_RE.finditer(text.scan):
        word = match.group("word")
        if word is not None:
            if not closes_phrase(text, match.start("word"), match.end("word")):
                continue
            kind = {"everyday": "daily", "annually": "yearly", "nightly": "daily"}.get(word, word)
            if word == "nightly":
                found.put("part_of_day", "night", N_("a part of the day"))
        else:
            kinds = ("daily", "weekly", "monthly", "quarterly", "yearly")
            kind = next(name for name in kinds if match[name])
        setattr(found, kind, True)
        found.schedule_words = True
        text.claim(match.start(), match.end())
    for match in _TIMES_A_DAY_RE.finditer(text.scan):
        count = " ".join(match.group("count").split())
        times = _TIMES_A_DAY.get(count) or int(count.split()[0])
        if match.group("unit") == "week":
            # "once a week on sunday", "twice a week on monday and thursday"
            found.put("times_a_week", times, N_("how many times a week"))
            found.weekly = found.weekly or times == 1
        else:
            found.put("times_a_day", times, N_("how many times a day"))
            found.daily = True
        found.schedule_words = True
        text.claim(match.start(), match.end())
    for match in _ONCE_A_RE.finditer(text.scan):
        setattr(found, "monthly" if match.group("unit") == "month" else "yearly", True)
        found.schedule_words = True
        text.claim(match.start(), match.end())


def closes_phrase(text: Text, start: int, end: int) -> bool:
    """Whether "daily" (or hourly, weekly ...) here is a schedule, not an adjective."""
    if text.word_before(start) in DETERMINERS:
        return False  # "my daily briefing"
    following = text.scan[end : end + 40].lstrip(" ")
    if not text.scan[:start].strip(" \t,;:.!-*_\"'" + CLAIMED):
        # The first word: "Daily news at 9", "Monthly: pay rent"; but "Weekly wrap-up every
        # friday" states its repeat elsewhere, so "weekly" describes the wrap-up.
        noun = WORD_AFTER_RE.match(following)
        described = noun is not None and noun.group(1) not in FREQUENCY_FOLLOWERS
        return not (described and _REPEAT_ELSEWHERE_RE.search(text.scan, end) is not None)
    if not following or not following[0].isalpha():
        return True  # end, punctuation, a time, a claimed phrase
    word = WORD_AFTER_RE.match(following)
    return word is not None and word.group(1) in FREQUENCY_FOLLOWERS


def match_relative_days(text: Text, found: Found) -> None:
    for match in _RELATIVE_DAY_RE.finditer(text.scan):
        if text.word_before(match.start()) in ("for", "of", "about"):
            continue  # "the news for today" is the prompt's business
        part = match.group("part")
        if match.group("after_tomorrow"):
            day = 2
        elif match.group("tomorrow"):
            day = 1
        else:
            day = 0
            if match.group("tonight"):
                if part is not None:
                    continue
                part = "night"
            elif match.group("this"):
                if part is not None:
                    continue
                part = match.group("this")
        found.put("relative_day", day, N_("a day"))
        if part is not None:
            found.put("part_of_day", part, N_("a part of the day"))
        text.claim(match.start(), match.end())


def match_days(text: Text, found: Found) -> None:
    for match in _DAYS_RE.finditer(text.scan):
        pre = " ".join(match.group("pre").split()) if match.group("pre") else None
        start = match.start() if pre is not None or match.group("only") else match.start("days")
        if pre is None and text.word_before(start) in _NOT_BEFORE_A_DAY:
            continue  # "last monday", "every other monday": left for the leftover check
        weekdays: set[int] = set()
        plural = group = ranged = False
        items = 0
        for part in _DAY_PART_RE.finditer(match.group("days")):
            items += 1
            if part.group("group"):
                group = True
                name = re.sub(r"\s", "", part.group("group"))
                plural = plural or name.endswith("s")
                weekend = name.startswith("weekend")
                weekdays |= {0, 6} if weekend else {1, 2, 3, 4, 5}
                continue
            first = DAY_FORMS[part.group("first")]
            plural = plural or first.plural
            if part.group("last") is None:
                weekdays.add(first.weekday)
                continue
            ranged = True
            last = DAY_FORMS[part.group("last")]
            plural = plural or last.plural
            span = (last.weekday - first.weekday) % 7
            weekdays |= {(first.weekday + step) % 7 for step in range(span + 1)}
        part_of_day = match.group("part")
        several = items > 1 or ranged
        claim_start = start
        if pre in ("every", "each", "on every", "on each"):
            recurring = True
        elif pre in ("next", "this", "coming", "this coming", "upcoming"):
            if several or plural or group:
                raise NotUnderstoodError(
                    N_("“{word} …” names one day; I can't repeat that."), word=pre
                )
            recurring = False
        elif pre == "from":
            if not (ranged and items == 1):
                continue  # "from monday" is a start date: declined by the leftover check
            recurring = True
        elif several or plural or match.group("parts"):
            recurring = True
            if not several and not text.scan[:start].strip(" \t\n,;:.!-*_\"'" + CLAIMED):
                pass  # "mondays water the plants": the schedule opens the message
            elif not several and part_of_day is None:
                found.loose_day = (start, match.end())  # "I love mondays": needs a time too
        elif group:
            if pre not in ("on", "at") and part_of_day is None:
                continue  # a bare "weekday" is just a word
            recurring = True
        else:
            one = DAY_FORMS[match.group("days").split()[0]]
            if not one.full and pre != "on":
                continue  # "sun", "sat", "wed" alone are English words
            recurring = False
            if pre == "at":
                claim_start = match.start("days")  # "at monday": the "at" stays and is declined
        if recurring:
            found.put("weekdays", frozenset(weekdays), N_("days of the week"))
        else:
            mode = "next" if pre == "next" else "this" if pre in ("this", "this coming") else "on"
            (weekday,) = weekdays
            found.put("weekday_once", (weekday, mode), N_("a day of the week"))
        if part_of_day is not None:
            found.put("part_of_day", part_of_day, N_("a part of the day"))
        text.claim(claim_start, match.end())
