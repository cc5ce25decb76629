"""From a message to a validated schedule: rules first, the LLM only when the rules decline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from core.errors import N_, NotUnderstoodError, WordedError
from core.languages import ENGLISH
from scheduler.documents import Picture
from scheduler.llm import LLMClient, supports_vision
from scheduler.parsing.llm_parser import LLMScheduleParser
from scheduler.schedules.schedule import ParsedRequest, validate
from scheduler.text import clean_text

MAX_REQUEST_CHARS = 4_000

# PARSER_MODEL values that mean "rules only, never ask an LLM about schedules".
PARSER_OFF = frozenset({"off", "none", "rules"})


class PicturesNotSeenError(WordedError):
    """A picture came with a request, and the parser's model cannot see pictures."""


class RequestParser:
    """Turns what a user wrote into a ParsedRequest, or raises.

    Raises NotUnderstoodError when no schedule can be found for sure (ParserUnavailableError,
    a subclass, when the LLM could not be asked) and ScheduleError when a schedule was understood
    but is not allowed (too frequent, in the past, never runs).
    """

    def __init__(self, *, llm_parser: LLMScheduleParser | None, min_interval_seconds: int) -> None:
        self._llm_parser = llm_parser
        self._min_interval_seconds = min_interval_seconds

    async def parse(
        self,
        text: str,
        *,
        now: datetime,
        timezone: str,
        use_llm: bool = True,
        language: str = ENGLISH,
        before_model: Callable[[NotUnderstoodError], Awaitable[None]] | None = None,
    ) -> ParsedRequest:
        """`before_model` is awaited with the rules' reason just before the model would be
        asked, and may raise instead (a chat past its budget)."""
        text = clean_text(text)
        if not text:
            raise NotUnderstoodError(N_("the message is empty"))
        if len(text) > MAX_REQUEST_CHARS:
            raise NotUnderstoodError(
                N_("that is {count} characters long; keep a task under {limit}"),
                count=len(text),
                limit=MAX_REQUEST_CHARS,
            )
        # The rules compile hundreds of regular expressions when imported: not at start, so a
        # restart answers sooner; `cronpilot run` imports them in a worker thread once updates
        # flow, and a message read before then imports them here.
        from scheduler.parsing.rules import parse_rules

        try:
            request = parse_rules(text, now=now, timezone=timezone)
        except OverflowError:
            # Date arithmetic past year 9999: nobody means that.
            raise NotUnderstoodError(N_("that date is too far away")) from None
        except NotUnderstoodError as declined:
            if self._llm_parser is None or not use_llm:
                raise
            if before_model is not None:
                await before_model(declined)
            return await self._llm_parser.parse(text, now=now, timezone=timezone, language=language)
        schedule = validate(
            request.schedule, now=now, min_interval_seconds=self._min_interval_seconds
        )
        return replace(request, schedule=schedule)

    async def parse_picture(
        self,
        text: str,
        picture: Picture,
        *,
        now: datetime,
        timezone: str,
        language: str = ENGLISH,
        before_model: Callable[[NotUnderstoodError], Awaitable[None]] | None = None,
    ) -> ParsedRequest:
        """A request made of a picture and (perhaps) words: only a model that sees can read
        it. Raises PicturesNotSeenError when the parser's model cannot, and what `parse`
        raises."""
        text = clean_text(text)
        if len(text) > MAX_REQUEST_CHARS:
            raise NotUnderstoodError(
                N_("that is {count} characters long; keep a task under {limit}"),
                count=len(text),
                limit=MAX_REQUEST_CHARS,
            )
        if self._llm_parser is None:
            raise PicturesNotSeenError(
                N_(
                    "requests are read without a language model here, so I cannot read "
                    "pictures; write the request as text"
                )
            )
        model = self._llm_parser.model
        if not await supports_vision(model):
            raise PicturesNotSeenError(
                N_(
                    "the model that reads requests here ({model}) cannot see pictures; write "
                    "the request as text"
                ),
                model=model,
            )
        if before_model is not None:
            await before_model(NotUnderstoodError(N_("I couldn't find a schedule in that")))
        return await self._llm_parser.parse(
            text, now=now, timezone=timezone, language=language, picture=picture
        )


def build_request_parser(
    *, llm: LLMClient | None, model: str, min_interval_seconds: int
) -> RequestParser:
    """Rules always; the LLM too when there is a client and the model is not switched off."""
    llm_parser = (
        LLMScheduleParser(llm, model=model, min_interval_seconds=min_interval_seconds)
        if llm is not None and model.strip().lower() not in PARSER_OFF
        else None
    )
    return RequestParser(llm_parser=llm_parser, min_interval_seconds=min_interval_seconds)
