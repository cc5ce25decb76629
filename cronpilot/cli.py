"""The `cronpilot` command: run, migrate, check, parse."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from core.errors import ConfigurationError, CronpilotError
from core.settings import Settings, load_settings
from cronpilot import __version__

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cronpilot",
        description="A self-hosted Telegram bot that runs LLM tasks on a schedule.",
    )
    parser.add_argument("--version", action="version", version=f"cronpilot {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="run the bot (applies pending migrations first)")
    commands.add_parser("migrate", help="upgrade the database to the newest schema")
    commands.add_parser("check", help="check settings, database, Telegram and the LLM")
    parse = commands.add_parser("parse", help="show how a message would be scheduled")
    parse.add_argument("text", help="the message, as a user would write it")
    parse.add_argument("--tz", help="IANA time zone (default: DEFAULT_TIMEZONE)")
    parse.add_argument("--now", help="ISO time to parse against; without offset it is in --tz")
    parse.add_argument("--json", action="store_true", help="print one JSON object")
    parse.add_argument("--no-llm", action="store_true", help="use only the rules parser")
    return parser


def _fail(message: str, status: int) -> int:
    for line in message.splitlines() or [message]:
        print(f"cronpilot: {line}", file=sys.stderr)
    return status


async def _migrate(settings: Settings) -> int:
    from storage.migrate import upgrade_to_head

    state = await upgrade_to_head(settings.database_url)
    print(f"database {settings.database_url_for_display} is at revision {state.head} (newest)")
    return EXIT_OK


async def _run(settings: Settings) -> int:
    from cronpilot.serve import serve

    await serve(settings)
    return EXIT_OK


def _parse_now(text: str | None, zone: str) -> datetime:
    from scheduler.schedules.schedule import fixed_time_instant, zone_for

    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(
            f"--now {text!r} is not an ISO time such as 2026-11-26T10:00"
        ) from None
    if not 1970 <= moment.year <= 2999:
        raise ConfigurationError(f"--now {text!r} is outside the years 1970 to 2999")
    if moment.tzinfo is None:
        # Wall-clock time in --tz, placed by the same DST rule as schedules.
        return fixed_time_instant(moment, zone_for(zone))
    return moment


async def _parse(settings: Settings, arguments: argparse.Namespace) -> int:
    from core.errors import NotUnderstoodError, ScheduleError
    from scheduler.llm import LiteLLMClient
    from scheduler.parsing.request import build_request_parser
    from scheduler.schedules.schedule import canonical_zone

    try:
        zone = canonical_zone(arguments.tz or settings.default_timezone)
    except ScheduleError as error:
        raise ConfigurationError(f"--tz: {error}") from None
    now = _parse_now(arguments.now, zone)
    llm = None if arguments.no_llm else LiteLLMClient.from_settings(settings)
    parser = build_request_parser(
        llm=llm,
        model=settings.effective_parser_model,
        min_interval_seconds=settings.min_interval_seconds,
    )
    try:
        request = await parser.parse(arguments.text, now=now, timezone=zone)
    except (NotUnderstoodError, ScheduleError) as error:
        if arguments.json:
            # A script reading stdout gets the reason too, as the one object it expects.
            print(json.dumps({"error": f"no schedule: {error}"}, ensure_ascii=False))
        return _fail(f"no schedule: {error}", EXIT_FAILURE)
    schedule = request.schedule
    runs = [run.astimezone(schedule.zone) for run in schedule.next_runs(now, 3)]
    result = {
        "kind": schedule.kind.value,
        "cron": schedule.cron,
        "run_at": schedule.run_at.astimezone(schedule.zone).isoformat()
        if schedule.run_at
        else None,
        "every_seconds": schedule.every_seconds,
        "timezone": schedule.timezone,
        "prompt": request.prompt,
        "description": schedule.describe(),
        "next_runs": [run.isoformat() for run in runs],
        "source": request.source,
    }
    if arguments.json:
        print(json.dumps(result, ensure_ascii=False))
        return EXIT_OK
    print(f"Task:       {request.prompt}")
    print(f"When:       {result['description']}")
    if schedule.cron:
        print(f"Cron:       {schedule.cron}")
    print(f"Time zone:  {schedule.timezone}")
    for index, run in enumerate(runs):
        label = "Next runs:" if index == 0 else ""
        print(f"{label:<11} {run:%a %d %b %Y %H:%M %Z}")
    print(f"Understood: by {request.source}")
    return EXIT_OK


def configure_logging(settings: Settings) -> None:
    from core import logs

    logs.configure(
        level=settings.log_level,
        json=settings.log_format == "json",
        secrets=settings.secret_values(),
    )


async def _check(settings: Settings) -> int:
    from cronpilot.check import exit_status, render, run_checks

    results = await run_checks(settings)
    print(render(results))
    return exit_status(results)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigurationError as error:
        if arguments.command == "check":
            from cronpilot.check import render, settings_failed

            print(render([settings_failed(error)]))
            return EXIT_USAGE
        return _fail(f"invalid settings:\n{error}", EXIT_USAGE)
    configure_logging(settings)
    try:
        if arguments.command == "migrate":
            return asyncio.run(_migrate(settings))
        if arguments.command == "parse":
            return asyncio.run(_parse(settings, arguments))
        if arguments.command == "check":
            return asyncio.run(_check(settings))
        from cronpilot.serve import load_before_serving

        load_before_serving()
        return asyncio.run(_run(settings))
    except ConfigurationError as error:
        return _fail(str(error), EXIT_USAGE)
    except CronpilotError as error:
        return _fail(str(error), EXIT_FAILURE)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


if __name__ == "__main__":
    sys.exit(main())
