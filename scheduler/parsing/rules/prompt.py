"""The task prompt: the message without its schedule phrases, tidied at the seams."""

from __future__ import annotations

import re
from typing import Final

from scheduler.parsing.rules.scan import Text

# Punctuation only, in the user's own spelling (the prompt is cut from the original text).
_PROMPT_NOISE_RE: Final = re.compile(r"[\s,;:.!?\-\u2013\u2014()\[\]*_~\"'\u2018\u2019]*")
_EMPTY_BRACKETS_RE: Final = re.compile(r"\(\s*\)|\[\s*\]")
_SPACES_RE: Final = re.compile(r"[^\S\n]+")
_LINE_EDGE_SPACES_RE: Final = re.compile(r" ?\n ?")
_LEADING_NOISE_RE: Final = re.compile(r"^[\s,;:.!?)\]\-\u2013\u2014]+")
_TRAILING_NOISE_RE: Final = re.compile(r"(?:[\s,;:\-\u2013\u2014(\[]|\s[.!]+)+$")


def prompt_of(text: Text) -> str:
    """The text without its schedule phrases, tidied at the seams and the ends."""
    pieces: list[str] = []
    cursor = 0
    for start, end in sorted(text.spans):
        pieces.append(text.original[cursor:start])
        cursor = end
    pieces.append(text.original[cursor:])
    # A final "?" that followed the schedule ("... every day at 9?") still ends the question.
    question = bool(_PROMPT_NOISE_RE.fullmatch(pieces[-1])) and "?" in pieces[-1]
    kept = [piece for piece in pieces if not _PROMPT_NOISE_RE.fullmatch(piece)]
    if not kept:
        return ""
    prompt = kept[0]
    for piece in kept[1:]:
        left, right = prompt.rstrip(), piece.lstrip()
        if left.endswith(",") and right.startswith(","):
            # "remind me, every day at 9, to stretch": the commas went with the schedule.
            left, right = left[:-1], right[1:].lstrip()
        elif left[-1:] in tuple(":;") and right.startswith(","):
            right = right[1:].lstrip()  # "Team: starting monday, post your update"
        if right[:1] in tuple(".,;:!?)]") or left[-1:] in ("(", "["):
            prompt = left + right
        else:
            prompt = f"{left} {right}"
    prompt = _EMPTY_BRACKETS_RE.sub("", prompt)
    prompt = _LINE_EDGE_SPACES_RE.sub("\n", _SPACES_RE.sub(" ", prompt))
    prompt = _TRAILING_NOISE_RE.sub("", _LEADING_NOISE_RE.sub("", prompt))
    if question and prompt and not prompt.endswith("?"):
        prompt += "?"
    return prompt[:1].upper() + prompt[1:]
