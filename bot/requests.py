"""The Bot API's requests: PTB's HTTPXRequest, with Telegram failing told in one log line.

When Telegram is down or slow, its front servers answer 502 or 504 with an HTML page, and PTB
logs "Can not load invalid JSON data" with a JSONDecodeError traceback (in
BaseRequest.parse_json_payload, which PTB documents as the method to override) before it raises
the NetworkError the caller handles anyway. A timeout or a dropped connection is such a
NetworkError too. All of them are expected, and pass: the delivery is retried, the long poll
polls again, the person asks again. So each failed request is one warning line,
`telegram.request_failed`, with the Bot API method and the HTTP status (or what went wrong with
the connection), and the error the caller gets says the same in a few words; a traceback in
the log always means a bug.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from telegram._utils.types import JSONDict, ODVInput
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from core.logs import get_logger
from core.tls import tls_context

log = get_logger(__name__)

# PTB's own default for the bot's requests (ApplicationBuilder), kept when ours replaces it.
CONNECTIONS = 256
# Where PTB logs a failed Bot API call with its traceback: the Updater (a failed getUpdates,
# and the last getUpdates at shutdown, which confirms the updates taken) and its network loop
# (a start that gives up).
_POLLING_LOGGERS = ("telegram.ext.Updater", "telegram.ext")


def telegram_failed(error: BaseException) -> bool:
    """Whether `error` is Telegram failing (a 5xx, a timeout, a lost connection, a flood wait
    outlasting the retries) rather than refusing what was asked (BadRequest, Forbidden…)."""
    if isinstance(error, BadRequest):
        return False
    return isinstance(error, NetworkError | RetryAfter)


class BotApiRequest(HTTPXRequest):
    """HTTPXRequest whose failures are one log line each (see the module's doc)."""

    def __init__(self, **options: Any) -> None:
        # Every pool verifies with the process's one TLS context (core.tls).
        options.setdefault("httpx_kwargs", {"verify": tls_context()})
        super().__init__(**options)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        api_method = url.rpartition("/")[2]
        try:
            code, payload = await super().do_request(
                url,
                method,
                request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        except NetworkError as error:  # a timeout, a refused or dropped connection
            log.warning("telegram.request_failed", method=api_method, failure=error.message)
            raise
        if code >= HTTPStatus.INTERNAL_SERVER_ERROR:
            log.warning("telegram.request_failed", method=api_method, status=code)
            if not _is_json(payload):
                # Raised here, PTB neither parses the page nor logs it with a traceback.
                raise NetworkError(f"{_phrase(code)} ({code})")
        return code, payload

    @staticmethod
    def parse_json_payload(payload: bytes) -> JSONDict:
        """PTB's parsing, without its traceback: an answer that is not JSON (a proxy's error
        page) is an error the caller handles like any other."""
        try:
            parsed: JSONDict = json.loads(payload.decode("utf-8", "replace"))
        except ValueError:
            raise TelegramError("Invalid server response") from None
        return parsed


class OneLineForTelegramFailures(logging.Filter):
    """On PTB's polling loggers: a record about Telegram failing (see `telegram_failed`) keeps
    its message and the error's words in one line, without the traceback, as a warning (PTB
    says error; it is no fault of the bot's, and it passes)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and telegram_failed(error):
            record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
            record.levelno = min(record.levelno, logging.WARNING)
            record.levelname = logging.getLevelName(record.levelno)
        return True


def one_line_polling_failures() -> None:
    """Install OneLineForTelegramFailures on PTB's polling loggers (once)."""
    for name in _POLLING_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(known, OneLineForTelegramFailures) for known in logger.filters):
            logger.addFilter(OneLineForTelegramFailures())


def _is_json(payload: bytes) -> bool:
    try:
        json.loads(payload)
    except ValueError:
        return False
    return True


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Server error"
