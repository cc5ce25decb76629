"""Misspelled schedule words ("evry", "wekdays", "tomorow"), found with rapidfuzz.

A word is a misspelling when it is not a word the parser knows, not an ordinary English word, and
within a small edit distance (optimal string alignment: a swap of two letters counts once) of
exactly one schedule word: one edit for words up to seven letters, two for longer ones. Words
shorter than four letters are never read as misspellings ("mon", "tue" are abbreviations, "dat"
could be anything). Where two schedule words are equally close the misspelling is ambiguous.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import OSA

from scheduler.parsing.rules.vocabulary import DAY_FORMS, MONTHS, NUMBER_WORDS, ORDINALS

# The words a misspelling may stand for.
SCHEDULE_WORDS: Final = (
    "every", "everyday", "daily", "weekday", "weekdays", "weekend", "weekends", "hourly",
    "weekly", "monthly", "yearly", "annually", "nightly", "fortnightly", "fortnight",
    "quarterly", "tomorrow", "tonight", "today", "yesterday", "noon", "midnight", "midday",
    "morning", "mornings", "afternoon", "afternoons", "evening", "evenings", "night", "nights",
    "minute", "minutes", "hour", "hours", "week", "weeks", "month", "months", "year", "years",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mondays",
    "tuesdays", "wednesdays", "thursdays", "fridays", "saturdays", "sundays", "january",
    "february", "march", "april", "june", "july", "august", "september", "october", "november",
    "december",
)  # fmt: skip
_KNOWN: Final = frozenset(
    {*SCHEDULE_WORDS, *DAY_FORMS, *MONTHS, *NUMBER_WORDS, *ORDINALS, "tmrw", "mins", "secs",
     "hrs", "wks", "workday", "workdays", "quarter", "clock", "once", "twice", "thrice",
     # Frequency words of their own, never "weekly" or "monthly" misspelled: the leftover check
     # declines the ambiguous ones ("biweekly": twice a week or every two weeks?).
     "biweekly", "bimonthly", "biannually", "biannual", "semiweekly", "semimonthly",
     "semiannually", "semiannual", "triweekly", "bihourly", "trimonthly"}
)  # fmt: skip
# English words (from a dictionary) within reach of a schedule word: never misspellings.
_ENGLISH: Final = frozenset(
    {
        "actually",
        "adorning",
        "arch",
        "augusta",
        "augustan",
        "auguster",
        "augustus",
        "avenging",
        "avery",
        "bear",
        "bears",
        "beveling",
        "bight",
        "bights",
        "boon",
        "brightly",
        "coon",
        "corning",
        "dairy",
        "daisy",
        "dally",
        "dear",
        "dearly",
        "dears",
        "deceiver",
        "doily",
        "dour",
        "dourly",
        "drily",
        "duly",
        "dune",
        "early",
        "earnings",
        "ears",
        "eery",
        "eight",
        "eights",
        "emending",
        "emery",
        "ever",
        "evert",
        "evincing",
        "fear",
        "fears",
        "fight",
        "fights",
        "foresight",
        "forthright",
        "forthrightly",
        "four",
        "fours",
        "gaily",
        "gear",
        "gears",
        "geek",
        "geeks",
        "goon",
        "hear",
        "hears",
        "horus",
        "insights",
        "jane",
        "jude",
        "judy",
        "jung",
        "junk",
        "juno",
        "jury",
        "jute",
        "knight",
        "knightly",
        "knights",
        "larch",
        "lear",
        "leavening",
        "leek",
        "leeks",
        "leveling",
        "levering",
        "light",
        "lightly",
        "lights",
        "livening",
        "loon",
        "mach",
        "manually",
        "marc",
        "marci",
        "marco",
        "marcy",
        "markings",
        "marsh",
        "match",
        "mcknight",
        "meanings",
        "meek",
        "meekly",
        "middy",
        "midway",
        "might",
        "mightily",
        "minuet",
        "minuets",
        "minuses",
        "minuted",
        "minutely",
        "minuter",
        "minutest",
        "minutiae",
        "moaning",
        "moldings",
        "mont",
        "monte",
        "monty",
        "moon",
        "mooning",
        "moorings",
        "moraines",
        "moth",
        "moths",
        "mounding",
        "mounting",
        "mountings",
        "mourning",
        "mouth",
        "mouths",
        "near",
        "nearly",
        "nears",
        "neon",
        "nigh",
        "nighties",
        "nighty",
        "nonmember",
        "nook",
        "noun",
        "openings",
        "ours",
        "parch",
        "pear",
        "pearly",
        "pears",
        "peek",
        "peeks",
        "pour",
        "pours",
        "quartered",
        "ravening",
        "rear",
        "rears",
        "reek",
        "reeks",
        "remember",
        "reveling",
        "revenging",
        "revering",
        "revery",
        "right",
        "rightly",
        "rights",
        "rune",
        "scorning",
        "sear",
        "sears",
        "seek",
        "seeks",
        "severing",
        "sight",
        "sights",
        "slightly",
        "smoothly",
        "soon",
        "sour",
        "sourly",
        "sours",
        "sundae",
        "sundaes",
        "sundas",
        "sundials",
        "sundry",
        "tear",
        "tears",
        "tight",
        "tightly",
        "tights",
        "toady",
        "toddy",
        "tokay",
        "tour",
        "tours",
        "tune",
        "unsightly",
        "very",
        "warnings",
        "weak",
        "weakened",
        "weakly",
        "wear",
        "wears",
        "weed",
        "weeds",
        "weekended",
        "weep",
        "weeps",
        "weer",
        "wees",
        "wight",
        "wights",
        "wordings",
        "workings",
        "yeah",
        "yeahs",
        "yearn",
        "yearns",
        "yeas",
        "yeats",
        "your",
        "yours",
    }
)
_WORD_RE: Final = re.compile(r"(?<![\w'])[a-z]{4,}(?![\w'])")
_SHORTEST: Final = 4


class Misspelling(NamedTuple):
    start: int
    end: int
    typed: str
    meant: str | None  # None: two schedule words are equally close


def misspellings(scan: str) -> list[Misspelling]:
    """The misspelled schedule words in a lowercase scan, in order."""
    found: list[Misspelling] = []
    for match in _WORD_RE.finditer(scan):
        word = match.group()
        if word in _KNOWN or word in _ENGLISH:
            continue
        reach = 1 if len(word) < 8 else 2
        close = process.extract(
            word, SCHEDULE_WORDS, scorer=OSA.distance, score_cutoff=reach, limit=2
        )
        if not close:
            continue
        ambiguous = len(close) == 2 and close[0][1] == close[1][1]
        found.append(
            Misspelling(match.start(), match.end(), word, None if ambiguous else close[0][0])
        )
    return found


def corrected(text: str, typos: list[Misspelling]) -> tuple[str, list[tuple[int, int]]]:
    """`text` with each misspelling replaced, and where the replacements now are."""
    pieces: list[str] = []
    spans: list[tuple[int, int]] = []
    cursor = length = 0
    for typo in typos:
        assert typo.meant is not None
        before = text[cursor : typo.start]
        meant = typo.meant.capitalize() if text[typo.start].isupper() else typo.meant
        pieces += [before, meant]
        length += len(before)
        spans.append((length, length + len(meant)))
        length += len(meant)
        cursor = typo.end
    pieces.append(text[cursor:])
    return "".join(pieces), spans
