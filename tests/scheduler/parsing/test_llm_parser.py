"""The LLM schedule parser and the rules-first request parser, through the real LiteLLM client.

Every request goes over HTTP to the fake OpenAI-compatible server, so the tool schema, the forced
tool choice and the repair conversation are checked as a provider would receive them. The clock is
fixed: Thursday 2026-11-26 10:00 in Berlin (CET, +01:00).
"""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.errors import NotUnderstoodError, ScheduleError
from scheduler.llm import LiteLLMClient
from scheduler.parsing.llm_parser import TOOL_NAME, LLMScheduleParser, ParserUnavailableError
from scheduler.parsing.request import RequestParser, build_request_parser
from scheduler.parsing.rules import parse_rules
from scheduler.schedules.schedule import ParsedRequest, Schedule, validate
from storage.records import TaskKind
from tests.fakes.llm import FakeLLM

pytestmark = pytest.mark.usefixtures("litellm_imported")

TZ = "Europe/Berlin"
BERLIN = ZoneInfo(TZ)
TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN)  # a Thursday
MODEL = "openai/gpt-4o-mini"
API_KEY = "sk-test"
MIN_INTERVAL = 300
TEXT = "weekdays around nine, summarize the top Hacker News stories"
# A phrase the rules parser declines ("fortnight"), so the LLM is asked.
DECLINED_BY_RULES = "a fortnight from now after lunch water the plants"
ANSWER_FIELDS = {
    "understood",
    "reason",
    "kind",
    "cron",
    "run_at",
    "every_seconds",
    "timezone",
    "prompt",
}
NO_SCHEDULE = "I couldn't find a schedule in that"
UNAVAILABLE = "I couldn't understand that right now: the language model is unavailable"


def llm_parser(
    llm: FakeLLM, *, timeout_seconds: float = 10.0, api_key: str = API_KEY
) -> LLMScheduleParser:
    client = LiteLLMClient(api_base=llm.base_url, api_key=api_key)
    return LLMScheduleParser(
        client, model=MODEL, min_interval_seconds=MIN_INTERVAL, timeout_seconds=timeout_seconds
    )


def request_parser(llm: FakeLLM, *, model: str = MODEL) -> RequestParser:
    client = LiteLLMClient(api_base=llm.base_url, api_key=API_KEY)
    return build_request_parser(llm=client, model=model, min_interval_seconds=MIN_INTERVAL)


async def parse(llm: FakeLLM, text: str = TEXT, **parser_options: Any) -> ParsedRequest:
    return await llm_parser(llm, **parser_options).parse(text, now=NOW, timezone=TZ)


def answer(**fields: Any) -> dict[str, Any]:
    """A `schedule_task` argument object that says it understood."""
    return {"understood": True, **fields}


GOOD = answer(kind="cron", cron="0 9 * * 1-5", prompt="summarize the top Hacker News stories")
GOOD_REQUEST = ParsedRequest(
    schedule=Schedule(kind=TaskKind.CRON, timezone=TZ, cron="0 9 * * 1-5"),
    prompt="Summarize the top Hacker News stories",
    source="llm",
)


def cron_request(cron: str, prompt: str, *, zone: str = TZ) -> ParsedRequest:
    return ParsedRequest(Schedule(kind=TaskKind.CRON, timezone=zone, cron=cron), prompt, "llm")


def schedule_problem(schedule: Schedule) -> str:
    """What validation says about `schedule`: the text the parser must hand back to the model."""
    with pytest.raises(ScheduleError) as raised:
        validate(schedule, now=NOW, min_interval_seconds=MIN_INTERVAL)
    return str(raised.value)


def repair_message(call_id: str, problem: str) -> dict[str, str]:
    return {
        "role": "tool",
        "tool_call_id": call_id,
        "content": f"Invalid: {problem}. Call {TOOL_NAME} again, corrected.",
    }


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


# --- good answers ------------------------------------------------------------------------------


async def test_a_cron_answer_becomes_the_validated_request(llm: FakeLLM) -> None:
    llm.reply_tool_calls(
        [(TOOL_NAME, answer(kind="cron", cron=" 0  9 * * 1-5 ", prompt="  summarize the   top "))]
    )

    request = await parse(llm)

    # Spaces normalised, the prompt capitalised, the chat's zone used.
    assert request == cron_request("0 9 * * 1-5", "Summarize the top")
    assert len(llm.requests) == 1


async def test_the_request_forces_the_one_schedule_function_and_tells_the_time(
    llm: FakeLLM,
) -> None:
    llm.reply_tool_calls([(TOOL_NAME, GOOD)])

    await parse(llm)

    [request] = llm.requests
    assert request["model"] == "gpt-4o-mini"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert "stream" not in request
    [tool] = request["tools"]
    assert tool["type"] == "function"
    assert tool["function"]["name"] == TOOL_NAME
    assert tool["function"]["description"]
    schema = tool["function"]["parameters"]
    assert schema["type"] == "object"
    assert set(schema["properties"]) == ANSWER_FIELDS
    assert schema["required"] == ["understood"]
    assert schema["properties"]["understood"]["type"] == "boolean"
    assert schema["properties"]["every_seconds"]["anyOf"] == [
        {"type": "integer"},
        {"type": "null"},
    ]
    assert schema["properties"]["kind"]["anyOf"][0] == {
        "enum": ["cron", "once", "interval"],
        "type": "string",
    }
    # Every field tells the model what it is for.
    assert all(field["description"] for field in schema["properties"].values())
    assert request["tool_choice"] == {"type": "function", "function": {"name": TOOL_NAME}}
    system, user = request["messages"]
    assert system["role"] == "system"
    assert TOOL_NAME in system["content"]
    assert user == {"role": "user", "content": TEXT}


@pytest.mark.parametrize(
    ("now", "zone", "line"),
    [
        (NOW, TZ, "Current time: Thursday 2026-11-26 10:00 in Europe/Berlin (UTC offset +0100)."),
        # `now` in another zone is shown in the chat's zone.
        (
            NOW.astimezone(UTC),
            "Asia/Tokyo",
            "Current time: Thursday 2026-11-26 18:00 in Asia/Tokyo (UTC offset +0900).",
        ),
        (
            datetime(2027, 7, 1, 6, 30, tzinfo=UTC),
            TZ,
            "Current time: Thursday 2027-07-01 08:30 in Europe/Berlin (UTC offset +0200).",
        ),
    ],
)
async def test_the_system_prompt_holds_the_local_time_and_zone(
    llm: FakeLLM, now: datetime, zone: str, line: str
) -> None:
    llm.reply_tool_calls([(TOOL_NAME, GOOD)])

    await llm_parser(llm).parse(TEXT, now=now, timezone=zone)

    system = llm.requests[0]["messages"][0]["content"]
    assert line in system.splitlines()


@pytest.mark.parametrize(
    ("run_at", "expected"),
    [
        ("2026-12-24T18:00:00", datetime(2026, 12, 24, 17, 0, tzinfo=UTC)),
        ("2026-11-26T10:02", datetime(2026, 11, 26, 9, 2, tzinfo=UTC)),
        # Summer time: +02:00.
        ("2027-07-01T18:00:00", datetime(2027, 7, 1, 16, 0, tzinfo=UTC)),
        # In the spring-forward gap: the first valid instant after it, 03:00 CEST.
        ("2027-03-28T02:30:00", datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
        # In the repeated fall-back hour: the first of the two, still CEST.
        ("2027-10-31T02:30:00", datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
        # An explicit offset is an instant as it stands.
        ("2026-12-24T18:00:00+09:00", datetime(2026, 12, 24, 9, 0, tzinfo=UTC)),
    ],
)
async def test_a_one_shot_answer_with_a_local_time_is_the_right_instant(
    llm: FakeLLM, run_at: str, expected: datetime
) -> None:
    llm.reply_tool_calls([(TOOL_NAME, answer(kind="once", run_at=run_at, prompt="call Anna"))])

    request = await parse(llm, "on Christmas Eve at six in the evening call Anna")

    assert request == ParsedRequest(
        Schedule(kind=TaskKind.ONCE, timezone=TZ, run_at=expected), "Call Anna", "llm"
    )
    assert request.schedule.run_at is not None
    assert request.schedule.run_at.tzinfo is UTC
    assert request.schedule.next_runs(NOW, 3) == [expected]


async def test_an_interval_answer_counts_from_now(llm: FakeLLM) -> None:
    llm.reply_tool_calls(
        [(TOOL_NAME, answer(kind="interval", every_seconds=5400, prompt="stretch"))]
    )

    request = await parse(llm, "every hour and a half, stretch")

    assert request == ParsedRequest(
        Schedule(kind=TaskKind.INTERVAL, timezone=TZ, every_seconds=5400, run_at=NOW),
        "Stretch",
        "llm",
    )
    assert request.schedule.next_runs(NOW, 2) == [
        NOW + timedelta(minutes=90),
        NOW + timedelta(minutes=180),
    ]


@pytest.mark.parametrize(
    ("zone", "first_run", "after_the_change"),
    [
        # Europe/Berlin springs forward on 29 March 2026, America/New_York on 8 March.
        ("Europe/Berlin", "2026-03-16T10:00:00", "2026-03-30T10:00:00+02:00"),
        ("America/New_York", "2026-02-23T10:00:00", "2026-03-09T10:00:00-04:00"),
    ],
)
async def test_an_llm_interval_from_its_first_run_matches_the_rules_across_dst(
    llm: FakeLLM, zone: str, first_run: str, after_the_change: str
) -> None:
    text = "every other week on monday at 10 send the team update"
    now = datetime(2026, 2, 12, 12, 0, tzinfo=ZoneInfo(zone))
    llm.reply_tool_calls(
        [
            (
                TOOL_NAME,
                answer(
                    kind="interval",
                    every_seconds=14 * 86_400,
                    run_at=first_run,
                    prompt="send the team update",
                ),
            )
        ]
    )

    request = await llm_parser(llm).parse(text, now=now, timezone=zone)

    first = datetime.fromisoformat(first_run).replace(tzinfo=ZoneInfo(zone))
    runs = request.schedule.next_runs(now, 2)
    assert [run.astimezone(ZoneInfo(zone)).isoformat() for run in runs] == [
        first.isoformat(),
        after_the_change,
    ]
    # The rules parser, asked the day before, builds the same runs: one validation, one engine.
    the_day_before = first - timedelta(days=1)
    by_rules = parse_rules(text, now=the_day_before, timezone=zone)
    checked = validate(by_rules.schedule, now=the_day_before, min_interval_seconds=MIN_INTERVAL)
    assert checked.next_runs(the_day_before, 2) == runs


async def test_a_zone_the_model_names_replaces_the_chats(llm: FakeLLM) -> None:
    llm.reply_tool_calls(
        [
            (
                TOOL_NAME,
                answer(kind="cron", cron="0 12 * * 1-5", timezone="Asia/Tokyo", prompt="nikkei"),
            )
        ]
    )

    request = await parse(llm, "weekdays at noon Tokyo time: nikkei")

    assert request == cron_request("0 12 * * 1-5", "Nikkei", zone="Asia/Tokyo")
    # 18:00 in Tokyo now, so the next noon there is Friday's.
    assert request.schedule.next_after(NOW) == datetime(2026, 11, 27, 12, 0, tzinfo=TOKYO)


async def test_a_one_shot_in_a_named_zone_is_read_there_and_the_name_made_canonical(
    llm: FakeLLM,
) -> None:
    llm.reply_tool_calls(
        [
            (
                TOOL_NAME,
                answer(
                    kind="once", run_at="2026-11-27T09:00:00", timezone="asia/tokyo", prompt="x"
                ),
            )
        ]
    )

    request = await parse(llm, "tomorrow at 9 Tokyo time: x")

    assert request == ParsedRequest(
        Schedule(
            kind=TaskKind.ONCE,
            timezone="Asia/Tokyo",
            run_at=datetime(2026, 11, 27, 0, 0, tzinfo=UTC),
        ),
        "X",
        "llm",
    )


async def test_the_first_schedule_call_is_used_when_the_model_makes_two(llm: FakeLLM) -> None:
    llm.reply_tool_calls(
        [(TOOL_NAME, GOOD), (TOOL_NAME, answer(kind="cron", cron="0 18 * * *", prompt="other"))]
    )

    assert await parse(llm) == GOOD_REQUEST
    assert len(llm.requests) == 1


# --- one repair round --------------------------------------------------------------------------


async def test_an_invalid_cron_is_sent_back_once_and_the_repaired_answer_is_used(
    llm: FakeLLM,
) -> None:
    invalid = answer(kind="cron", cron="0 25 * * *", prompt="back up the notes")
    [call_id] = llm.reply_tool_calls([(TOOL_NAME, invalid)])
    llm.reply_tool_calls([(TOOL_NAME, answer(kind="cron", cron="0 23 * * *", prompt="back up"))])

    request = await parse(llm, "every night at 25 o'clock back up the notes")

    assert request == cron_request("0 23 * * *", "Back up")
    first, second = llm.requests
    problem = schedule_problem(Schedule(kind=TaskKind.CRON, timezone=TZ, cron="0 25 * * *"))
    assert "25" in problem
    assert second["messages"][:2] == first["messages"]
    assistant, tool = second["messages"][2:]
    assert assistant["role"] == "assistant"
    assert assistant.get("content") is None
    assert assistant["tool_calls"] == [
        {
            "id": call_id,
            "type": "function",
            "function": {"name": TOOL_NAME, "arguments": json.dumps(invalid)},
        }
    ]
    assert tool == repair_message(call_id, problem)
    assert second["tools"] == first["tools"]
    assert second["tool_choice"] == first["tool_choice"]


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (json.dumps(answer(kind="cron", cron="0 0 30 2 *", prompt="p")), "never runs"),
        (
            json.dumps(answer(kind="cron", cron="* * * * *", prompt="p")),
            "every 1 minute is more often than this bot allows: at most every 5 minutes",
        ),
        (
            json.dumps(answer(kind="cron", cron="*/2 * * * *", prompt="p")),
            "every 2 minutes is more often than this bot allows: at most every 5 minutes",
        ),
        (
            json.dumps(answer(kind="interval", every_seconds=60, prompt="p")),
            "every 1 minute is more often than this bot allows: at most every 5 minutes",
        ),
        (json.dumps(answer(kind="interval", every_seconds=0, prompt="p")), "every_seconds"),
        (
            json.dumps(answer(kind="once", run_at="2026-11-25T09:00:00", prompt="p")),
            "Wed 25 Nov 2026 09:00 CET is in the past",
        ),
        (
            json.dumps(answer(kind="once", run_at="next Friday", prompt="p")),
            "run_at 'next Friday' is not an ISO 8601 time",
        ),
        (
            json.dumps(
                answer(
                    kind="once",
                    run_at="9999-12-31T23:00:00",
                    timezone="America/Los_Angeles",
                    prompt="p",
                )
            ),
            "run_at is too far in the future",
        ),
        (
            json.dumps(answer(kind="cron", cron="0 9 * * *", timezone="Mars/Olympus", prompt="p")),
            "unknown time zone 'Mars/Olympus'",
        ),
        (json.dumps(answer(kind="cron", prompt="p")), "kind is cron but cron is empty"),
        (json.dumps(answer(prompt="p")), "kind must be cron, once or interval"),
        (json.dumps(answer(kind="cron", cron="0 9 * * *", prompt="  ")), "prompt is empty"),
        # Not JSON at all, or JSON of the wrong shape.
        ('{"understood": true, "kind": "cron", "cron": "0 9', "the arguments are not valid"),
        ("", "the arguments are not valid"),
        ('["cron", "0 9 * * *"]', "the arguments are not valid"),
        ("null", "the arguments are not valid"),
        ('{"understood": "perhaps"}', "the arguments are not valid"),
        ('{"kind": "cron", "cron": "0 9 * * *", "prompt": "p"}', "the arguments are not valid"),
        ('{"understood": true, "kind": "weekly"}', "the arguments are not valid"),
    ],
)
async def test_an_unusable_answer_is_repaired_with_the_reason(
    llm: FakeLLM, arguments: str, problem: str
) -> None:
    [call_id] = llm.reply_tool_calls_raw([(TOOL_NAME, arguments)])
    llm.reply_tool_calls([(TOOL_NAME, GOOD)])

    assert await parse(llm) == GOOD_REQUEST

    assert len(llm.requests) == 2
    tool = llm.requests[1]["messages"][-1]
    assert tool["role"] == "tool"
    assert tool["tool_call_id"] == call_id
    assert tool["content"].startswith("Invalid: ")
    assert problem in tool["content"]
    assert "\n" not in tool["content"]


async def test_every_call_of_an_invalid_answer_is_answered_in_the_repair(llm: FakeLLM) -> None:
    invalid = answer(kind="cron", cron="0 25 * * *", prompt="p")
    first_id, second_id = llm.reply_tool_calls([(TOOL_NAME, invalid), (TOOL_NAME, GOOD)])
    llm.reply_tool_calls([(TOOL_NAME, GOOD)])

    assert await parse(llm) == GOOD_REQUEST

    assistant, *tools = llm.requests[1]["messages"][2:]
    assert [call["id"] for call in assistant["tool_calls"]] == [first_id, second_id]
    problem = schedule_problem(Schedule(kind=TaskKind.CRON, timezone=TZ, cron="0 25 * * *"))
    assert tools == [
        repair_message(first_id, problem),
        {
            "role": "tool",
            "tool_call_id": second_id,
            "content": f"Ignored: call {TOOL_NAME} exactly once.",
        },
    ]


@pytest.mark.parametrize(
    ("first", "second", "problem"),
    [
        (
            answer(kind="cron", cron="0 25 * * *", prompt="p"),
            answer(kind="cron", cron="0 24 * * *", prompt="p"),
            schedule_problem(Schedule(kind=TaskKind.CRON, timezone=TZ, cron="0 24 * * *")),
        ),
        # Too frequent twice: declined, never accepted.
        (
            answer(kind="cron", cron="* * * * *", prompt="p"),
            answer(kind="interval", every_seconds=60, prompt="p"),
            "every 1 minute is more often than this bot allows: at most every 5 minutes",
        ),
        (
            answer(kind="interval", every_seconds=120, prompt="p"),
            answer(kind="cron", cron="*/1 * * * *", prompt="p"),
            schedule_problem(Schedule(kind=TaskKind.CRON, timezone=TZ, cron="*/1 * * * *")),
        ),
        ("not json", '{"understood": ', "the arguments are not valid: Expecting value"),
    ],
)
async def test_two_unusable_answers_are_declined_with_the_last_problem(
    llm: FakeLLM, first: dict[str, Any] | str, second: dict[str, Any] | str, problem: str
) -> None:
    for arguments in (first, second):
        raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
        llm.reply_tool_calls_raw([(TOOL_NAME, raw)])
    llm.reply_tool_calls([(TOOL_NAME, GOOD)])  # never asked for: one repair round only

    with pytest.raises(NotUnderstoodError) as raised:
        await parse(llm)

    assert type(raised.value) is NotUnderstoodError
    message = str(raised.value)
    assert message.startswith("I couldn't work out a valid schedule from that (")
    assert problem in message
    assert len(llm.requests) == 2


async def test_the_exact_decline_after_two_invalid_crons(llm: FakeLLM) -> None:
    llm.reply_tool_calls([(TOOL_NAME, answer(kind="cron", cron="0 25 * * *", prompt="p"))])
    llm.reply_tool_calls([(TOOL_NAME, answer(kind="cron", cron="61 9 * * *", prompt="p"))])

    with pytest.raises(NotUnderstoodError) as raised:
        await parse(llm)

    problem = schedule_problem(Schedule(kind=TaskKind.CRON, timezone=TZ, cron="61 9 * * *"))
    assert str(raised.value) == f"I couldn't work out a valid schedule from that ({problem})"


# --- declines without a repair ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("Which day do you mean?", "Which day do you mean?"),
        (None, NO_SCHEDULE),
        ("   ", NO_SCHEDULE),
        # Shown on one line by the command line and the bot.
        ("Which day\n  do you mean?", "Which day do you mean?"),
    ],
)
async def test_not_understood_is_declined_with_the_models_reason_and_no_repair(
    llm: FakeLLM, reason: str | None, expected: str
) -> None:
    llm.reply_tool_calls([(TOOL_NAME, {"understood": False, "reason": reason})])
    llm.reply_tool_calls([(TOOL_NAME, GOOD)])  # must stay unused

    with pytest.raises(NotUnderstoodError) as raised:
        await parse(llm, "remind me about the thing")

    assert type(raised.value) is NotUnderstoodError
    assert str(raised.value) == expected
    assert len(llm.requests) == 1


async def test_not_understood_wins_over_a_schedule_in_the_same_answer(llm: FakeLLM) -> None:
    llm.reply_tool_calls(
        [(TOOL_NAME, {"understood": False, "reason": "When?", "kind": "cron", "cron": "0 9 * * *"})]
    )

    with pytest.raises(NotUnderstoodError, match=r"^When\?$"):
        await parse(llm)
    assert len(llm.requests) == 1


async def test_an_answer_without_a_tool_call_is_asked_again_then_declined(llm: FakeLLM) -> None:
    llm.reply_text("Sure! Every weekday at nine.")
    llm.reply_text("As I said: every weekday at nine.")
    llm.reply_tool_calls([(TOOL_NAME, GOOD)])  # must stay unused

    with pytest.raises(NotUnderstoodError) as raised:
        await parse(llm)

    assert type(raised.value) is NotUnderstoodError
    assert str(raised.value) == (
        f"I couldn't work out a valid schedule from that (answer by calling {TOOL_NAME})"
    )
    first, second = llm.requests
    assert second["messages"] == [
        *first["messages"],
        {"role": "assistant", "content": "Sure! Every weekday at nine."},
        {"role": "user", "content": f"Please answer by calling {TOOL_NAME}."},
    ]


@pytest.mark.parametrize("name", ["web_fetch", "schedule"])
async def test_a_call_of_another_function_counts_as_no_answer_and_is_repaired(
    llm: FakeLLM, name: str
) -> None:
    llm.reply_tool_calls([(name, GOOD)])
    llm.reply_tool_calls([(TOOL_NAME, GOOD)])

    assert await parse(llm) == GOOD_REQUEST

    assert len(llm.requests) == 2
    assert llm.requests[1]["messages"][-1] == {
        "role": "user",
        "content": f"Please answer by calling {TOOL_NAME}.",
    }


async def test_a_text_answer_then_a_good_call_succeeds(llm: FakeLLM) -> None:
    llm.reply_text("Let me think.")
    llm.reply_tool_calls([(TOOL_NAME, GOOD)])

    assert await parse(llm) == GOOD_REQUEST
    assert len(llm.requests) == 2


# --- the provider fails: "couldn't understand that right now" -----------------------------------


@pytest.mark.parametrize(
    ("status", "detail"),
    [
        (500, "(HTTP 500))"),
        (503, "(HTTP 503)"),
        (429, "(HTTP 429)"),
        (400, "(HTTP 400)"),
        (404, "(HTTP 404)"),
    ],
)
async def test_a_provider_error_is_unavailable_after_one_request(
    llm: FakeLLM, status: int, detail: str
) -> None:
    llm.reply_error(status, "The server had an error while processing your request.")
    llm.reply_tool_calls([(TOOL_NAME, GOOD)])  # no retry: must stay unused

    with pytest.raises(ParserUnavailableError) as raised:
        await parse(llm)

    message = str(raised.value)
    assert message.startswith(UNAVAILABLE)
    assert detail in message
    assert "The server had an error" not in message  # the kind of failure, not its words
    assert "\n" not in message
    assert len(llm.requests) == 1


async def test_a_rejected_key_is_unavailable_and_never_shown(llm: FakeLLM) -> None:
    key = "sk-test-cronpilot-secret-0123456789abcdef"
    llm.reply_error(401, f"Incorrect API key provided: {key}. Find your key at platform.")

    with pytest.raises(ParserUnavailableError) as raised:
        await parse(llm, api_key=key)

    message = str(raised.value)
    assert message.startswith(UNAVAILABLE)
    assert "HTTP 401" in message
    assert key not in message
    assert "0123456789abcdef" not in message
    assert key not in repr(raised.value)
    assert len(llm.requests) == 1
    assert llm.requests[0].headers["Authorization"] == f"Bearer {key}"


async def test_a_slow_model_is_unavailable_quickly(llm: FakeLLM) -> None:
    llm.reply_delay(3.0)
    started = time.monotonic()

    with pytest.raises(ParserUnavailableError) as raised:
        await parse(llm, timeout_seconds=0.5)

    elapsed = time.monotonic() - started
    assert str(raised.value).startswith(UNAVAILABLE)
    assert "the model did not answer within 0.5 s" in str(raised.value)
    # Gave up well before the fake's answer would have come.
    assert elapsed < 2.5
    assert len(llm.requests) == 1


async def test_an_unreachable_provider_is_unavailable() -> None:
    client = LiteLLMClient(api_base=closed_port_url(), api_key=API_KEY)
    parser = LLMScheduleParser(client, model=MODEL, min_interval_seconds=MIN_INTERVAL)

    with pytest.raises(ParserUnavailableError, match="could not connect to the LLM provider"):
        await parser.parse(TEXT, now=NOW, timezone=TZ)


# --- the request parser: rules first, the LLM only when they decline ----------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "every weekday at 9am summarize the top Hacker News stories",
            ParsedRequest(
                Schedule(kind=TaskKind.CRON, timezone=TZ, cron="0 9 * * 1-5"),
                "Summarize the top Hacker News stories",
                "rules",
            ),
        ),
        (
            "0 9 * * 1-5 summarize HN",
            ParsedRequest(
                Schedule(kind=TaskKind.CRON, timezone=TZ, cron="0 9 * * 1-5"),
                "Summarize HN",
                "cron",
            ),
        ),
        (
            "  in 2 minutes ping me  ",
            ParsedRequest(
                Schedule(kind=TaskKind.ONCE, timezone=TZ, run_at=NOW + timedelta(minutes=2)),
                "Ping me",
                "rules",
            ),
        ),
    ],
)
async def test_when_the_rules_understand_the_llm_is_never_asked(
    llm: FakeLLM, text: str, expected: ParsedRequest
) -> None:
    llm.reply_tool_calls([(TOOL_NAME, GOOD)])

    request = await request_parser(llm).parse(text, now=NOW, timezone=TZ)

    assert request == expected
    assert llm.requests == []


async def test_when_the_rules_decline_the_llm_is_asked(llm: FakeLLM) -> None:
    llm.reply_tool_calls(
        [(TOOL_NAME, answer(kind="once", run_at="2026-12-10T13:00:00", prompt="water the plants"))]
    )

    request = await request_parser(llm).parse(f"  {DECLINED_BY_RULES}\n", now=NOW, timezone=TZ)

    assert request == ParsedRequest(
        Schedule(kind=TaskKind.ONCE, timezone=TZ, run_at=datetime(2026, 12, 10, 12, 0, tzinfo=UTC)),
        "Water the plants",
        "llm",
    )
    [asked] = llm.requests
    assert asked["messages"][1] == {"role": "user", "content": DECLINED_BY_RULES}


async def test_when_the_rules_decline_and_the_llm_fails_it_is_unavailable(llm: FakeLLM) -> None:
    llm.reply_error(500, "boom")

    with pytest.raises(ParserUnavailableError):
        await request_parser(llm).parse(DECLINED_BY_RULES, now=NOW, timezone=TZ)
    assert len(llm.requests) == 1


async def test_use_llm_false_keeps_the_rules_decline(llm: FakeLLM) -> None:
    with pytest.raises(NotUnderstoodError) as raised:
        await request_parser(llm).parse(DECLINED_BY_RULES, now=NOW, timezone=TZ, use_llm=False)

    assert type(raised.value) is NotUnderstoodError
    assert "fortnight" in str(raised.value)
    assert llm.requests == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("every minute check the server", "every 1 minute is more often than this bot allows"),
        ("every 2 minutes ping the server", "every 2 minutes is more often than this bot allows"),
    ],
)
async def test_a_too_frequent_rules_schedule_is_refused_without_asking_the_llm(
    llm: FakeLLM, text: str, problem: str
) -> None:
    llm.reply_tool_calls([(TOOL_NAME, GOOD)])

    with pytest.raises(ScheduleError) as raised:
        await request_parser(llm).parse(text, now=NOW, timezone=TZ)

    assert str(raised.value) == f"{problem}: at most every 5 minutes"
    assert llm.requests == []


@pytest.mark.parametrize("model", ["off", "none", "rules", " OFF "])
async def test_a_parser_model_switched_off_never_asks_the_llm(llm: FakeLLM, model: str) -> None:
    parser = request_parser(llm, model=model)

    with pytest.raises(NotUnderstoodError) as raised:
        await parser.parse("hello", now=NOW, timezone=TZ)

    assert type(raised.value) is NotUnderstoodError
    assert str(raised.value).startswith(NO_SCHEDULE)
    assert llm.requests == []


async def test_without_a_client_only_the_rules_are_used() -> None:
    parser = build_request_parser(llm=None, model=MODEL, min_interval_seconds=MIN_INTERVAL)

    with pytest.raises(NotUnderstoodError) as raised:
        await parser.parse(DECLINED_BY_RULES, now=NOW, timezone=TZ)
    assert type(raised.value) is NotUnderstoodError


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the message is empty"),
        (" \n\t ", "the message is empty"),
        ("x" * 10_000, "that is 10000 characters long; keep a task under 4000"),
        # A schedule at the start does not make an overlong message acceptable.
        (
            "every day at 9am " + "summarize " * 999,
            "that is 10006 characters long; keep a task under 4000",
        ),
    ],
)
async def test_empty_and_overlong_messages_are_declined_without_the_llm(
    llm: FakeLLM, text: str, reason: str
) -> None:
    llm.reply_tool_calls([(TOOL_NAME, GOOD)])

    with pytest.raises(NotUnderstoodError) as raised:
        await request_parser(llm).parse(text, now=NOW, timezone=TZ)

    assert type(raised.value) is NotUnderstoodError
    assert str(raised.value) == reason
    assert llm.requests == []


async def test_the_model_writes_a_decline_in_the_chats_language_and_it_is_kept_as_written(
    llm: FakeLLM,
) -> None:
    reason = "Не понятно, в какой день: уточните, пожалуйста. {x}"
    llm.reply_tool_calls([(TOOL_NAME, {"understood": False, "reason": reason})])

    with pytest.raises(NotUnderstoodError) as raised:
        await llm_parser(llm).parse(TEXT, now=NOW, timezone=TZ, language="ru")

    system = llm.requests[0]["messages"][0]["content"]
    assert "the reason (when you cannot schedule it) in Russian" in system
    # The model's own words are a fact of the error, never a message of the catalogs.
    assert str(raised.value) == reason
    assert raised.value.facts == {"reason": reason}
