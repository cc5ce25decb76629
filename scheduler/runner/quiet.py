"""Quiet when nothing changed (/quiet N changed): an answer that says what the last posted one
said, once whitespace and Markdown are set aside, is recorded silent and not posted."""

from __future__ import annotations

import re

# Markdown's marks: emphasis, code, headings, quotes, list bullets, links' brackets, rules.
_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)]*)\)")
_MARKS = re.compile(r"[*_`~#>|]+")
_BULLET = re.compile(r"^\s*(?:[-+*]|\d+[.)])\s+", re.MULTILINE)
_SPACE = re.compile(r"\s+")


def normalised(answer: str) -> str:
    """The answer's words: links as their text and address, no Markdown marks, bullets or
    numbering, whitespace collapsed."""
    text = _LINK.sub(r"\1 \2", answer)
    text = _BULLET.sub(" ", text)
    text = _MARKS.sub("", text)
    return _SPACE.sub(" ", text).strip()


def unchanged(answer: str, last_posted: str | None) -> bool:
    """Whether `answer` says the same as the last answer posted (None: nothing posted yet)."""
    return last_posted is not None and normalised(answer) == normalised(last_posted)
