"""Logging: structlog events, JSON in production or readable in a terminal, secrets removed.

Every record goes through one pipeline: cronpilot's own structlog events and the standard-library
records of the libraries underneath (python-telegram-bot, APScheduler, SQLAlchemy, LiteLLM).
Before anything is written, known secrets (the bot token, the LLM key, the provider keys LiteLLM
reads from the environment, the webhook secret, the database password) and anything shaped like
a bot token are replaced with "[redacted]".
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"
# Bot tokens are `<digits>:<35 url-safe characters>`; they also hide inside Bot API URLs.
_TOKEN_SHAPE = re.compile(r"\d{5,20}:[A-Za-z0-9_-]{30,}")
# Libraries whose INFO records print request URLs (which carry the bot token), or narrate
# routine work (every alarm APScheduler adds, every Alembic plugin) that cronpilot's own
# events already say better.
_QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "apscheduler": logging.WARNING,
    "alembic": logging.WARNING,
}


# Shorter values are placeholders ("none", "x", "changeme"), not secrets: replacing them would
# only mangle ordinary words.
MIN_SECRET_CHARS = 8
# A secret is replaced where it stands as a whole token: not inside a longer word or key.
_WORD_CHARS = r"A-Za-z0-9_\-"


class Redactor:
    """Replaces secrets in every string of an event, however deeply nested."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret that contains another is removed whole.
        found = sorted(
            {s for s in secrets if s and len(s.strip()) >= MIN_SECRET_CHARS}, key=len, reverse=True
        )
        self._pattern = (
            re.compile(
                rf"(?<![{_WORD_CHARS}])(?:{'|'.join(map(re.escape, found))})(?![{_WORD_CHARS}])"
            )
            if found
            else None
        )

    def clean(self, value: Any) -> Any:
        if isinstance(value, str):
            if self._pattern is not None:
                value = self._pattern.sub(REDACTED, value)
            return _TOKEN_SHAPE.sub(REDACTED, value)
        if isinstance(value, dict):
            return {key: self.clean(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.clean(item) for item in value)
        if isinstance(value, BaseException):
            return self.clean(repr(value))
        return value

    def __call__(self, _: WrappedLogger, __: str, event: EventDict) -> EventDict:
        for key, value in list(event.items()):
            event[key] = self.clean(value)
        return event


def _render_exception_then_redact(redactor: Redactor) -> list[Processor]:
    # Tracebacks are rendered to text first so that the redactor sees them too.
    return [structlog.processors.format_exc_info, redactor]


def configure(
    *,
    level: str = "INFO",
    json: bool = False,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> Redactor:
    """Set up logging for the whole process; call once, from the composition root or CLI."""
    redactor = Redactor(secrets)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.PositionalArgumentsFormatter()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *_render_exception_then_redact(redactor),
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name, quiet_level in _QUIET.items():
        logging.getLogger(name).setLevel(max(quiet_level, logging.getLevelName(level)))
    return redactor


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
