"""One line of `cronpilot check`: what was checked, whether it works, and how to fix it.

It lives on the ground floor because `cronpilot/check.py` is not its only author: each tool
module of `scheduler/runner/tools/` writes its own lines (the search provider's, one per MCP
server), and the check command prints them with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One thing checked. `warning` marks a result that works but is probably not intended."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    warning: bool = False
