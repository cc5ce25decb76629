"""Callback data: short ids only, at most 64 bytes, parsed back strictly.

Every button carries an action and one id (a draft id, a task id or a page number), and a task's
buttons also say which screen they sit on (a task card, a result, or page N of the list), so a
press can redraw that screen without reading its wording back. Whoever presses a button is
authorised again by the handler: the id must belong to the chat it is pressed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

MAX_CALLBACK_BYTES = 64
# Task ids and pages are 64-bit in the database; anything larger was never ours.
MAX_NUMBER = 2**63 - 1


class Action(StrEnum):
    CONFIRM = "dc"
    EDIT = "de"
    CANCEL = "dx"
    RUN = "tr"
    RUN_AGAIN = "ta"
    RETRY = "tR"
    PAUSE = "tp"
    RESUME = "tu"
    DELETE = "td"
    DELETE_YES = "ty"
    DELETE_NO = "tn"
    HISTORY = "th"
    PAGE = "lp"
    CHANGE_CONFIRM = "cc"
    CHANGE_CANCEL = "cx"


DRAFT_ACTIONS = frozenset({Action.CONFIRM, Action.EDIT, Action.CANCEL})
CHANGE_ACTIONS = frozenset({Action.CHANGE_CONFIRM, Action.CHANGE_CANCEL})
_SHAPE = re.compile(
    r"^(?P<action>[a-zA-Z]{2}):(?P<ref>[A-Za-z0-9_-]{1,32})(?::(?P<place>[dr]|l[0-9]{1,6}))?$"
)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a task's button sits: "d" a task card, "r" a posted result, "l<N>" list page N."""

    kind: str
    page: int = 0

    def encode(self) -> str:
        return f"{LIST}{self.page}" if self.kind == LIST else self.kind


LIST = "l"
TASK_CARD = Place("d")
RESULT = Place("r")


def list_page(page: int) -> Place:
    return Place(LIST, page)


@dataclass(frozen=True, slots=True)
class Callback:
    action: Action
    ref: str
    # Buttons sent before places were marked carry none.
    place: Place | None = None

    @property
    def number(self) -> int:
        """The ref as a task id or page; ValueError when it is not a number."""
        if not self.ref.isascii() or not self.ref.isdigit() or int(self.ref) > MAX_NUMBER:
            raise ValueError(f"{self.ref!r} is not a number we could have made")
        return int(self.ref)

    def encode(self) -> str:
        data = f"{self.action.value}:{self.ref}"
        if self.place is not None:
            data += f":{self.place.encode()}"
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data {data!r} is longer than {MAX_CALLBACK_BYTES} bytes")
        return data


def encode(action: Action, ref: str | int, place: Place | None = None) -> str:
    return Callback(action, str(ref), place).encode()


def decode(data: str | None) -> Callback | None:
    """The callback a button carried, or None for anything we did not make."""
    if not data:
        return None
    match = _SHAPE.match(data)
    if match is None:
        return None
    try:
        action = Action(match["action"])
    except ValueError:
        return None
    marker = match["place"]
    if marker is None:
        place = None
    elif marker.startswith("l"):
        place = list_page(int(marker[1:]))
    else:
        place = Place(marker)
    return Callback(action, match["ref"], place)
