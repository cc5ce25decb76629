"""Reasons made below the bot, said in the chat's language from their facts."""

from __future__ import annotations

import pytest

from application.changes import InvalidChangeError
from bot.failures import RUN_FAILURES, run_failure
from bot.i18n import translator
from bot.problems import explain, words
from core.errors import N_, NotUnderstoodError, ScheduleError
from scheduler.parsing.rules import parse_rules
from scheduler.runner.runner import NO_ANSWER
from scheduler.runner.sending import FAILED_IN_A_ROW
from scheduler.schedules.cron import parse_cron
from scheduler.schedules.schedule import too_frequent
from tests.bot_harness import NOW


def test_a_recorded_failure_comes_back_with_its_facts_and_nested_reasons() -> None:
    _ = translator("ru")
    recorded = FAILED_IN_A_ROW.format(count=3, error=NO_ANSWER.format(seconds="30"))
    assert recorded == "it failed 3 times in a row; the last error was: no answer within 30 s"
    assert run_failure(_, recorded) == (
        "она не удалась 3 раза подряд; последняя ошибка: нет ответа за 30 с"
    )
    # A provider's or a tool's own words stay as they are.
    assert run_failure(_, "HTTP 418: I'm a teapot") == "HTTP 418: I'm a teapot"
    assert run_failure(translator("en"), recorded) == recorded


@pytest.mark.parametrize("language", ["ru", "de", "es", "fr", "pt"])
def test_every_recorded_failure_is_translated(language: str) -> None:
    _ = translator(language)
    for template in RUN_FAILURES:
        facts = dict.fromkeys(("seconds", "steps", "count", "status", "kind", "model"), "7")
        facts["error"] = "x"
        english = template.format(**facts)
        assert run_failure(_, english) != english, template


def test_schedule_errors_and_declines_are_worded_from_their_facts() -> None:
    _ = translator("de")
    with pytest.raises(NotUnderstoodError) as declined:
        parse_rules("on february 30 at 9 do x", now=NOW, timezone="Europe/Berlin")
    assert str(declined.value) == "There is no February 30."
    assert words(_, declined.value) == "Den 30. Februar gibt es nicht."

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
    assert words(translator("fr"), nested) == (
        "la nouvelle planification « evry tuesday » est illisible : Aujourd’hui à quelle heure ?"
    )
