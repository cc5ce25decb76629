"""Reasons made below the bot, said in the chat's language from their facts."""

from __future__ import annotations

import pytest

from application.changes import InvalidChangeError
from bot.i18n import translator
from bot.problems import explain, worded
from core.errors import N_, NotUnderstoodError, ScheduleError
from core.reasons import REASONS, FailedInARow, Other, RunTimedOut
from scheduler.parsing.rules import parse_rules
from scheduler.schedules.cron import parse_cron
from scheduler.schedules.schedule import too_frequent
from tests.bot_harness import NOW
from tests.core.test_reasons import sample


def test_a_reason_is_said_from_its_code_and_facts_a_reason_inside_it_too() -> None:
    paused = FailedInARow(count=3, error=RunTimedOut(seconds=30))
    assert translator("ru").reason(paused) == (
        "она не удалась 3 раза подряд; последняя ошибка: нет ответа за 30 с"
    )
    assert translator("en").reason(paused) == paused.message()
    # Words that are not ours stay as they are.
    assert translator("ru").reason(Other(text="HTTP 418: I'm a teapot")) == "HTTP 418: I'm a teapot"


@pytest.mark.parametrize("language", ["ru", "de", "es", "fr", "pt"])
def test_every_reason_is_said_in_every_language(language: str) -> None:
    _ = translator(language)
    for kind in REASONS:
        if kind is Other:
            continue
        reason = sample(kind)
        assert _.reason(reason) != reason.message(), kind.code


def test_schedule_errors_and_declines_are_worded_from_their_facts() -> None:
    _ = translator("de")
    with pytest.raises(NotUnderstoodError) as declined:
        parse_rules("on february 30 at 9 do x", now=NOW, timezone="Europe/Berlin")
    assert str(declined.value) == "There is no February 30."
    assert worded(_, declined.value) == "Den 30. Februar gibt es nicht."

    with pytest.raises(ScheduleError) as cron:
        parse_cron("0 9 * 13 *")
    assert str(cron.value) == "month 13 is out of range 1–12"
    assert explain(_, cron.value, "UTC").endswith("Monat 13 liegt außerhalb des Bereichs 1–12.")

    often = too_frequent(60, 300)
    assert (
        str(often) == "every 1 minute is more often than this bot allows: at most every 5 minutes"
    )
    assert "alle 1 Minute" in explain(_, often, "UTC")

    nested = InvalidChangeError(
        N_("the new schedule '{schedule}' could not be read: {problem}"),
        schedule="evry tuesday",
        problem=NotUnderstoodError(N_("Today at what time?")),
    )
    assert worded(translator("fr"), nested) == (
        "la nouvelle planification « evry tuesday » est illisible : Aujourd’hui à quelle heure ?"
    )
