"""Cleaning text that comes from people or models before it is parsed or stored."""

from __future__ import annotations

import re

# C0 and C1 control characters other than tab and newline: never meant, and PostgreSQL cannot
# even store NUL.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """`text` without control characters (tabs and line breaks stay), stripped."""
    return _CONTROL.sub(" ", text).strip()
