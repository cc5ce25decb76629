"""`cronpilot parse` as an operator runs it: a subprocess with a clean environment.

Each run costs about a second (Python start-up and imports); the two that go through the LLM cost
about seven more, for importing LiteLLM, and talk to a fake OpenAI-compatible server over
127.0.0.1. The JSON shape, exit statuses and `--now`/`--tz` rules are PRODUCT.md's
"Command line" section.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from tests.fakes.llm import FakeLLM

ROOT = Path(__file__).resolve().parents[2]
TOOL_NAME = "schedule_task"
HN = "every weekday at 9am summarize the top Hacker News stories"
# A phrase the rules parser declines ("fortnight"), so only the LLM can understand it.
DECLINED_BY_RULES = "a fortnight from now after lunch water the plants"
BERLIN_NOW = ["--tz", "Europe/Berlin", "--now", "2026-11-26T10:00"]  # a Thursday, CET
# Settings that would change what `parse` does, and provider keys LiteLLM would pick up.
STRIPPED_PREFIXES = ("DATABASE_", "TELEGRAM_", "LLM_", "OPENAI_", "LITELLM_", "PARSER_")
RUN_PATTERN = re.compile(r"\b\w{3} \d{2} \w{3} \d{4} \d{2}:\d{2} \w+")
SUBPROCESS_TIMEOUT = 90.0


@dataclass(frozen=True)
class Outcome:
    status: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        assert self.stderr == ""
        assert self.status == 0
        [line] = self.stdout.splitlines()
        value = json.loads(line)
        assert isinstance(value, dict)
        return value

    def one_line_error(self, status: int) -> str:
        assert self.status == status
        assert self.stdout == ""
        [line] = self.stderr.splitlines()
        return line

    def json_error(self) -> str:
        """A decline with --json: exit 1, `{"error": reason}` on stdout, the reason on stderr."""
        assert self.status == 1
        [line] = self.stdout.splitlines()
        value = json.loads(line)
        assert isinstance(value, dict)
        assert list(value) == ["error"]
        [reason] = self.stderr.splitlines()
        assert reason == f"cronpilot: {value['error']}"
        return str(value["error"])


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    settings = {name.upper() for name in Settings.model_fields}
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith(STRIPPED_PREFIXES) and name.upper() not in settings
    }
    # The package from this checkout, whatever is installed; the fake server is never proxied.
    environment["PYTHONPATH"] = str(ROOT)
    environment["NO_PROXY"] = environment["no_proxy"] = "127.0.0.1,localhost"
    environment.update(extra or {})
    return environment


def command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "cronpilot.cli", "parse", *arguments]


def cronpilot_parse(cwd: Path, *arguments: str) -> Outcome:
    completed = subprocess.run(
        command(*arguments),
        cwd=cwd,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    return Outcome(completed.returncode, completed.stdout, completed.stderr)


async def cronpilot_parse_async(cwd: Path, env: Mapping[str, str], *arguments: str) -> Outcome:
    """For runs that talk to a fake server in this event loop, which must keep serving."""
    process = await asyncio.create_subprocess_exec(
        *command(*arguments),
        cwd=cwd,
        env=clean_environment(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(SUBPROCESS_TIMEOUT):
            stdout, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Outcome(process.returncode, stdout.decode(), stderr.decode())


def llm_environment(llm: FakeLLM) -> dict[str, str]:
    return {"LLM_API_BASE": llm.base_url, "LLM_API_KEY": "sk-test"}


# --- the acceptance cases ----------------------------------------------------------------------


def test_weekday_briefing_as_json(tmp_path: Path) -> None:
    outcome = cronpilot_parse(tmp_path, HN, *BERLIN_NOW, "--json", "--no-llm")

    assert outcome.json() == {
        "kind": "cron",
        "cron": "0 9 * * 1-5",
        "run_at": None,
        "every_seconds": None,
        "timezone": "Europe/Berlin",
        "prompt": "Summarize the top Hacker News stories",
        "description": "Monday to Friday at 09:00",
        "next_runs": [
            "2026-11-27T09:00:00+01:00",
            "2026-11-30T09:00:00+01:00",
            "2026-12-01T09:00:00+01:00",
        ],
        "source": "rules",
    }


def test_weekday_briefing_for_people_lists_the_three_runs(tmp_path: Path) -> None:
    outcome = cronpilot_parse(tmp_path, HN, *BERLIN_NOW, "--no-llm")

    assert outcome.status == 0
    assert outcome.stderr == ""
    assert RUN_PATTERN.findall(outcome.stdout) == [
        "Fri 27 Nov 2026 09:00 CET",
        "Mon 30 Nov 2026 09:00 CET",
        "Tue 01 Dec 2026 09:00 CET",
    ]
    lines = outcome.stdout.splitlines()
    assert "Summarize the top Hacker News stories" in lines[0]
    for shown in ("Monday to Friday at 09:00", "0 9 * * 1-5", "Europe/Berlin", "rules"):
        assert shown in outcome.stdout


def test_explicit_cron_with_7_runs_on_sundays(tmp_path: Path) -> None:
    # Against the real clock, exactly as a user would type it.
    outcome = cronpilot_parse(tmp_path, "0 9 * * 7 x", "--tz", "UTC", "--no-llm")

    assert outcome.status == 0
    assert outcome.stderr == ""
    runs = RUN_PATTERN.findall(outcome.stdout)
    assert len(runs) == 3
    assert all(run.startswith("Sun ") and run.endswith(" 09:00 UTC") for run in runs)
    days = [datetime.strptime(run[4:15], "%d %b %Y").replace(tzinfo=UTC).date() for run in runs]
    assert [(later - earlier).days for earlier, later in pairwise(days)] == [7, 7]
    assert all(day.weekday() == 6 for day in days)


def test_explicit_cron_with_7_as_json(tmp_path: Path) -> None:
    outcome = cronpilot_parse(
        tmp_path, "0 9 * * 7 x", "--tz", "UTC", "--now", "2026-11-26T10:00", "--json", "--no-llm"
    )

    result = outcome.json()
    # 7 and 0 both mean Sunday; either spelling is a faithful canonical form.
    assert result.pop("cron") in {"0 9 * * 7", "0 9 * * 0"}
    assert result == {
        "kind": "cron",
        "run_at": None,
        "every_seconds": None,
        "timezone": "UTC",
        "prompt": "X",
        "description": "Every Sunday at 09:00",
        "next_runs": [
            "2026-11-29T09:00:00+00:00",
            "2026-12-06T09:00:00+00:00",
            "2026-12-13T09:00:00+00:00",
        ],
        "source": "cron",
    }


def test_explain_shows_what_each_rule_read_and_what_was_left(tmp_path: Path) -> None:
    text = "first and third friday of each month at 9 send the team a retro reminder"
    outcome = cronpilot_parse(tmp_path, text, *BERLIN_NOW, "--no-llm", "--explain")

    assert outcome.status == 0
    assert outcome.stderr == ""
    reading = outcome.stdout.split("Rules read:\n", 1)[1].splitlines()
    assert reading == [
        "  nth_weekdays    'first and third friday of each month'",
        "  times           'at 9'",
        "Left:        'Send the team a retro reminder'",
    ]
    assert "0 9 * * 5#1,5#3" in outcome.stdout


def test_explain_as_json_also_when_the_rules_decline(tmp_path: Path) -> None:
    text = "every day at 9 until friday check"
    outcome = cronpilot_parse(tmp_path, text, *BERLIN_NOW, "--no-llm", "--explain", "--json")

    assert outcome.status == 1
    [line] = outcome.stdout.splitlines()
    value = json.loads(line)
    assert value["error"].startswith("no schedule: I'm not sure what “until friday” means")
    assert value["explain"] == {
        "rules": [
            {"rule": "frequency_words", "words": "every day", "start": 0, "end": 9},
            {"rule": "times", "words": "at 9", "start": 10, "end": 14},
            {"rule": "days", "words": "friday", "start": 21, "end": 27},
        ],
        "left": "Until check",
        "declined": value["error"].removeprefix("no schedule: "),
        "corrections": [],
    }
    # Without --explain the documented shapes stay as they were.
    assert "explain" not in cronpilot_parse(tmp_path, HN, *BERLIN_NOW, "--json", "--no-llm").json()


def test_no_schedule_exits_1_with_one_line(tmp_path: Path) -> None:
    outcome = cronpilot_parse(tmp_path, "hello", "--no-llm")

    line = outcome.one_line_error(1)
    assert line.startswith("cronpilot: no schedule: I couldn't find a schedule in that.")


# --- --now and --tz ----------------------------------------------------------------------------


def test_now_with_an_offset_is_that_instant(tmp_path: Path) -> None:
    # 10:00 in Tokyo is 02:00 in Berlin: today's 09:00 is still ahead.
    outcome = cronpilot_parse(
        tmp_path,
        "every day at 9am check the news",
        "--tz",
        "Europe/Berlin",
        "--now",
        "2026-11-26T10:00+09:00",
        "--json",
        "--no-llm",
    )

    assert outcome.json()["next_runs"] == [
        "2026-11-26T09:00:00+01:00",
        "2026-11-27T09:00:00+01:00",
        "2026-11-28T09:00:00+01:00",
    ]


def test_a_one_shot_runs_exactly_two_minutes_after_now(tmp_path: Path) -> None:
    outcome = cronpilot_parse(tmp_path, "in 2 minutes ping me", *BERLIN_NOW, "--json", "--no-llm")

    assert outcome.json() == {
        "kind": "once",
        "cron": None,
        "run_at": "2026-11-26T10:02:00+01:00",
        "every_seconds": None,
        "timezone": "Europe/Berlin",
        "prompt": "Ping me",
        "description": "Once, Thu 26 Nov 2026 10:02 CET",
        "next_runs": ["2026-11-26T10:02:00+01:00"],
        "source": "rules",
    }


def test_a_naive_now_in_the_spring_forward_gap_is_the_moment_the_clocks_jump(
    tmp_path: Path,
) -> None:
    # 02:30 does not exist in Berlin on 29 March 2026: now is 03:00 CEST.
    outcome = cronpilot_parse(
        tmp_path,
        "in 2 minutes ping me",
        "--tz",
        "Europe/Berlin",
        "--now",
        "2026-03-29T02:30",
        "--json",
        "--no-llm",
    )

    result = outcome.json()
    assert result["run_at"] == "2026-03-29T03:02:00+02:00"
    assert result["next_runs"] == ["2026-03-29T03:02:00+02:00"]


def test_an_interval_counts_from_now(tmp_path: Path) -> None:
    outcome = cronpilot_parse(
        tmp_path, "every 90 minutes stretch", *BERLIN_NOW, "--json", "--no-llm"
    )

    assert outcome.json() == {
        "kind": "interval",
        "cron": None,
        "run_at": "2026-11-26T10:00:00+01:00",
        "every_seconds": 5400,
        "timezone": "Europe/Berlin",
        "prompt": "Stretch",
        "description": "Every 90 minutes",
        "next_runs": [
            "2026-11-26T11:30:00+01:00",
            "2026-11-26T13:00:00+01:00",
            "2026-11-26T14:30:00+01:00",
        ],
        "source": "rules",
    }


@pytest.mark.parametrize(
    ("arguments", "mentioned"),
    [
        (["--tz", "Mars/Olympus"], "Mars/Olympus"),
        (["--tz", "UTC", "--now", "yesterday"], "--now 'yesterday'"),
    ],
)
def test_bad_tz_or_now_is_a_usage_error_on_one_line(
    tmp_path: Path, arguments: list[str], mentioned: str
) -> None:
    outcome = cronpilot_parse(tmp_path, "every day at 9am check the news", *arguments, "--no-llm")

    line = outcome.one_line_error(2)
    assert line.startswith("cronpilot: ")
    assert mentioned in line


# --- the LLM path, end to end ------------------------------------------------------------------


async def test_no_llm_never_asks_the_configured_llm(tmp_path: Path, llm: FakeLLM) -> None:
    outcome = await cronpilot_parse_async(
        tmp_path, llm_environment(llm), DECLINED_BY_RULES, *BERLIN_NOW, "--json", "--no-llm"
    )

    assert "fortnight" in outcome.json_error()
    assert llm.requests == []


async def test_a_phrase_the_rules_decline_is_understood_by_the_llm(
    tmp_path: Path, llm: FakeLLM
) -> None:
    llm.reply_tool_calls(
        [
            (
                TOOL_NAME,
                {
                    "understood": True,
                    "kind": "once",
                    "run_at": "2026-12-10T13:00:00",
                    "prompt": "water the plants",
                },
            )
        ]
    )

    outcome = await cronpilot_parse_async(
        tmp_path, llm_environment(llm), DECLINED_BY_RULES, *BERLIN_NOW, "--json"
    )

    assert outcome.json() == {
        "kind": "once",
        "cron": None,
        "run_at": "2026-12-10T13:00:00+01:00",
        "every_seconds": None,
        "timezone": "Europe/Berlin",
        "prompt": "Water the plants",
        "description": "Once, Thu 10 Dec 2026 13:00 CET",
        "next_runs": ["2026-12-10T13:00:00+01:00"],
        "source": "llm",
    }
    [request] = llm.requests
    assert request["model"] == "gpt-4o-mini"
    assert request.headers["Authorization"] == "Bearer sk-test"
    assert request["tool_choice"] == {"type": "function", "function": {"name": TOOL_NAME}}
    system, user = request["messages"]
    assert (
        "Current time: Thursday 2026-11-26 10:00 in Europe/Berlin (UTC offset +0100)."
        in (system["content"])
    )
    assert user == {"role": "user", "content": DECLINED_BY_RULES}


async def test_a_failing_llm_is_couldnt_understand_right_now(tmp_path: Path, llm: FakeLLM) -> None:
    llm.reply_error(500, "The server had an error while processing your request.")

    outcome = await cronpilot_parse_async(
        tmp_path, llm_environment(llm), DECLINED_BY_RULES, *BERLIN_NOW, "--json"
    )

    reason = outcome.json_error()
    assert reason.startswith("no schedule: I couldn't understand that right now")
    assert "HTTP 500" in reason
    assert "sk-test" not in outcome.stdout + outcome.stderr
    assert len(llm.requests) == 1
