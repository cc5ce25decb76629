"""The `cronpilot` command: run, migrate, check, parse."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from cronpilot import __version__
from cronpilot.errors import ConfigurationError, CronpilotError
from cronpilot.settings import Settings, load_settings

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


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigurationError as error:
        return _fail(f"invalid settings:\n{error}", EXIT_USAGE)
    try:
        if arguments.command == "migrate":
            return asyncio.run(_migrate(settings))
        return _fail(f"`cronpilot {arguments.command}` is not available yet", EXIT_USAGE)
    except ConfigurationError as error:
        return _fail(str(error), EXIT_USAGE)
    except CronpilotError as error:
        return _fail(str(error), EXIT_FAILURE)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


if __name__ == "__main__":
    sys.exit(main())
