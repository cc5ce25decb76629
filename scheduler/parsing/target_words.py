"""Where a reply asks a task's results to go, in the common English phrasings.

"also post this to @news" adds, "post this to team-slack instead" replaces, "send results here
and to @news" says exactly where, "stop posting to @news" takes one away. A place is `here`
(this chat), a Telegram chat or channel (`@username` or its numeric id), or a destination's
name. The reply must be only that: anything more, or a word that is not a place ("post it to
the whole team"), and the rules decline (the follow-up model reads it, and other languages,
through propose_change's `targets`). A bare name is read after a verb of posting and "to" (an
unknown one is answered by the targets' checks); after "add" or "remove" only a configured
destination's name is, so "add weather" stays a change to the prompt.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

HERE: Final = "here"


class TargetsHow(StrEnum):
    ADD = "add"
    REPLACE = "replace"
    REMOVE = "remove"
    # Exactly these places.
    SET = "set"


@dataclass(frozen=True, slots=True)
class TargetWords:
    how: TargetsHow
    # The places as written ("here" for this chat), in order, each once.
    words: tuple[str, ...]


_VERB: Final = r"(?:post|send|deliver|share|forward|publish)"
_VERBING: Final = r"(?:posting|sending|delivering|sharing|forwarding|publishing)"
_WHAT: Final = (
    r"(?:it|this|these|them|that|everything|the\s+results?|results?|the\s+answers?|answers?"
    r"|this\s+task|the\s+task|its\s+results|the\s+messages?|messages?|the\s+digests?)"
)
_LEAD: Final = r"(?:please\s+)?(?:(?:can|could|would)\s+you\s+)?"
_TOO: Final = r"(?:too|as\s+well|also)"
_INTO: Final = r"(?:to|in|into|on)"

# (how, form, whether the places follow a verb of posting); the first form that reads the whole
# reply wins.
_FORMS: Final[tuple[tuple[TargetsHow, re.Pattern[str], bool], ...]] = (
    # "stop posting to @news", "stop sending the results to team-slack"
    (
        TargetsHow.REMOVE,
        re.compile(
            rf"{_LEAD}(?:stop|quit)\s+{_VERBING}(?:\s+{_WHAT})?\s+(?P<list>.+?)"
            r"(?:\s+(?:please|from\s+now\s+on))?",
            re.IGNORECASE,
        ),
        True,
    ),
    # "don't post to @news anymore", "no longer send it to team-slack"
    (
        TargetsHow.REMOVE,
        re.compile(
            rf"{_LEAD}(?:don'?t|do\s+not|no\s+longer|never)\s+{_VERB}(?:\s+{_WHAT})?\s+"
            r"(?P<list>.+?)(?:\s+(?:anymore|any\s+more|from\s+now\s+on|again))?",
            re.IGNORECASE,
        ),
        True,
    ),
    # "remove @news", "remove team-slack from the targets"
    (
        TargetsHow.REMOVE,
        re.compile(
            rf"{_LEAD}(?:remove|drop)\s+(?P<list>.+?)"
            r"(?:\s+from\s+(?:the\s+)?(?:targets|places|destinations|list))?",
            re.IGNORECASE,
        ),
        False,
    ),
    # "also post this to @news", "also send it to team-slack too"
    (
        TargetsHow.ADD,
        re.compile(
            rf"{_LEAD}also\s+{_VERB}(?:\s+{_WHAT})?\s+(?P<list>.+?)(?:\s+{_TOO})?",
            re.IGNORECASE,
        ),
        True,
    ),
    # "post it to @news too", "send the results to team-slack as well"
    (
        TargetsHow.ADD,
        re.compile(rf"{_LEAD}{_VERB}(?:\s+{_WHAT})?\s+(?P<list>.+?)\s+{_TOO}", re.IGNORECASE),
        True,
    ),
    # "add @news", "add team-slack as a target"
    (
        TargetsHow.ADD,
        re.compile(
            rf"{_LEAD}add\s+(?P<list>.+?)(?:\s+(?:as\s+(?:a\s+)?targets?|to\s+the\s+targets))?",
            re.IGNORECASE,
        ),
        False,
    ),
    # "post this to team-slack instead", "instead post it to @news", "only post to @news",
    # "post it only to @news", "post it to @news only"
    (
        TargetsHow.REPLACE,
        re.compile(
            rf"{_LEAD}(?:instead,?\s+|only\s+)?{_VERB}(?:\s+{_WHAT})?\s+(?:only\s+)?"
            rf"(?P<list>.+?)\s+(?:instead|only)",
            re.IGNORECASE,
        ),
        True,
    ),
    (
        TargetsHow.REPLACE,
        re.compile(
            rf"{_LEAD}(?:instead,?\s+{_VERB}(?:\s+{_WHAT})?|only\s+{_VERB}(?:\s+{_WHAT})?"
            rf"|{_VERB}(?:\s+{_WHAT})?\s+only)\s+(?P<list>.+?)",
            re.IGNORECASE,
        ),
        True,
    ),
    # "send results here and to @news", "post this to @news"
    (
        TargetsHow.SET,
        re.compile(rf"{_LEAD}{_VERB}(?:\s+{_WHAT})?\s+(?P<list>.+?)", re.IGNORECASE),
        True,
    ),
)
_SEPARATOR: Final = re.compile(
    r"\s*,\s*(?:and\s+)?(?:also\s+)?|\s+and\s+(?:also\s+)?|\s*&\s*|\s+as\s+well\s+as\s+",
    re.IGNORECASE,
)
_PREPOSITION: Final = re.compile(rf"^(?P<word>{_INTO})\s+", re.IGNORECASE)
_HERE_WORDS: Final = re.compile(
    r"^(?:here|(?:this|the|our|my)\s+(?:chat|group|topic|thread|conversation))$", re.IGNORECASE
)
_CHAT: Final = re.compile(r"^(?:@[A-Za-z][A-Za-z0-9_]{3,31}|-?\d{5,19})$")
_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Words after "to" that are people or things, not places.
_NOT_PLACES: Final = frozenset(
    {
        *("me", "us", "you", "him", "her", "them", "everyone", "everybody", "all", "it"),
        *("this", "that", "there", "somewhere", "telegram", "channel", "chat", "group"),
        *("daily", "weekly", "now", "later", "tomorrow", "today"),
    }
)


def _places(listed: str, destinations: Collection[str], *, named: bool) -> list[str] | None:
    """The places of a list ("here and to @news", "@news, team-slack"), or None if any item is
    not one. `named`: the list follows a verb of posting; otherwise only destinations' names
    may be bare words. The first item needs "to" (or is "here") after a verb of posting."""
    known = {name.lower() for name in destinations}
    places: list[str] = []
    for index, item in enumerate(_SEPARATOR.split(listed.strip())):
        word = item.strip()
        preposition = _PREPOSITION.match(word)
        into = preposition["word"].lower() if preposition else None
        word = word[preposition.end() :].strip() if preposition else word
        if _HERE_WORDS.match(word):
            places.append(HERE)
            continue
        if named and index == 0 and into is None:
            return None
        if _CHAT.match(word):
            places.append(word)
        elif word.lower() in known:
            places.append(word.lower())
        elif (
            named and into in ("to", None) and _NAME.match(word) and word.lower() not in _NOT_PLACES
        ):
            # A bare name after "to": a destination the targets' checks will look for ("post
            # it in german" is about the words, not a place).
            places.append(word)
        else:
            return None
    return list(dict.fromkeys(places)) or None


def reply_targets(text: str, destinations: Collection[str] = ()) -> TargetWords | None:
    """Where a reply asks the results to go, when that is all it says (see the module's doc)."""
    reply = " ".join(text.split()).rstrip(".!")
    for how, form, named in _FORMS:
        found = form.fullmatch(reply)
        if found is None:
            continue
        places = _places(found["list"], destinations, named=named)
        if places is not None:
            return TargetWords(how, tuple(places))
    return None
