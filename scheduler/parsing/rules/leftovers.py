"""What the matchers left behind.

Schedule-like words there mean the message was not fully understood.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from core.errors import N_, NotUnderstoodError
from scheduler.parsing.rules.days import FREQUENCY_FOLLOWERS
from scheduler.parsing.rules.scan import CLAIMED, Found, Text, is_recurring
from scheduler.parsing.rules.vocabulary import (
    DAY_FORMS,
    DAY_ORDINALS,
    DETERMINERS,
    HOUR_WORDS,
    MERIDIEM,
    MONTH_WORD,
    MONTHS,
    WEEKDAYS,
    alternation,
)

# Right before a schedule phrase these change its meaning ("until friday", "not on mondays").
_MODIFIERS_BEFORE: Final = frozenset(
    {"about", "after", "around", "at", "before", "beginning", "between", "but", "by", "each",
     "every", "except", "excluding", "fifth", "first", "fourth", "from", "in", "last", "near",
     "never", "next", "not", "on", "or", "other", "past", "previous", "second", "since",
     "starting", "than", "third", "till", "til", "until", "within", "of", "ev", "only", "twice",
     "thrice", "once", "same", "during", "through", "thru", "following", "upcoming", "coming",
     "onwards", "onward", "later", "earlier", "ish",
     *DETERMINERS}
)  # fmt: skip

# Right after a schedule phrase these do ("at 9 or 10", "tomorrow until 5", "at 9 sharp").
_MODIFIERS_AFTER: Final = frozenset(
    {"after", "around", "at", "before", "beginning", "between", "but", "each", "earliest",
     "during", "every", "except", "excluding", "from", "in", "ish", "later", "latest", "on",
     "onward", "onwards", "or", "outside", "sharp", "since", "starting", "through", "thru",
     "till", "til", "until", "week", "while", "within", "twice", "thrice", "once", "only",
     "ending", "ends", "approximately", "roughly"}
)  # fmt: skip
_TOKEN_END_RE: Final = re.compile(r"\s|$")

# Right after a schedule phrase: "for 2 weeks", "9-17", "or so".
# Right after a schedule phrase: "for 2 weeks", "for an hour", or a number ("every day 10 UTC",
# "every hour 9-17"): a number there is too likely a time or a range we did not read.
_AFTER_PHRASE_RE: Final = re.compile(
    r"\s*(?:for\s+(?:the\s+(?:next|following|coming)\s+)?(?:[0-9]+|a|an|one|two|three|four"
    r"|five|six|seven|eight|nine|ten|a\s+few|a\s+couple\s+of|several)\s+(?:minutes?|mins?|hours?"
    r"|hrs?|days?|weeks?|months?|years?|times?|occurrences?)\b"
    r"|for\s+[0-9]+x?\b|for\s+the\s+(?:next|following|rest)\b|[0-9])"
)
# Right before a schedule phrase: "for 3 weeks [every day at 9]".
# (Minutes and hours there are the task's: "meditate for 3 minutes [every day at noon]".)
_BEFORE_PHRASE_RE: Final = re.compile(
    r"\bfor\s+(?:the\s+(?:next|following|coming)\s+)?(?:[0-9]+|a|an|one|two|three|four|five|six"
    r"|seven|eight|nine|ten|a\s+few|a\s+couple\s+of|several)\s+(?:days?|weeks?|months?|years?"
    r"|times?|occurrences?)[ \t,]*$"
)
# Words that join a schedule phrase to another ("first and [third friday]", "[aug 20] and 30").
_CONNECTORS: Final = frozenset({"and", "or", "&", "plus", "nor", "then"})
# A word that is schedule language wherever it stands next to a schedule phrase.
_SCHEDULE_WORD_RE: Final = re.compile(
    r"[0-9]+(?:st|nd|rd|th|am|pm|h|m|s)?"
    rf"|{alternation(DAY_FORMS)}|{alternation(MONTHS)}|{alternation(DAY_ORDINALS)}"
    r"|last|next|other|every|each|once|twice|noon|midnight|tomorrow|today|tonight|tmrw"
    r"|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|half|quarter"
    r"|(?:second|sec|minute|min|hour|hr|day|week|month|year|weekday|weekend|workday|fortnight"
    r"|morning|afternoon|evening|night)s?"
    r"|hourly|daily|nightly|weekly|monthly|yearly|annually|everyday|quarterly"
    r"|after|before|until|till|from|between|except|starting|through|during|since|at|on"
)

# Schedule-like words left in the prompt mean we did not understand the whole schedule.
_LEFTOVER_RES: Final = tuple(
    re.compile(pattern)
    for pattern in (
        r"\bevery\b(?:\s+[a-z0-9']+)?",
        r"\beach\s+(?:day|week|month|year|quarter|hour|minute|morning|afternoon|evening|night|weekday"
        rf"|weekend|other|time|{alternation(name for name, _ in WEEKDAYS)})",
        rf"\b(?:{alternation(name for name, _ in WEEKDAYS)})s?\b(?!')",
        r"\b(?:weekdays?|weekends|workdays?|business\s+days?|working\s+days?)\b",
        r"\b(?:on|at|this|next|the)\s+weekend\b",
        r"\b(?:next|this|coming)\s+(?:week|month|year)\b",
        rf"\b{MONTH_WORD}\.?\s*(?:the\s+)?[0-9]",
        rf"(?<![\w.:])[0-9]{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH_WORD}",
        r"\b(?:in|on|every|each|of|until|till|from|since|before|after|next|this|by|during)\s+"
        r"(?:january|february|april|june|july|august|september|october|november|december)\b",
        r"[0-9]{1,2}:[0-9]{2}",
        r"\bat\s+[0-9]{1,2}\.[0-9]{2}\b",  # "at 9.30" could be a price; 9:30 or 9.30pm is a time
        rf"(?<![\w.])[0-9]{{1,2}}(?:[.:][0-9]{{2}})?\s?{MERIDIEM}",
        r"(?<![\w.])[0-9]{1,2}(?::[0-9]{2})?[ap]\b",  # "5p", "8:30a" we did not read
        r"\bo'?clock\b",
        r"\b(?:noon|midday|midnight)\b",
        r"\b(?:at|by|before|after|until|till|around)\s+[0-9]{1,2}(?![0-9%]|[.,][0-9])",
        rf"\bat\s+(?:{alternation(HOUR_WORDS)})\b",
        r"\b(?:once|twice|thrice|[0-9]+\s+times)\s+(?:a|an|per|every|each)\b",
        r"\b(?:fortnight|fortnightly|bi-?weekly|quarterly|semi-?annual|bi-?monthly"
        r"|semi-?monthly|semi-?weekly|bi-?annual(?:ly)?|tri-?weekly|tri-?monthly|bi-?hourly)\b",
        r"\b(?:except|excluding)\b",
        r"\bbut\s+not\b",
        r"\b(?:in|within|after)\s+(?:[0-9]+|an?|half\s+an?)\s*(?:secs?|seconds?|mins?|minutes?"
        r"|hours?|hrs?|days?|weeks?|months?|years?)\b",
        r"\b(?:starting|beginning)\s+(?:from|on|at|in|next|this|tomorrow|today|tonight|now)\b",
        r"\b(?:start|beginning|end|middle)\s+of\s+(?:the\s+|each\s+|every\s+|this\s+|next\s+)?"
        r"(?:month|week|year|day|quarter|today|tonight|tomorrow)\b",
        r"\bat\s+[0-9]{3,4}(?![0-9])",  # "at 1000": a time or a count?
        r"\bat\s+(?:lunch|lunchtime|dinner|dinnertime|breakfast|bedtime|dawn|dusk|sunrise"
        r"|sunset)\b",
        r"\bon\s+(?:the\s+)?[0-9]{1,2}(?:st|nd|rd|th)?\b",
        r"(?<![\w.:#])[0-9]{1,2}(?:st|nd|rd|th)\b",
        r"(?<![\w./])[0-9]{1,2}/[0-9]{1,2}(?:/[0-9]{2,4})?(?![\w/])",
        r"(?<![\w.])[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{2,4}(?![\w.])",
        r"\b(?:utc|gmt)\s*[+-]\s*[0-9]",
        r"\b(?:from|between)\s+[0-9]{1,2}(?::[0-9]{2})?\s*(?:-|to|and|until|till)\s*[0-9]",
        r"(?<![\w.:])[0-9]{1,2}\s+(?:to|until|till)\s+[0-9]{1,2}(?![0-9])",
        # Day abbreviations that are not English words ("mon wed fri" unread, "thurs at 9").
        r"(?<![\w'])(?:mon|tue|tues|thu|thur|thurs|fri|weds)\b",
        # Cron fields not at the start ("daily */5 * * * * ping"): a second schedule.
        r"(?<!\S)(?:[0-9*][0-9*,/#l-]*\s+){4}[0-9a-z*][0-9a-z*,/#-]*(?!\S)",
        r"(?<!\S)\*(?:/[0-9]+)?(?!\S)",  # a lone cron star: fields we did not read
        r"\bof\s+(?:the|every|each|a)\s+month\b",  # "… of the month" we did not read
        # "once … a day" with words between: a frequency we did not read.
        r"\b(?:once|twice|thrice|[0-9]+\s+times)(?:\s+[a-z']+){0,2}\s+(?:a|an|per|every|each)\s+"
        r"(?:day|week|month|year|hour|minute)\b",
        # "ever day", "very morning": real words that are misspellings of "every" here.
        r"\b(?:ever|very)\s+(?:single\s+)?(?:day|week|month|year|hour|minute|morning|afternoon|evening"
        r"|night|weekday|weekend)s?\b",
    )
)
_PAST_RE: Final = re.compile(
    r"\b(?:(?:the\s+day\s+before\s+)?yesterday|earlier\s+today"
    r"|last\s+(?:night|week|month|year|weekend"
    rf"|{alternation(name for name, _ in WEEKDAYS)})\b(?!\s+of\b)"
    r"|(?:[0-9]+|an?|one|two|three|four|five|six|seven|eight|nine|ten|a\s+few|few)\s+"
    r"(?:secs?|seconds?|mins?|minutes?|hours?|hrs?|days?|weeks?|months?|years?)\s+ago)\b"
)
# With "in 2 hours": another amount of time left in the text was probably part of it.
_ZONE_TIME_RE: Final = re.compile(r"(?:\b[a-z'.-]+\s+){1,3}time\b(?!\s+(?:to|for|of)\b)")
_LETTERS: Final = "abcdefghijklmnopqrstuvwxyz'.- "
_UNIT_WORD_RE: Final = re.compile(r"\b(?:hour|minute)\b")
_ZONE_WORD_RE: Final = re.compile(r"\b(?:utc|gmt)\b")
_HALF_RE: Final = re.compile(
    r"\bhalf\b|\b[0-9]+\s*(?:secs?|seconds?|mins?|minutes?|hours?|hrs?|days?|weeks?)\b"
)
_PART_OF_DAY_WORD_RE: Final = re.compile(r"\b(?:morning|afternoon|evening|night)s?\b")
_WORD_BEFORE_RE: Final = re.compile(r"[a-z'.-]+\s*$")
_ENGLISH_DAY_ABBREVIATION_RE: Final = re.compile(r"(?<![\w'])(?:sun|sat|wed)\b(?!')")
_TOM_RE: Final = re.compile(rf"\s*tom\b[ \t,]*{CLAIMED}")
_PAST_GAP_RE: Final = re.compile(r"[\s,]*(?:\b(?:at|on)\b[\s,]*)?")
_FREQUENCY_WORD_RE: Final = re.compile(
    r"\b(?:hourly|daily|nightly|weekly|monthly|yearly|annually|everyday)\b"
)


def check_zone_words(text: Text) -> None:
    """A zone word left in the prompt was meant for the schedule ("at 9 … GMT")."""
    match = _ZONE_WORD_RE.search(text.scan)
    if match is not None:
        raise _not_sure(text, match.start(), match.end())


def check_past(text: Text) -> None:
    """Decline a past reference right next to the schedule ("yesterday at 5pm").

    Elsewhere it belongs to the task ("every monday summarize last week").
    """
    for match in _PAST_RE.finditer(text.scan):
        if _touches_the_schedule(text, match.start(), match.end()):
            shown = text.shown(match.start(), match.end())
            raise NotUnderstoodError(
                N_("“{shown}” is in the past; I can only schedule what is still ahead."),
                shown=shown,
            )


def _touches_the_schedule(text: Text, start: int, end: int) -> bool:
    """Whether only spaces, commas, "at" or "on" lie between this span and a claimed one."""
    after = _PAST_GAP_RE.match(text.scan, end)
    if after is not None and text.scan[after.end() : after.end() + 1] == CLAIMED:
        return True
    before = text.scan[max(0, start - 80) : start].rstrip(" \t\n,")
    before = before.removesuffix(" at").removesuffix(" on").rstrip(" \t\n,")
    return before.endswith(CLAIMED)


def check_leftovers(text: Text, found: Found) -> None:
    for pattern in _LEFTOVER_RES:
        match = pattern.search(text.scan)
        if match is not None:
            raise _not_sure(text, match.start(), match.end())
    if found.offset is not None:
        half = _HALF_RE.search(text.scan)
        if half is not None:  # "in an hour and … a half": the half was meant too
            raise _not_sure(text, half.start(), half.end())  # "… and 30 minutes"
    for match in _ZONE_TIME_RE.finditer(text.scan):
        preceding = text.scan[max(0, match.start() - 80) : match.start()]
        if text.word_before(match.end() - len("time")) in DETERMINERS:
            continue  # "open the time capsule": a noun, not a zone
        if preceding.rstrip(" \t" + _LETTERS).endswith(CLAIMED):
            # "at 9 los very angeles time": a zone we could not read
            raise _not_sure(text, match.start(), match.end())
    check_zone_words(text)
    for match in _UNIT_WORD_RE.finditer(text.scan):
        if _near_the_schedule(text, match.start()):
            raise _not_sure(text, match.start(), match.end())  # "every quarter … hour"
    if found.clocks is None and found.part_of_day is None:
        for match in _PART_OF_DAY_WORD_RE.finditer(text.scan):
            if _near_the_schedule(text, match.start()):
                # "every saturday our morning": the time of day was meant, not 09:00.
                raise _not_sure(text, match.start(), match.end())
    for match in _ENGLISH_DAY_ABBREVIATION_RE.finditer(text.scan):
        if _touches_the_schedule(text, match.start(), match.end()):
            raise _not_sure(text, match.start(), match.end())  # "sun at 10": Sunday?
    for match in _FREQUENCY_WORD_RE.finditer(text.scan):
        if text.word_before(match.start()) in DETERMINERS:
            continue  # "my daily briefing"
        if is_recurring(found) and _describes_a_noun(text, match.end()):
            continue  # "send weekly wins every friday": the schedule is stated elsewhere
        raise _not_sure(text, match.start(), match.end())
    for start, end in text.spans:
        before = text.word_before_match(start)
        if before is not None and before.group(1) in _MODIFIERS_BEFORE:
            raise _not_sure(text, before.start(1), end)
        after = text.word_after_match(end)
        if after is not None and after.group(1) in _MODIFIERS_AFTER:
            raise _not_sure(text, start, after.end(1))
        phrase = _AFTER_PHRASE_RE.match(text.scan, end)
        if phrase is not None:
            token_end = _TOKEN_END_RE.search(text.scan, phrase.end())
            raise _not_sure(text, start, token_end.start() if token_end else len(text.scan))
        duration = _BEFORE_PHRASE_RE.search(text.scan, max(0, start - 60), start)
        if duration is not None:
            raise _not_sure(text, duration.start(), end)
        _check_joined(text, start, end)
    _check_months_touch(text, found)
    if _TOM_RE.match(text.scan):
        # "tom at 8:30 drop off the car": "tomorrow" in a to-do app's shorthand, or Tom?
        raise _not_sure(text, 0, 3)


def _check_joined(text: Text, start: int, end: int) -> None:
    """Decline schedule words joined to a schedule phrase: a number right before it ("8
    [tonight]"); "and"/"or" (or "of" after it) whose other side is schedule language, another
    schedule phrase or the end of the message ("first and [third friday]", "[aug 20] and 30",
    "[at noon] and [tuesdays]", "[every morning] of may", "[every day at 9] and")."""
    before = _tokens(text.scan, start, before=True)
    after = _tokens(text.scan, end, before=False)
    if before and re.fullmatch(r"[0-9]+(?:st|nd|rd|th)?", before[0].word):
        raise _not_sure(text, before[0].start, end)
    # "first and [third friday]", "[at 9] and [tuesdays]", "water the plants and [at 10]"
    joined_before = (len(before) == 2 and _joins(before[1])) or (after and after[0].joining)
    if before and before[0].word in _CONNECTORS and joined_before:
        raise _not_sure(text, before[-1].start, end)
    # "[aug 20] and 30", "[every morning] of may", "[every monday] and call mom"
    joined_after = (len(after) == 2 and _joins(after[1])) or (before and before[0].joining)
    if after and after[0].word in (*_CONNECTORS, "of") and joined_after:
        raise _not_sure(text, start, after[-1].end)


class _Token(NamedTuple):
    word: str  # "" for a claimed phrase or an end of the message
    start: int
    end: int
    joining: bool  # a claimed phrase or an end of the message


def _joins(token: _Token) -> bool:
    return token.joining or _is_schedule_word(token.word)


# A word, a claimed phrase, or the message's edge (its start; its end, maybe after a full stop).
_TOKEN_BEFORE_RE: Final = re.compile(rf"(?:([a-z0-9'&]+)|({CLAIMED}+)|^\s*)[ \t,]*$")
_TOKEN_AFTER_RE: Final = re.compile(rf"[ \t,]*(?:([a-z0-9'&]+)|({CLAIMED}+)|[.!?;:]*\s*$)")


def _tokens(scan: str, position: int, *, before: bool) -> list[_Token]:
    """Up to two tokens right before (or after) `position`, nearest first, with only spaces and
    commas between; an article after the first is skipped ("and the [3rd]")."""
    tokens: list[_Token] = []
    edge = position
    while len(tokens) < 2:
        if before:
            match = _TOKEN_BEFORE_RE.search(scan, max(0, edge - 80), edge)
        else:
            match = _TOKEN_AFTER_RE.match(scan, edge)
            if match is not None and match.end() == edge < len(scan):
                match = None  # other punctuation follows
        if match is None:
            break  # other punctuation: nothing joined
        word = match.group(1) or ""
        tokens.append(_Token(word, match.start(), match.end(), not word))
        if not word:
            break
        edge = match.start() if before else match.end()
        if word in _ARTICLES and len(tokens) == 2:
            tokens.pop()
    return tokens


_ARTICLES: Final = frozenset({"the", "a", "an"})


def _is_schedule_word(word: str) -> bool:
    return _SCHEDULE_WORD_RE.fullmatch(word) is not None


def _check_months_touch(text: Text, found: Found) -> None:
    """Months ("in december") limit the schedule only next to it; elsewhere they may be the
    task's ("plan the trip in march")."""
    if found.months_span is None:
        return
    start, end = found.months_span
    before = text.scan[:start].rstrip(" \t,")
    after = text.scan[end:].lstrip(" \t,")
    if not (before.endswith(CLAIMED) or after.startswith(CLAIMED)):
        raise _not_sure(text, start, end)


def _near_the_schedule(text: Text, start: int) -> bool:
    """Whether a claimed span ends at most one word before `start`."""
    before = text.scan[max(0, start - 80) : start].rstrip()
    if before.endswith(CLAIMED):
        return True
    word = _WORD_BEFORE_RE.search(before)
    return word is not None and before[: word.start()].rstrip().endswith(CLAIMED)


def _describes_a_noun(text: Text, end: int) -> bool:
    """Whether the word after `end` is a plain word, not one that continues a schedule."""
    after = text.word_after_match(end)
    if after is None or after.start(1) != end + 1:
        return False
    word = after.group(1)
    return word not in FREQUENCY_FOLLOWERS and word not in _SCHEDULE_NOUNS


_SCHEDULE_NOUNS: Final = frozenset(
    {"basis", "schedule", "routine", "recurring", "repeating", "to", "for", "please", "me", "you"}
)


def _not_sure(text: Text, start: int, end: int) -> NotUnderstoodError:
    return not_sure_of(text.shown(start, end))


def not_sure_of(shown: str) -> NotUnderstoodError:
    return NotUnderstoodError(
        N_("I'm not sure what “{shown}” means here, so I won't guess the schedule."), shown=shown
    )
