"""A reason (core.reasons) in its two columns, `reason_code` and `reason_facts`, and back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.reasons import Reason, load


def columns(reason: Reason | None) -> dict[str, Any]:
    """The column values that record `reason` (both NULL for none)."""
    if reason is None:
        return {"reason_code": None, "reason_facts": None}
    return {"reason_code": reason.code, "reason_facts": reason.stored()}


def read(code: str | None, facts: Any) -> Reason | None:
    """The reason the columns hold, if any."""
    if code is None:
        return None
    return load(code, facts if isinstance(facts, Mapping) else None)
