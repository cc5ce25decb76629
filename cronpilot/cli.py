"""The `cronpilot` command: run, migrate, check, doctor, parse, and the terminal's."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from cronpilot import __version__

if TYPE_CHECKING:
    from core.settings import Settings

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
# `cronpilot tasks ACTION`; the first is the default.
OPERATOR_ACTIONS = ("list", "show", "pause", "resume", "run", "delete")


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
    commands.add_parser(
        "doctor", help="check how the running bot is doing (the operator's alerts, at a terminal)"
    )
    parse = commands.add_parser("parse", help="show how a message would be scheduled")
    parse.add_argument("text", help="the message, as a user would write it")
    parse.add_argument("--tz", help="IANA time zone (default: DEFAULT_TIMEZONE)")
    parse.add_argument("--now", help="ISO time to parse against; without offset it is in --tz")
    parse.add_argument("--json", action="store_true", help="print one JSON object")
    parse.add_argument("--no-llm", action="store_true", help="use only the rules parser")
    parse.add_argument(
        "--explain",
        action="store_true",
        help="also show which words each rule read as the schedule and what was left",
    )
    tasks = commands.add_parser("tasks", help="list, show, pause, resume, run or delete tasks")
    tasks.add_argument("action", nargs="?", default="list", choices=OPERATOR_ACTIONS)
    tasks.add_argument("number", nargs="?", type=_task_number, help="the task's number")
    tasks.add_argument("--chat", type=int, help="only this chat's tasks (a Telegram chat id)")
    tasks.add_argument("--json", action="store_true", help="print JSON")
    runs = commands.add_parser("runs", help="the last runs of a task")
    runs.add_argument("number", type=_task_number, help="the task's number")
    runs.add_argument("--chat", type=int, help="the task must be in this chat")
    runs.add_argument("--limit", type=int, default=10, help="how many runs (default 10)")
    runs.add_argument("--json", action="store_true", help="print JSON")
    chat = commands.add_parser("chat", help="talk to the bot in this terminal, without Telegram")
    chat.add_argument(
        "--log-file",
        help="write the bot's log to this file (the terminal shows only the conversation; "
        "without this option the log goes nowhere)",
    )
    return parser


def _task_number(text: str) -> int:
    digits = text.lstrip("#")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        raise argparse.ArgumentTypeError(f"{text!r} is not a task number such as 3")
    return int(digits)


def _fail(message: str, status: int) -> int:
    for line in message.splitlines() or [message]:
        print(f"cronpilot: {line}", file=sys.stderr)
    return status


async def _migrate(settings: Settings) -> int:
    from storage.migrate import revision_state, upgrade_to_head

    display = settings.database_url_for_display
    before = await revision_state(settings.database_url)
    if before.at_head:
        print(f"database {display} was already at the newest revision {before.head}; no change")
        return EXIT_OK
    state = await upgrade_to_head(settings.database_url)
    start = f"revision {before.current}" if before.current else "an empty database"
    print(f"database {display} upgraded from {start} to revision {state.head} (newest)")
    return EXIT_OK


async def _run(settings: Settings) -> int:
    from cronpilot.serve import serve

    await serve(settings)
    return EXIT_OK


def _parse_now(text: str | None, zone: str) -> datetime:
    from core.errors import ConfigurationError
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
    from core.errors import ConfigurationError, NotUnderstoodError, ScheduleError
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
    reading = _reading(arguments.text, now, zone) if arguments.explain else None
    try:
        request = await parser.parse(arguments.text, now=now, timezone=zone)
    except (NotUnderstoodError, ScheduleError) as error:
        if arguments.json:
            # A script reading stdout gets the reason too, as the one object it expects.
            failed: dict[str, object] = {"error": f"no schedule: {error}"}
            if reading is not None:
                failed["explain"] = reading
            print(json.dumps(failed, ensure_ascii=False))
        elif reading is not None:
            _print_reading(reading)
        return _fail(f"no schedule: {error}", EXIT_FAILURE)
    schedule = request.schedule
    runs = [run.astimezone(schedule.zone) for run in schedule.next_runs(now, 3)]
    result: dict[str, object] = {
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
    if reading is not None:
        result["explain"] = reading
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
    if reading is not None:
        _print_reading(reading)
    return EXIT_OK


def _reading(text: str, now: datetime, zone: str) -> dict[str, object]:
    """The rules parser's reading of `text`, as `--explain` shows it (also in JSON)."""
    from scheduler.parsing.rules import explain_rules
    from scheduler.text import clean_text

    reading = explain_rules(clean_text(text), now=now, timezone=zone)
    return {
        "rules": [
            {"rule": item.rule, "words": item.words, "start": item.start, "end": item.end}
            for item in reading.consumed
        ],
        "left": reading.left,
        "declined": None if reading.declined is None else str(reading.declined),
        "corrections": [list(pair) for pair in reading.corrections],
    }


def _print_reading(reading: dict[str, object]) -> None:
    rules = reading["rules"]
    assert isinstance(rules, list)
    print("Rules read:" if rules else "Rules read: nothing")
    for item in rules:
        print(f"  {item['rule']:<15} {item['words']!r}")
    print(f"Left:        {reading['left']!r}")
    corrections = reading["corrections"]
    assert isinstance(corrections, list)
    for typed, meant in corrections:
        print(f"Read:        {typed!r} as {meant!r}")
    if reading["declined"] is not None:
        print(f"Rules:       declined: {reading['declined']}")


async def _terminal(settings: Settings, arguments: argparse.Namespace) -> int:
    """`cronpilot chat`, `tasks` and `runs`: the terminal front door over the application."""
    import io

    from cronpilot.runtime import assemble
    from scheduler.clock import SystemClock
    from scheduler.llm import LiteLLMClient
    from scheduler.parsing.request import PARSER_OFF
    from storage.migrate import revision_state, upgrade_to_head
    from terminal.chat import TerminalChat
    from terminal.delivery import TerminalDelivery
    from terminal.operator import Console, runs_command, tasks_command

    if arguments.command == "chat":
        await upgrade_to_head(settings.database_url)  # as `cronpilot run` does
    elif not (await revision_state(settings.database_url)).at_head:
        return _fail(
            f"the database {settings.database_url_for_display} is not at the newest "
            "revision; run `cronpilot migrate` first",
            EXIT_FAILURE,
        )
    # The chat session prints its results. `tasks run` posts the result to the task's chat
    # (as Run now in the bot does) when a bot token is set, and always shows it here too.
    out = sys.stdout if arguments.command == "chat" else io.StringIO()
    telegram = None
    if arguments.command == "tasks" and arguments.action == "run" and settings.telegram_bot_token:
        from bot.telegram_bot import TelegramBot

        telegram = TelegramBot(
            settings.telegram_bot_token.get_secret_value(),
            base_url=settings.telegram_api_base_url,
            long_result_chars=settings.long_result_chars,
        )
    runtime = assemble(
        settings,
        telegram.delivery if telegram is not None else TerminalDelivery(out),
        clock=SystemClock(),
        llm=LiteLLMClient.from_settings(settings),
        # The chat's card says what a task will cost, as the bot's does.
        estimates=arguments.command == "chat",
        wait_for_prices=True,
    )
    if telegram is not None:
        await telegram.open_delivery(runtime.use_cases.languages.of_chat)
    try:
        if arguments.command == "chat":
            parser_off = settings.effective_parser_model.strip().lower() in PARSER_OFF
            chat = TerminalChat(
                runtime.use_cases,
                runtime.engine,
                source=sys.stdin,
                out=sys.stdout,
                parser_off=parser_off,
                has_model=settings.has_model,
            )
            return await chat.run()
        console = Console(sys.stdout, sys.stderr, arguments.json, settings.default_timezone)
        if arguments.command == "runs":
            return await runs_command(
                runtime.use_cases,
                console,
                number=arguments.number,
                chat_id=arguments.chat,
                limit=max(1, arguments.limit),
            )
        return await tasks_command(
            runtime.use_cases,
            runtime.engine,
            console,
            action=arguments.action,
            number=arguments.number,
            chat_id=arguments.chat,
            posted=telegram is not None,
        )
    finally:
        await runtime.stop()
        if telegram is not None:
            await telegram.close_delivery()


def configure_logging(settings: Settings, *, quiet: bool = False, to: TextIO | None = None) -> None:
    """The process's log: to stderr, or to `to` (`cronpilot chat`'s log file, or nowhere)."""
    from core import logs

    # Beside the operator's commands' output the log would drown it: warnings and worse only.
    level = "WARNING" if quiet and settings.log_level in ("DEBUG", "INFO") else settings.log_level
    logs.configure(
        level=settings.log_level if to is not None else level,
        json=settings.log_format == "json",
        secrets=settings.secret_values(),
        stream=to,
    )


def _chat_log(arguments: argparse.Namespace) -> TextIO | None:
    """Where `cronpilot chat` logs: never into the conversation itself, but to --log-file, or
    nowhere at all."""
    if arguments.command != "chat":
        return None
    return open(arguments.log_file or os.devnull, "a", encoding="utf-8")


async def _check(settings: Settings) -> int:
    from cronpilot.check import exit_status, render, run_checks

    results = await run_checks(settings)
    print(render(results))
    return exit_status(results)


async def _doctor(settings: Settings) -> int:
    from application.watch import Watch, WatchSettings
    from core.errors import CronpilotError
    from scheduler.clock import SystemClock
    from scheduler.engine import EngineSettings
    from storage.database import create_engine, create_sessionmaker
    from storage.migrate import revision_state
    from terminal.doctor import doctor

    try:
        at_head = (await revision_state(settings.database_url)).at_head
    except CronpilotError as error:  # unreachable, refused, missing: said in its own words
        print(f"✗ database: {error}; check DATABASE_URL and that the server is up")
        return EXIT_FAILURE
    if not at_head:
        print("✗ database: not at the newest revision; run `cronpilot migrate`")
        return EXIT_FAILURE
    database = create_engine(settings.database_url, pool_size=1)
    try:
        watch = Watch(
            create_sessionmaker(database),
            SystemClock(),
            WatchSettings(lease_seconds=EngineSettings().lease_seconds),
        )
        lines, fine = await doctor(watch)
    finally:
        await database.dispose()
    print("\n".join(lines))
    return EXIT_OK if fine else EXIT_FAILURE


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    if arguments.command != "run":
        return _command(arguments)
    # `cronpilot run` imports some 1,700 modules before it answers; the collector's full passes
    # over what they build found nothing to free and cost a quarter of that time. It is off
    # until they are imported and frozen out of its sight (`load_before_serving`).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _command(arguments, collecting=collecting)
    finally:
        if collecting:
            gc.enable()


def _command(arguments: argparse.Namespace, *, collecting: bool = True) -> int:
    # Imported here, not at the top: `run` imports them with the collector off.
    from core.errors import ConfigurationError, CronpilotError
    from core.settings import load_settings
    from storage.database import MissingDatabaseError

    try:
        settings = load_settings()
    except ConfigurationError as error:
        if arguments.command == "check":
            from cronpilot.check import render, settings_failed

            print(render(settings_failed(error)))
            return EXIT_USAGE
        return _fail(f"invalid settings:\n{error}", EXIT_USAGE)
    configure_logging(
        settings, quiet=arguments.command in ("chat", "tasks", "runs"), to=_chat_log(arguments)
    )
    try:
        if arguments.command in ("chat", "tasks", "runs"):
            return asyncio.run(_terminal(settings, arguments))
        if arguments.command == "migrate":
            return asyncio.run(_migrate(settings))
        if arguments.command == "parse":
            return asyncio.run(_parse(settings, arguments))
        if arguments.command == "check":
            return asyncio.run(_check(settings))
        if arguments.command == "doctor":
            return asyncio.run(_doctor(settings))
        from cronpilot.serve import load_before_serving

        load_before_serving()
        if collecting:
            gc.enable()
        return asyncio.run(_run(settings))
    except ConfigurationError as error:
        return _fail(str(error), EXIT_USAGE)
    except MissingDatabaseError as error:
        from cronpilot.check import create_database_hint

        return _fail(f"{error}; {create_database_hint(error)}", EXIT_FAILURE)
    except CronpilotError as error:
        return _fail(str(error), EXIT_FAILURE)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


if __name__ == "__main__":
    sys.exit(main())
