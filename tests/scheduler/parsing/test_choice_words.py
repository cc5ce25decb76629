"""The rules for where results go and which model runs a task, in words: what they read, and
what they leave to the model (or, for a request, in the prompt)."""

from __future__ import annotations

import pytest

from scheduler.parsing.model_words import ModelWords, reply_model, request_model
from scheduler.parsing.target_words import TargetsHow, TargetWords, reply_targets

DESTINATIONS = ("team-slack", "hook")
MODELS = ("fast", "smart")
ADD, REPLACE, REMOVE, SET = TargetsHow.ADD, TargetsHow.REPLACE, TargetsHow.REMOVE, TargetsHow.SET


@pytest.mark.parametrize(
    ("text", "how", "places"),
    [
        ("also post this to @news", ADD, ("@news",)),
        ("Also send it to @news and team-slack too.", ADD, ("@news", "team-slack")),
        ("please also share the results to hook", ADD, ("hook",)),
        ("post it to @news too", ADD, ("@news",)),
        ("send the results to -1001234567890 as well", ADD, ("-1001234567890",)),
        ("add @news", ADD, ("@news",)),
        ("add team-slack as a target", ADD, ("team-slack",)),
        ("post this to team-slack instead", REPLACE, ("team-slack",)),
        ("instead, send it to @news", REPLACE, ("@news",)),
        ("only post to @news", REPLACE, ("@news",)),
        ("post it only to hook", REPLACE, ("hook",)),
        ("post this to @news only!", REPLACE, ("@news",)),
        ("send results here and to @news", SET, ("here", "@news")),
        ("post this to @news", SET, ("@news",)),
        ("post it in @news", SET, ("@news",)),
        ("send results to this chat, @news and team-slack", SET, ("here", "@news", "team-slack")),
        ("post this to some-other-place instead", REPLACE, ("some-other-place",)),
        ("stop posting to @news", REMOVE, ("@news",)),
        ("stop sending the results to team-slack please", REMOVE, ("team-slack",)),
        ("don't post here anymore", REMOVE, ("here",)),
        ("no longer send it to @news", REMOVE, ("@news",)),
        ("remove hook from the targets", REMOVE, ("hook",)),
        ("  ALSO   POST THIS TO @News  ", ADD, ("@News",)),
    ],
)
def test_places_in_a_reply_are_read(text: str, how: TargetsHow, places: tuple[str, ...]) -> None:
    assert reply_targets(text, DESTINATIONS) == TargetWords(how, places)


@pytest.mark.parametrize(
    "text",
    [
        "shorter please",
        "add weather",  # "add" takes only a destination's name as a bare word
        "remove the weather part",
        "post it in english",  # a bare word after "in" is about the words
        "send me the weather",
        "post it to me",
        "send it to everyone",
        "stop posting to the whole team",
        "post this daily",
        "also post the top comment",
        "also post this to @news and tell me why",
        "what did you post to @news?",
        "publie aussi ça dans @news",  # other languages are the model's
    ],
)
def test_anything_more_than_places_is_left_to_the_model(text: str) -> None:
    assert reply_targets(text, DESTINATIONS) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "every day at 9 summarize HN with the smart model",
            ModelWords("smart", True, "every day at 9 summarize HN"),
        ),
        (
            "every day at 9 summarize HN using fast",
            ModelWords("fast", True, "every day at 9 summarize HN"),
        ),
        (
            "every day at 9 summarize HN, using the fast model.",
            ModelWords("fast", True, "every day at 9 summarize HN."),
        ),
        (
            "with the smart model, every day at 9 summarize HN",
            ModelWords("smart", True, "every day at 9 summarize HN"),
        ),
        (
            "every day at 9 use the Smart model to summarize HN",
            ModelWords("smart", True, "every day at 9 to summarize HN"),
        ),
        (
            "every day at 9 summarize HN on the default model",
            ModelWords("default", True, "every day at 9 summarize HN"),
        ),
        # Unknown: reported, and the words stay where they are.
        (
            "every day explain attention with the transformer model",
            ModelWords(
                "transformer", False, "every day explain attention with the transformer model"
            ),
        ),
    ],
)
def test_a_request_names_its_model(text: str, expected: ModelWords) -> None:
    assert request_model(text, MODELS) == expected


@pytest.mark.parametrize(
    "text",
    [
        "every day at 9 summarize HN",
        "every day at 9 summarize HN with smart rhymes",  # a bare name only at the end
        "every day at 9 write a poem using turbo",  # a bare unknown name is no model
        "every day summarize news on the tesla model",  # "on the … model" is a topic
        "every day at 9 tell me about the fast model of Tesla",
        "every day at 9 report on fast",
    ],
)
def test_a_request_without_a_model_keeps_its_words(text: str) -> None:
    assert request_model(text, MODELS) is None


def test_without_models_a_named_model_is_only_reported() -> None:
    found = request_model("every day at 9 summarize HN with the smart model", ())
    assert found == ModelWords("smart", False, "every day at 9 summarize HN with the smart model")
    assert request_model("every day at 9 summarize HN using smart", ()) is None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("use the fast model", "fast"),
        ("Use the fast model please.", "fast"),
        ("switch to smart", "smart"),
        ("switch to the smart model", "smart"),
        ("change the model to smart", "smart"),
        ("set its model to fast", "fast"),
        ("run it on the smart model", "smart"),
        ("make it use fast", "fast"),
        ("use smart instead", "smart"),
        ("use default", "default"),
        ("go back to... no: use the default model", None),
        ("use the turbo model", "turbo"),  # answered with the choices
        ("switch to turbo", None),  # without "model", only a name of MODELS
        ("switch to bullet points", None),
        ("use fewer words", None),
        ("use the fast model and make it shorter", None),
    ],
)
def test_a_reply_names_a_model(text: str, name: str | None) -> None:
    assert reply_model(text, MODELS) == name
