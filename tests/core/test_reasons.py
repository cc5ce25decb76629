"""The reasons' registry: one code each, facts that match their sentence, stored and read back."""

from __future__ import annotations

import dataclasses
from string import Formatter
from typing import Any

import pytest

from core import reasons
from core.reasons import (
    BY_CODE,
    REASONS,
    FailedInARow,
    ModelTimedOut,
    Other,
    Reason,
    RunTimedOut,
    load,
)

SAMPLES: dict[str, Any] = {
    "seconds": 2.5,
    "steps": 5,
    "count": 3,
    "status": 503,
    "kind": "ValueError",
    "model": "openai/gpt-4o-mini",
    "problem": "the proposal would change nothing",
    "text": "HTTP 418: I'm a teapot",
    "error": RunTimedOut(seconds=120),
    "cap": "0.50",
    "user_id": 111,
    "words": "Forbidden: bot was kicked from the channel chat",
    "attempts": 8,
}


def sample(kind: type[Reason]) -> Reason:
    return kind(**{field.name: SAMPLES[field.name] for field in dataclasses.fields(kind)})


def test_every_reason_is_listed_once_with_a_code_of_its_own() -> None:
    declared = {
        value
        for value in vars(reasons).values()
        if isinstance(value, type) and issubclass(value, Reason) and value is not Reason
    }
    assert set(REASONS) == declared
    assert len(BY_CODE) == len(REASONS)
    for kind in REASONS:
        assert kind.code.isascii()
        assert kind.code.islower()
        assert len(kind.code) <= 32  # reason_code's width


@pytest.mark.parametrize("kind", REASONS, ids=lambda kind: kind.code)
def test_a_reason_has_a_placeholder_for_each_fact_and_reads_back_as_stored(
    kind: type[Reason],
) -> None:
    placeholders = {name for _, name, _, _ in Formatter().parse(kind.sentence) if name}
    assert placeholders == {field.name for field in dataclasses.fields(kind)}
    reason = sample(kind)
    assert load(reason.code, reason.stored()) == reason
    assert "{" not in reason.message()


def test_facts_are_typed_and_worded_as_people_write_them() -> None:
    paused = FailedInARow(count=3, error=ModelTimedOut(seconds=30.0))
    assert paused.message() == (
        "it failed 3 times in a row; the last error was: the model did not answer within 30 s"
    )
    assert paused.stored() == {
        "count": 3,
        "error": {"code": "model_timeout", "facts": {"seconds": 30.0}},
    }
    assert paused.shown() == {
        "code": "failed_in_a_row",
        "facts": paused.stored(),
        "message": paused.message(),
    }
    assert str(ModelTimedOut(seconds=0.5)) == "the model did not answer within 0.5 s"
    # Stored numbers come back as the fact's type.
    assert load("model_timeout", {"seconds": 30}) == ModelTimedOut(seconds=30.0)


def test_a_stored_reason_this_version_cannot_read_is_kept_as_other() -> None:
    assert load("retry_budget", {"left": 2}) == Other(text='retry_budget {"left": 2}')
    assert load("retry_budget", None) == Other(text="retry_budget")
    # Facts of the wrong type, or missing, do not fit.
    assert load("provider_failed", {"status": "503"}) == Other(
        text='provider_failed {"status": "503"}'
    )
    assert load("endless_tools", {"steps": True}) == Other(text='endless_tools {"steps": true}')
    assert load("endless_tools", {}) == Other(text="endless_tools")
    # Facts a reason no longer declares are left out.
    assert load("key_rejected", {"status": 401, "detail": "bad key"}) == BY_CODE["key_rejected"](
        status=401
    )


def test_transient_reasons_are_the_ones_worth_trying_again() -> None:
    transient = {kind.code for kind in REASONS if kind.transient}
    assert transient == {
        "model_timeout",
        "no_connection",
        "rate_limited",
        "rate_limited_http",
        "provider_failed",
        "run_timeout",
        "database_unavailable",
        "bot_stopped",
        "bot_shut_down",
        "answer_interrupted",
        "telegram_busy",
        "destination_http",
        "destination_unreachable",
        "destination_refused",
    }
