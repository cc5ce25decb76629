"""Time-zone phrases: IANA names, "<city> time", UTC/GMT and offsets from them, abbreviations.

Abbreviations people put after a time are read only where they name one clock: "EST", "EDT" and
"ET" are New York's clock (with its daylight saving, as people mean it all year), "PST" Los
Angeles', "CET" the IANA zone CET, "JST" Tokyo's... (ZONE_ABBREVIATIONS). Those with two common
meanings (IST, CST, BST, AST, MST: Arizona or Denver?, AEST: Brisbane or Sydney?) are declined
with a question, and so are two-letter ones (ET, PT) and the rest unless written in capitals.
An offset ("6pm UTC+2", "GMT-05:30", "(UTC+5:45)") is a fixed-offset zone, named `UTC+02:00`.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Final
from zoneinfo import available_timezones

from core.errors import N_, NotUnderstoodError, ScheduleError
from scheduler.parsing.rules.scan import Found, Text
from scheduler.schedules.schedule import canonical_zone, zone_names

# Zone regions whose last path segment is a city; legacy directories (US/, Canada/, Etc/ ...)
# and top-level names (EST, Japan, Zulu ...) are left out on purpose.
_CITY_REGIONS: Final = frozenset(
    {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe",
     "Indian", "Pacific"}
)  # fmt: skip

# Last segments that are ordinary English before "time" ("wake time", "christmas time").
_NOT_CITIES: Final = frozenset(
    {"act", "center", "christmas", "easter", "knox in", "north", "oral", "south", "tell city",
     "troll", "wake", "west", "yap"}
)  # fmt: skip
ZONE_ALIASES: Final = {"utc": "UTC", "gmt": "GMT", "z": "UTC"}

# Abbreviations after a time that name one clock (the zone follows that clock's daylight saving).
ZONE_ABBREVIATIONS: Final = {
    "et": "America/New_York", "est": "America/New_York", "edt": "America/New_York",
    "ct": "America/Chicago", "cdt": "America/Chicago", "mt": "America/Denver",
    "mdt": "America/Denver", "pt": "America/Los_Angeles", "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles", "akst": "America/Anchorage", "akdt": "America/Anchorage",
    "hst": "Pacific/Honolulu", "wet": "WET", "cet": "CET", "cest": "CET", "eet": "EET",
    "eest": "EET", "msk": "Europe/Moscow", "sast": "Africa/Johannesburg", "pkt": "Asia/Karachi",
    "wib": "Asia/Jakarta", "sgt": "Asia/Singapore", "hkt": "Asia/Hong_Kong", "pht": "Asia/Manila",
    "kst": "Asia/Seoul", "jst": "Asia/Tokyo", "awst": "Australia/Perth",
    "acdt": "Australia/Adelaide", "aedt": "Australia/Sydney", "nzst": "Pacific/Auckland",
    "nzdt": "Pacific/Auckland",
}  # fmt: skip
# Abbreviations with two common meanings: declined with a question.
AMBIGUOUS_ZONES: Final = frozenset(
    {"acst", "adt", "aest", "ast", "bst", "cst", "gst", "ist", "mst", "sst"}
)
_TWO_LETTERS: Final = 2

# After a time: "UTC", "GMT+2", "(UTC-05:30)", "EST" ...
AFTER_TIME_ZONE_RE: Final = re.compile(
    r"\s*(?P<open>\(\s*)?(?:(?P<alias>utc|gmt)\b(?P<offset>\s*[+-]\s*[0-9]{1,2}(?::?[0-9]{2})?)?"
    r"|(?P<word>[a-z]{2,5})\b)(?(open)\s*\))"
)

# After a time: "<Name> time" or "in <name> time" is a zone we do not know (known ones are claimed).
AFTER_TIME_ZONE_NAME_RE: Final = re.compile(
    r"\s+(?P<in>in\s+)?(?P<name>[a-z][a-z'.-]*(?:\s+[a-z][a-z'.-]*)?)\s+time\b"
)
AFTER_TIME_LOCAL_RE: Final = re.compile(r"\s*(?:in\s+)?(?:local|my|our)\s+time\b(?:\s+zone\b)?")
_IANA_RE: Final = re.compile(
    r"(?:\bin\s+)?(?<![\w/_-])(?P<name>[a-z]+(?:[_-][a-z]+)*(?:/[a-z0-9_+-]+){1,2})(?![\w/])"
    r"(?:\s+time\b(?:\s+zone\b)?)?"
)
_OFFSET = r"\s*[+-]\s*[0-9]{1,2}(?::?[0-9]{2})?(?![0-9])"
_ALIAS_ZONE_RE: Final = re.compile(
    rf"\b(?:in\s+(?P<in>utc|gmt)(?P<in_offset>{_OFFSET})?\b"
    rf"|(?P<named>utc|gmt)(?P<named_offset>{_OFFSET})?\s+time\b)(?P<offset>{_OFFSET})?"
)
_LOCAL_TIME_RE: Final = re.compile(r"\bin\s+(?:local|my|our)\s+time\b(?:\s+zone\b)?")
_TIME_WORD_RE: Final = re.compile(r"\btime\b(?:\s+zone\b)?")
_WORDS_BEFORE_RE: Final = re.compile(r"(?<![\w'.-])((?:[a-z][a-z'.-]*\s+){1,4})$")
_WORD_RE: Final = re.compile(r"[a-z][a-z'.-]*")
_WORDS_AFTER_RE: Final = re.compile(r"\s+((?:[a-z][a-z'.-]*)(?:\s+[a-z][a-z'.-]*){0,2})")


def match_zone(text: Text, found: Found) -> None:
    for match in _LOCAL_TIME_RE.finditer(text.scan):
        text.claim(match.start(), match.end())
    for match in _IANA_RE.finditer(text.scan):
        name = match.group("name")
        canonical = zone_names().get(name)
        if canonical is None:
            if name.split("/", 1)[0].capitalize() in _CITY_REGIONS:
                shown = text.shown(match.start("name"), match.end("name"))
                raise NotUnderstoodError(N_("I don't know the time zone “{shown}”."), shown=shown)
            continue
        set_zone(found, canonical)
        text.claim(match.start(), match.end())
    for match in _ALIAS_ZONE_RE.finditer(text.scan):
        if match.group("offset"):  # "in UTC time +2": an offset we did not read
            raise NotUnderstoodError(
                N_("I'm not sure what “{shown}” means here, so I won't guess the schedule."),
                shown=text.shown(match.start(), match.end()),
            )
        alias = match.group("in") or match.group("named")
        offset = match.group("in_offset") or match.group("named_offset")
        set_zone(found, offset_zone(text, match, alias, offset) if offset else ZONE_ALIASES[alias])
        text.claim(match.start(), match.end())
    _match_city_zones(text, found)


def _match_city_zones(text: Text, found: Found) -> None:
    cities = _city_zones()
    for match in _TIME_WORD_RE.finditer(text.scan):
        block = _WORDS_BEFORE_RE.search(text.scan, max(0, match.start() - 80), match.start())
        if block is None:
            continue
        words = [
            (word.group(), word.start())
            for word in _WORD_RE.finditer(text.scan, block.start(1), block.end(1))
        ]
        for count in range(min(3, len(words)), 0, -1):
            city = " ".join(word for word, _ in words[-count:])
            if city in cities:
                break
        else:
            _decline_unknown_city(text, words)
            continue
        start = words[-count][1]
        if len(words) > count and words[-count - 1][0] == "in":
            start = words[-count - 1][1]
        set_zone(found, cities[city])
        text.claim(start, match.end())


def _decline_unknown_city(text: Text, words: list[tuple[str, int]]) -> None:
    """Decline "in Foo time": a capitalised name after "in" was meant as a zone we don't know."""
    for index in range(len(words) - 2, max(-1, len(words) - 4), -1):
        if words[index][0] == "in":
            position = words[index + 1][1]
            if text.original[position].isupper():
                shown = text.shown(position, words[-1][1] + len(words[-1][0]))
                raise NotUnderstoodError(
                    N_("I don't know the time zone “{shown} time”; try a city like “Berlin time”."),
                    shown=shown,
                )
            return


def read_zone_after(text: Text, found: Found, end: int) -> int:
    """Read a zone written right after a time ("9am UTC+2", "18:00 EST"); where it ends.

    Declines an abbreviation with two meanings or one this table does not know.
    """
    zone = AFTER_TIME_ZONE_RE.match(text.scan, end)
    if zone is None:
        return end
    alias, word = zone.group("alias"), zone.group("word")
    if alias:
        offset = zone.group("offset")
        set_zone(found, offset_zone(text, zone, alias, offset) if offset else ZONE_ALIASES[alias])
        return zone.end()
    if word in ZONE_ABBREVIATIONS and word not in AMBIGUOUS_ZONES:
        written = text.original[zone.start("word") : zone.end("word")]
        if len(word) > _TWO_LETTERS or written.isupper():
            set_zone(found, ZONE_ABBREVIATIONS[word])
            return zone.end()
    if word in ZONE_ABBREVIATIONS or word in AMBIGUOUS_ZONES:
        shown = text.shown(zone.start("word"), zone.end("word"))
        raise NotUnderstoodError(
            N_("“{shown}” is ambiguous as a time zone; name a city, e.g. “New York time”."),
            shown=shown,
        )
    return end


def offset_zone(text: Text, match: re.Match[str], alias: str, offset: str) -> str:
    """The fixed-offset zone of "UTC+2" ("UTC+02:00"); declines offsets that are not one."""
    try:
        return canonical_zone(alias + "".join(offset.split()))
    except ScheduleError:
        raise NotUnderstoodError(
            N_("“{shown}” is not an offset from UTC I can use."),
            shown=text.shown(match.start(), match.end()),
        ) from None


def set_zone(found: Found, zone: str) -> None:
    if found.zone is not None and found.zone != zone:
        raise NotUnderstoodError(
            N_("You named two time zones ({zone} and {other_zone})."),
            zone=found.zone,
            other_zone=zone,
        )
    found.zone = zone


def decline_bare_city(text: Text, end: int) -> None:
    """Decline "at 9 Berlin": a zone or a place? "Berlin time" would be clear."""
    following = _WORDS_AFTER_RE.match(text.scan, end)
    if following is None:
        return
    words = following.group(1).split()
    cities = _city_zones()
    for count in range(min(3, len(words)), 0, -1):
        if " ".join(words[:count]) in cities:
            last = _WORD_RE.finditer(text.scan, following.start(1), following.end(1))
            ends = [word.end() for word in last]
            shown = text.shown(following.start(1), ends[count - 1])
            raise NotUnderstoodError(
                N_("Is “{shown}” a time zone? Say e.g. “at 9 Berlin time” to use one."),
                shown=shown,
            )


@cache
def _city_zones() -> dict[str, str]:
    """City (last part of an IANA name, spaces for underscores, lowercase) to its zone."""
    cities: dict[str, str] = {}
    # Several names for one city are links to the same zone; prefer the longer, canonical one.
    for name in sorted(available_timezones(), key=lambda name: (-name.count("/"), name)):
        region, _, rest = name.partition("/")
        if region not in _CITY_REGIONS or not rest:
            continue
        city = name.rsplit("/", 1)[1].replace("_", " ").lower()
        if city not in _NOT_CITIES:
            cities.setdefault(city, name)
    return cities
