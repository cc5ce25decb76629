"""What a button carries: each kind survives the round trip, stays within Telegram's 64 bytes,
buttons sent by earlier versions still read the same, and anything we did not make is refused.
Every kind has its one handler."""

from __future__ import annotations

import pytest
from telegram.ext import CallbackQueryHandler

from bot import callbacks
from bot.callbacks import (
    MAX_CALLBACK_BYTES,
    RESULT,
    TASK_CARD,
    ButtonData,
    CancelChange,
    CancelDraft,
    ChooseDraftModel,
    ConfirmChange,
    ConfirmDelete,
    ConfirmDraft,
    DeleteTask,
    EditDraft,
    KeepTask,
    ListPage,
    PauseTask,
    ReminderDone,
    ResumeTask,
    RetryTask,
    RunTask,
    SkipNext,
    SnoozeReminder,
    SwitchDraftMode,
    SwitchTaskMode,
    TaskHistory,
    ToggleTool,
    UndoSkip,
    decode,
    list_page,
)
from bot.handlers.routes import buttons


@pytest.mark.parametrize(
    "data",
    [
        ConfirmDraft("AbC-_12z"),
        EditDraft("AbC-_12z"),
        CancelDraft("x" * 32),
        PauseTask(42, TASK_CARD),
        ResumeTask(42, RESULT),
        PauseTask(9_223_372_036_854_775_807, list_page(999_999)),
        RunTask(1),
        RetryTask(2),
        DeleteTask(3),
        ConfirmDelete(4),
        KeepTask(5),
        TaskHistory(6),
        ListPage(3),
        ConfirmChange("chg_01"),
        CancelChange("chg_01"),
    ],
)
def test_round_trip(data: ButtonData) -> None:
    packed = data.pack()
    assert len(packed.encode()) <= MAX_CALLBACK_BYTES
    assert decode(packed) == data
    assert type(data).unpack(packed) == data


# What the buttons of earlier versions carried (bot/callbacks.py before the typed kinds), and
# what each means now: a button already in a chat keeps working.
SENT_BEFORE = [
    ("dc:AbC-_12z", ConfirmDraft("AbC-_12z")),
    ("de:AbC-_12z", EditDraft("AbC-_12z")),
    ("dx:AbC-_12z", CancelDraft("AbC-_12z")),
    ("tr:7", RunTask(7)),
    ("ta:7", RunTask(7)),  # Run again on a result
    ("tR:7", RetryTask(7)),
    ("tp:7", PauseTask(7)),  # from before places were marked
    ("tp:7:d", PauseTask(7, TASK_CARD)),
    ("tp:7:r", PauseTask(7, RESULT)),
    ("tu:7:l2", ResumeTask(7, list_page(2))),
    ("td:7", DeleteTask(7)),
    ("ty:7", ConfirmDelete(7)),
    ("tn:7", KeepTask(7)),
    ("th:7", TaskHistory(7)),
    ("lp:3", ListPage(3)),
    ("cc:chg_01", ConfirmChange("chg_01")),
    ("cx:chg_01", CancelChange("chg_01")),
    ("tt:7:2", ToggleTool(7, 2)),
    # New with reminders and skips (issue 29).
    ("dR:AbC-_12z", SwitchDraftMode("AbC-_12z")),
    ("tK:7:d", SwitchTaskMode(7, TASK_CARD)),
    ("tS:7:d", SkipNext(7, TASK_CARD)),
    ("rS:7:15m", SnoozeReminder(7, "15m")),
    ("rS:7:1d", SnoozeReminder(7, "1d")),
    ("rD:7", ReminderDone(7)),
    ("dM:AbC-_12z:2", ChooseDraftModel("AbC-_12z", 2)),
    ("tB:7:d", UndoSkip(7, TASK_CARD)),
]


@pytest.mark.parametrize(("sent", "meant"), SENT_BEFORE)
def test_buttons_sent_by_earlier_versions_still_read_the_same(sent: str, meant: ButtonData) -> None:
    assert decode(sent) == meant
    assert type(meant).matches(sent)


def test_every_kind_was_sent_before_or_is_new_on_purpose() -> None:
    assert {type(meant) for _, meant in SENT_BEFORE} == set(callbacks.kinds())


def test_kinds_do_not_mistake_each_other() -> None:
    assert PauseTask.unpack("tu:7") is None
    assert ResumeTask.unpack("tp:7") is None
    assert ConfirmDraft.unpack("cc:abc") is None


@pytest.mark.parametrize(
    "data",
    [
        "",
        None,
        42,
        "zz:1",
        "tp",
        "tp:",
        "tp:abc",
        "tp:-1",
        "tp:1:x",
        "rS:1",
        "rS:1:2h",
        "tp:1:l",
        "tp:1:l1234567",
        "tp:1:d:d",
        "tp:99999999999999999999",
        "tp:9223372036854775808",
        "lp:1:d",
        "dc:",
        "dc:a b",
        "dc:" + "x" * 33,
        "x" * 65,
    ],
)
def test_foreign_data_is_refused(data: object) -> None:
    assert decode(data) is None


def test_too_long_data_is_refused_when_packing() -> None:
    with pytest.raises(ValueError, match="longer than 64 bytes"):
        ConfirmDraft("x" * 70).pack()


def test_a_code_is_two_letters_and_taken_once() -> None:
    with pytest.raises(ValueError, match="taken"):

        class Again(RunTask, code="tp"):
            pass


def test_every_kind_has_exactly_one_handler() -> None:
    handled = []
    for handler in buttons():
        assert isinstance(handler, CallbackQueryHandler)
        pattern = handler.pattern
        handled.append(getattr(pattern, "__self__", None))  # a kind's `matches`
    assert sorted(kind.__name__ for kind in handled) == sorted(
        kind.__name__ for kind in callbacks.kinds()
    )
