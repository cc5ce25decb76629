"""Callback data: what a button carries (action, id, and where it sits) survives the round trip,
stays within Telegram's 64 bytes, and anything we did not make is refused."""

from __future__ import annotations

import pytest

from bot.callbacks import (
    MAX_CALLBACK_BYTES,
    RESULT,
    TASK_CARD,
    Action,
    Callback,
    decode,
    encode,
    list_page,
)


@pytest.mark.parametrize(
    "callback",
    [
        Callback(Action.CONFIRM, "AbC-_12z"),
        Callback(Action.PAUSE, "42", TASK_CARD),
        Callback(Action.RESUME, "42", RESULT),
        Callback(Action.PAUSE, "9223372036854775807", list_page(999_999)),
        Callback(Action.PAGE, "3"),
    ],
)
def test_round_trip(callback: Callback) -> None:
    data = callback.encode()
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert decode(data) == callback


def test_the_list_page_travels_with_the_button() -> None:
    decoded = decode(encode(Action.PAUSE, 7, list_page(2)))
    assert decoded is not None
    assert decoded.place == list_page(2)
    assert decoded.number == 7


def test_buttons_from_before_places_still_decode() -> None:
    assert decode("tp:42") == Callback(Action.PAUSE, "42")


@pytest.mark.parametrize(
    "data", ["", None, "zz:1", "tp", "tp:", "tp:1:x", "tp:1:l", "tp:1:l1234567", "tp:1:d:d"]
)
def test_foreign_data_is_refused(data: str | None) -> None:
    assert decode(data) is None


def test_too_long_data_is_refused_when_encoding() -> None:
    with pytest.raises(ValueError, match="longer than 64 bytes"):
        Callback(Action.CONFIRM, "x" * 70).encode()
