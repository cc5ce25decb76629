"""What a button carries: one typed class per kind of button, at most 64 bytes, parsed back
strictly.

Each class has a two-letter code and its ids (a draft id, a change id, a task id or a page), and a
task's Pause and Resume also say which screen they sit on (a task card, a result, or page N of
the list), so a press can redraw that screen without reading its wording back. A class is
declared with its code as aiogram declares callback data (`class PauseTask(TaskButton,
code="tp")`), and `bot/handlers/routes.py` registers one handler per class. Buttons already sent
in chats keep working: a code retired from new buttons stays as an alias (`aliases=`).

Whoever presses a button is authorised again by the use case the handler calls: the id must
belong to the chat it is pressed in, and the presser must be allowed to do that there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Self

MAX_CALLBACK_BYTES = 64
# Task ids and pages are 64-bit in the database; anything larger was never ours.
MAX_NUMBER = 2**63 - 1
_KINDS: dict[str, type[ButtonData]] = {}


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


class ButtonData:
    """The base of every kind of button data: `pack` to send it, `unpack` to read it back."""

    __slots__ = ()
    code: ClassVar[str]
    # Codes of buttons already sent in chats that mean this one.
    aliases: ClassVar[tuple[str, ...]] = ()
    # The ids after the code, as a regular expression with named groups.
    _fields: ClassVar[str]

    def __init_subclass__(cls, code: str = "", aliases: tuple[str, ...] = (), **kwargs: object):
        super().__init_subclass__(**kwargs)
        if not code:
            return  # a shape shared by several kinds (TaskButton, …), not a kind itself
        cls.code, cls.aliases = code, aliases
        for each in (code, *aliases):
            if not re.fullmatch(r"[a-zA-Z]{2}", each) or each in _KINDS:
                raise ValueError(f"button code {each!r} is not two letters, or is taken")
            _KINDS[each] = cls

    def pack(self) -> str:
        data = ":".join((self.code, *self._values()))
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data {data!r} is longer than {MAX_CALLBACK_BYTES} bytes")
        return data

    @classmethod
    def unpack(cls, data: object) -> Self | None:
        """The button's data as this kind, or None when it is not (or not anything we made)."""
        found = decode(data)
        return found if isinstance(found, cls) else None

    @classmethod
    def matches(cls, data: object) -> bool:
        """For a handler's pattern: whether the data is a button of this kind."""
        return cls.unpack(data) is not None

    @classmethod
    def _parse(cls, ids: re.Match[str]) -> Self | None:
        raise NotImplementedError

    def _values(self) -> tuple[str, ...]:
        raise NotImplementedError


def decode(data: object) -> ButtonData | None:
    """The button a press carried, or None for anything we did not make."""
    if not isinstance(data, str) or len(data.encode()) > MAX_CALLBACK_BYTES:
        return None
    code, _, ids = data.partition(":")
    kind = _KINDS.get(code)
    if kind is None:
        return None
    match = re.fullmatch(kind._fields, ids)
    return kind._parse(match) if match is not None else None


def _number(ids: re.Match[str]) -> int | None:
    """The id or page a button carries; None when it is larger than any we make."""
    number = int(ids["number"])
    return number if number <= MAX_NUMBER else None


# --- the shapes ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeptButton(ButtonData):
    """A button on something kept by a short id until it is answered (a request's card, a
    change card)."""

    ref: str
    _fields: ClassVar[str] = r"(?P<ref>[A-Za-z0-9_-]{1,32})"

    @classmethod
    def _parse(cls, ids: re.Match[str]) -> Self | None:
        return cls(ids["ref"])

    def _values(self) -> tuple[str, ...]:
        return (self.ref,)


class DraftButton(KeptButton):
    """A button on a confirmation card."""

    @property
    def draft_id(self) -> str:
        return self.ref


class ChangeButton(KeptButton):
    """A button on a change card."""

    @property
    def change_id(self) -> str:
        return self.ref


@dataclass(frozen=True, slots=True)
class TaskButton(ButtonData):
    """A button that acts on a task; Pause and Resume also say where they sit (buttons sent
    before places were marked carry none)."""

    task_id: int
    place: Place | None = None
    _fields: ClassVar[str] = r"(?P<number>[0-9]{1,19})(?::(?P<place>[dr]|l[0-9]{1,6}))?"

    @classmethod
    def _parse(cls, ids: re.Match[str]) -> Self | None:
        number, marker = _number(ids), ids["place"]
        if number is None or marker is None:
            return None if number is None else cls(number)
        return cls(number, list_page(int(marker[1:])) if marker[0] == LIST else Place(marker))

    def _values(self) -> tuple[str, ...]:
        if self.place is None:
            return (str(self.task_id),)
        return (str(self.task_id), self.place.encode())


@dataclass(frozen=True, slots=True)
class PageButton(ButtonData):
    """A button that turns to a page of a list (from 0)."""

    page: int
    _fields: ClassVar[str] = r"(?P<number>[0-9]{1,19})"

    @classmethod
    def _parse(cls, ids: re.Match[str]) -> Self | None:
        page = _number(ids)
        return cls(page) if page is not None else None

    def _values(self) -> tuple[str, ...]:
        return (str(self.page),)


@dataclass(frozen=True, slots=True)
class DelayButton(ButtonData):
    """A button that puts a task's run off by one of a few fixed delays ("15m", "1h", "1d")."""

    task_id: int
    delay: str
    _fields: ClassVar[str] = r"(?P<number>[0-9]{1,19}):(?P<delay>15m|1h|1d)"

    @classmethod
    def _parse(cls, ids: re.Match[str]) -> Self | None:
        number = _number(ids)
        return cls(number, ids["delay"]) if number is not None else None

    def _values(self) -> tuple[str, ...]:
        return (str(self.task_id), self.delay)


# --- the kinds: one handler each (bot/handlers/routes.py) ---------------------------------------


class ConfirmDraft(DraftButton, code="dc"):
    """Confirm on a card: the draft becomes a task."""


class EditDraft(DraftButton, code="de"):
    """Edit on a card: the next request replaces it."""


class CancelDraft(DraftButton, code="dx"):
    """Cancel on a card."""


class RunTask(TaskButton, code="tr", aliases=("ta",)):
    """Run now on a task card or list, and Run again on a result ("ta" on results sent before
    the two were one kind)."""


class RetryTask(TaskButton, code="tR"):
    """Retry on a failure notice: a run with the retry trigger."""


class PauseTask(TaskButton, code="tp"):
    """Pause; it redraws the screen it sits on."""


class ResumeTask(TaskButton, code="tu"):
    """Resume; it redraws the screen it sits on."""


class DeleteTask(TaskButton, code="td"):
    """Delete: asks again first."""


class ConfirmDelete(TaskButton, code="ty"):
    """“Delete it” under the question."""


class KeepTask(TaskButton, code="tn"):
    """“Keep it” under the question."""


class TaskHistory(TaskButton, code="th"):
    """History: the task's last runs and follow-ups."""


class ListPage(PageButton, code="lp"):
    """« Previous and Next » under the task list."""


class ConfirmChange(ChangeButton, code="cc"):
    """Confirm on a change card: the task changes."""


class CancelChange(ChangeButton, code="cx"):
    """Cancel on a change card."""


@dataclass(frozen=True, slots=True)
class TaskItemButton(ButtonData):
    """A button on one item of a task's list (a tool under /tools N): the task and the item's
    place in the list."""

    task_id: int
    index: int
    _fields: ClassVar[str] = r"(?P<number>[0-9]{1,19}):(?P<index>[0-9]{1,3})"

    @classmethod
    def _parse(cls, ids: re.Match[str]) -> Self | None:
        number = _number(ids)
        return cls(number, int(ids["index"])) if number is not None else None

    def _values(self) -> tuple[str, ...]:
        return (str(self.task_id), str(self.index))


class ToggleTool(TaskItemButton, code="tt"):
    """A tool's on/off button under /tools N."""


@dataclass(frozen=True, slots=True)
class DraftChoiceButton(ButtonData):
    """A button on a confirmation card that picks one of a few choices: the draft and the
    choice's place in their list."""

    ref: str
    index: int
    _fields: ClassVar[str] = r"(?P<ref>[A-Za-z0-9_-]{1,32}):(?P<index>[0-9]{1,3})"

    @property
    def draft_id(self) -> str:
        return self.ref

    @classmethod
    def _parse(cls, ids: re.Match[str]) -> Self | None:
        return cls(ids["ref"], int(ids["index"]))

    def _values(self) -> tuple[str, ...]:
        return (self.ref, str(self.index))


class ChooseDraftModel(DraftChoiceButton, code="dM"):
    """“🧠 Model: …” on a card: the draft's task runs on the next model of its choices (the
    default, then MODELS); `index` is that choice's place."""


class UndoSkip(TaskButton, code="tB"):
    """Undo under “next run skipped” on a task card: the skipped run happens after all."""


class SwitchDraftMode(DraftButton, code="dR"):
    """On a card: “🤖 Let the AI do it” / “⏰ Just remind me”."""


class SwitchTaskMode(TaskButton, code="tK"):
    """On a task card: the same switch for a task; it redraws the card."""


class SkipNext(TaskButton, code="tS"):
    """Skip next on a task card: the task's next run is skipped (/skip N)."""


class ReminderDone(TaskButton, code="rD"):
    """Done under a one-time reminder."""


class SnoozeReminder(DelayButton, code="rS"):
    """Snooze under a one-time reminder: for 15 minutes, an hour, or until tomorrow at the
    same time (`delay`, a value of application.shapes.SnoozeFor)."""


def kinds() -> tuple[type[ButtonData], ...]:
    """Every kind of button, once (for the registration's completeness test)."""
    return tuple(dict.fromkeys(_KINDS.values()))
