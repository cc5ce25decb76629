"""Time-zone phrases: IANA names, "<city> time", UTC/GMT, and zone words declined after a time."""

from __future__ import annotations

import re
from functools import cache
from typing import Final
from zoneinfo import available_timezones

from core.errors import N_, NotUnderstoodError
from scheduler.parsing.rules.scan import Found, Text
from scheduler.schedules.schedule import zone_names

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

# Abbreviations people put after a time; they are ambiguous (IST, CST) or not IANA names.
ZONE_ABBREVIATIONS: Final = frozenset(
    {"acst", "aedt", "aest", "akdt", "akst", "awst", "bst", "cdt", "cest", "cet", "cst", "ct",
     "edt", "eest", "eet", "est", "et", "hst", "ist", "jst", "kst", "mdt", "msk", "mst", "mt",
     "nzdt", "nzst", "pdt", "pst", "pt", "sast", "wet", "wib"}
)  # fmt: skip

# After a time: "UTC", "GMT+2", "EST" ...
AFTER_TIME_ZONE_RE: Final = re.compile(
    r"\s*(?:(?P<alias>utc|gmt)\b(?P<offset>\s*[+-]\s*[0-9])?|(?P<word>[a-z]{2,5})\b)"
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
_ALIAS_ZONE_RE: Final = re.compile(
    r"\b(?:in\s+(?P<in>utc|gmt)\b|(?P<named>utc|gmt)\s+time\b)(?P<offset>\s*[+-]\s*[0-9])?"
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
        if match.group("offset"):
            raise NotUnderstoodError(
                N_("I can't use UTC offsets as a time zone; name a city, e.g. “Berlin time”.")
            )
        set_zone(found, ZONE_ALIASES[match.group("in") or match.group("named")])
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
