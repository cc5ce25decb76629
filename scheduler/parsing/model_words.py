"""Which of the operator's models (MODELS) a request or a reply names.

In a request the choice is a phrase beside the task: "every day at 9 summarize HN with the
smart model", "… using fast". A name of MODELS (or "default") is taken out of the prompt, and
nothing else is. A name MODELS does not have is left in the prompt, where it may well mean
something else ("explain it with the transformer model"), and reported, so the card can say
which models there are. A bare name without the word "model" is read only when it is one of
MODELS and ends the request ("… using fast").

A reply that is only a model choice ("use the fast model", "switch to smart", "change the
model to smart") names the model. With the word "model" in it any name is read (an unknown
one gets a sentence listing the models); without it, only a name of MODELS or "default", so
"switch to bullet points" is left to the model. Other languages are the follow-up model's
(propose_change's `model`), as for every other change.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

DEFAULT: Final = "default"
_NAME: Final = r"[a-z][a-z0-9_-]{0,23}"

# "… with the smart model", "using the fast model", "use the smart model", "on the smart model".
_NAMED_MODEL: Final = re.compile(
    rf"(?P<lead>[,;]\s*|\s+|^)(?:and\s+)?(?P<verb>with|using|use|on|via)\s+(?:the\s+)?"
    rf"(?P<name>{_NAME})\s+model\b",
    re.IGNORECASE,
)
# "… with the model smart" (only a name of MODELS).
_MODEL_NAMED: Final = re.compile(
    rf"(?P<lead>[,;]\s*|\s+|^)(?:and\s+)?(?:with|using|use|on)\s+(?:the\s+)?model\s+"
    rf"(?P<name>{_NAME})\b",
    re.IGNORECASE,
)
# "… using fast" at the very end (only a name of MODELS; "report on fast" is no choice).
_BARE_AT_END: Final = re.compile(
    rf"(?P<lead>[,;]\s*|\s+)(?:and\s+)?(?:with|using)\s+(?:the\s+)?(?P<name>{_NAME})"
    r"\s*[.!]?\s*$",
    re.IGNORECASE,
)
# Only these verbs make an unknown name worth a note: "on the X model" is too often a topic.
_ASKING_VERBS: Final = frozenset({"with", "using", "use"})

_REPLY: Final = re.compile(
    r"(?:please\s+)?(?:(?:can|could|would)\s+you\s+)?(?:"
    rf"(?:use|switch\s+to|change\s+to|move\s+to|go\s+with|try|pick|choose)\s+(?:the\s+)?"
    rf"(?P<a>{_NAME})(?P<a_model>\s+model)?"
    rf"|(?:switch|change|set)\s+(?:the\s+|its\s+|your\s+)?model\s+to\s+(?:the\s+)?"
    rf"(?P<b>{_NAME})(?:\s+model)?"
    rf"|(?:run|answer|do)\s+(?:it|this|this\s+task|the\s+task)\s+(?:on|with)\s+(?:the\s+)?"
    rf"(?P<c>{_NAME})(?P<c_model>\s+model)?"
    rf"|(?:make|have|let)\s+it\s+use\s+(?:the\s+)?(?P<d>{_NAME})(?P<d_model>\s+model)?"
    r")(?:\s+(?:instead|from\s+now\s+on|please|for\s+this(?:\s+task)?))?",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ModelWords:
    """A model named in a request: `name` as written (lowercase; "default" for the default),
    whether MODELS has it, and the request without the phrase (unchanged when unknown)."""

    name: str
    known: bool
    rest: str


def _known(name: str, names: Collection[str]) -> bool:
    return name == DEFAULT or name in names


def _without(text: str, start: int, end: int) -> str:
    """`text` with [start, end) taken out and the two sides joined by one space (none before
    punctuation)."""
    before = text[:start].rstrip().rstrip(",;").rstrip()
    after = text[end:].lstrip()
    if not before:
        return after.lstrip(",;").lstrip()
    if not after or after[0] in ".,;:!?":
        return before + after
    return f"{before} {after}"


def request_model(text: str, names: Collection[str]) -> ModelWords | None:
    """The model a request names, if it names one (see the module's doc)."""
    wanted = {name.lower() for name in names}
    unknown: ModelWords | None = None
    for pattern in (_NAMED_MODEL, _MODEL_NAMED, _BARE_AT_END):
        for found in pattern.finditer(text):
            name = found["name"].lower()
            if _known(name, wanted):
                return ModelWords(name, True, _without(text, found.start(), found.end()))
            verb = found.groupdict().get("verb")
            if pattern is _NAMED_MODEL and verb is not None and verb.lower() in _ASKING_VERBS:
                unknown = unknown or ModelWords(name, False, text)
    return unknown


def reply_model(text: str, names: Collection[str]) -> str | None:
    """The model a reply asks the task to use, when that is all it says (lowercase; "default"
    for the default), else None."""
    found = _REPLY.fullmatch(" ".join(text.split()).rstrip(".!"))
    if found is None:
        return None
    wanted = {name.lower() for name in names}
    for group, said_model in (("a", "a_model"), ("b", None), ("c", "c_model"), ("d", "d_model")):
        name = found[group]
        if name is None:
            continue
        name = name.lower()
        if said_model is None or found[said_model] is not None or _known(name, wanted):
            return name
        return None
    return None
