"""Understanding a schedule with an LLM, for the phrases the rules parser declines.

The model must answer through one function whose JSON schema comes from `ScheduleAnswer`. Its
answer goes through the same validation as everything else; an invalid answer gets one repair
round with the validation error, then a clear decline. Provider errors and timeouts become
"couldn't understand that right now": never a crash, never a guess.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from core.errors import N_, NotUnderstoodError, ScheduleError
from core.languages import ENGLISH, english_name
from core.logs import get_logger
from scheduler.documents import Picture
from scheduler.llm import Completion, LLMClient, LLMError
from scheduler.schedules.schedule import (
    ParsedRequest,
    Schedule,
    canonical_zone,
    fixed_time_instant,
    interval_starting,
    validate,
    zone_for,
)
from scheduler.text import clean_text
from storage.records import TaskKind

log = get_logger(__name__)

TOOL_NAME = "schedule_task"
MAX_PROMPT_CHARS = 4_000
PARSER_TIMEOUT_SECONDS = 30.0
# Said to the model when the message comes with a picture.
PICTURE_ADVICE = (
    "\nThe message comes with a picture (a poster, an invitation, a screenshot): take the "
    "date, time and what happens from the picture and the words together. Name the event in "
    "the prompt (what it is, where, when), so the task makes sense on its own. 'The day "
    "before' means a one-time run on the day before the event, at the time the user says, "
    "else 09:00; 'an hour before' means one hour before the event starts."
)


class ParserUnavailableError(NotUnderstoodError):
    """The language model could not be asked (provider error or timeout)."""


class ScheduleAnswer(BaseModel):
    """What the model fills in. Field descriptions are the model's instructions."""

    understood: bool = Field(
        description="true only if the message asks for something to happen at a definite time "
        "or on a definite schedule; false for greetings, questions, or anything unclear"
    )
    reason: str | None = Field(
        default=None,
        description="when understood is false: one short sentence for the user saying what is "
        "missing or unclear",
    )
    kind: Literal["cron", "once", "interval"] | None = Field(
        default=None,
        description="cron for repeating calendar schedules, once for a single time, interval "
        "for a fixed period that cron cannot express (e.g. every 90 minutes)",
    )
    cron: str | None = Field(
        default=None,
        description="kind=cron: five-field standard cron 'minute hour day-of-month month "
        "day-of-week' read in the task's time zone; day-of-week 0 or 7 = Sunday, 1 = Monday, "
        "1-5 = Monday to Friday; L = last day of month; 1#1 = first Monday; 5L = last Friday "
        "of the month",
    )
    run_at: str | None = Field(
        default=None,
        description="kind=once: local date and time in the task's time zone, ISO 8601 "
        "without offset, e.g. 2026-12-24T18:00:00; kind=interval: the first run, same format "
        "(e.g. the first Monday 10:00 of 'every other week on monday at 10'); omit it to "
        "start one period from now",
    )
    every_seconds: int | None = Field(
        default=None, description="kind=interval: the period in seconds"
    )
    timezone: str | None = Field(
        default=None,
        description="an IANA zone only if the message names a place or zone (e.g. 'Tokyo "
        "time' -> Asia/Tokyo); otherwise null, and the chat's zone is used",
    )
    prompt: str = Field(
        default="",
        description="what to do at each run, in the user's words, without the schedule part",
    )


def _tool() -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": TOOL_NAME,
            "description": "Record the schedule and the task the user asked for.",
            "parameters": ScheduleAnswer.model_json_schema(),
        },
    }


def _system_prompt(now: datetime, timezone: str, language: str = ENGLISH) -> str:
    local = now.astimezone(zone_for(timezone))
    return (
        "You turn a chat message into a scheduled task for a bot that runs LLM prompts on a "
        "schedule. Always answer by calling the function "
        f"{TOOL_NAME}.\n"
        f"Current time: {local:%A %Y-%m-%d %H:%M} in {timezone} (UTC offset {local:%z}).\n"
        "Never guess: if the message does not clearly say when, set understood to false and "
        "say what is missing. Use standard cron (0 = Sunday). Do not invent a time that the "
        "user did not imply; a day without a time means 09:00. Write the task's prompt in the "
        "language the user wrote in, and the reason (when you cannot schedule it) in "
        f"{english_name(language)}, the language of the chat."
    )


class LLMScheduleParser:
    """Asks `model` through `llm`; validates with the product's own rules."""

    def __init__(
        self,
        llm: LLMClient,
        *,
        model: str,
        min_interval_seconds: int,
        timeout_seconds: float = PARSER_TIMEOUT_SECONDS,
    ) -> None:
        self._llm = llm
        self._model = model
        self._min_interval_seconds = min_interval_seconds
        self._timeout = timeout_seconds

    @property
    def model(self) -> str:
        return self._model

    async def parse(
        self,
        text: str,
        *,
        now: datetime,
        timezone: str,
        language: str = ENGLISH,
        picture: Picture | None = None,
    ) -> ParsedRequest:
        """The request in `text` (and in `picture`, sent with it); `language` is the chat's,
        for the reason of a decline (the model's own words, passed on as written)."""
        system = _system_prompt(now, timezone, language)
        content: str | list[dict[str, Any]] = text
        if picture is not None:
            system += PICTURE_ADVICE
            content = [
                {"type": "text", "text": text or "(no words, only the picture)"},
                picture.content_part(),
            ]
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system},
            {"role": "user", "content": content},
        ]
        problem: str | ScheduleError = ""
        for attempt in range(2):
            completion = await self._ask(messages)
            call = next((c for c in completion.tool_calls if c.name == TOOL_NAME), None)
            if call is None:
                problem = f"answer by calling {TOOL_NAME}"
                messages.append({"role": "assistant", "content": completion.content or ""})
                messages.append({"role": "user", "content": f"Please {problem}."})
                continue
            try:
                return self._read(call.arguments, now=now, timezone=timezone)
            except _InvalidAnswer as invalid:
                # A schedule that is not allowed is told as its facts; anything else as written.
                problem = invalid.schedule_error or str(invalid)
                if attempt == 0:
                    messages.append(completion.as_message())
                    # Providers refuse a conversation in which any tool call goes unanswered.
                    messages.extend(
                        other.result_message(
                            f"Invalid: {problem}. Call {TOOL_NAME} again, corrected."
                            if other is call
                            else f"Ignored: call {TOOL_NAME} exactly once."
                        )
                        for other in completion.tool_calls
                    )
        raise NotUnderstoodError(
            N_("I couldn't work out a valid schedule from that ({problem})"), problem=problem
        )

    async def _ask(self, messages: list[dict[str, Any]]) -> Completion:
        try:
            return await self._llm.complete(
                messages,
                model=self._model,
                tools=[_tool()],
                tool_choice={"type": "function", "function": {"name": TOOL_NAME}},
                timeout=self._timeout,
            )
        except LLMError as error:
            # The chat hears what kind of failure it was; the provider's words go to the log.
            log.debug("parser.llm_failed", error=str(error))
            raise ParserUnavailableError(
                N_(
                    "I couldn't understand that right now: the language model is unavailable "
                    "({problem}). Try again later, or write the schedule as cron, e.g. "
                    "“0 9 * * 1-5 summarize the news”."
                ),
                problem=error.reason.message(),
            ) from None

    def _read(self, arguments: str, *, now: datetime, timezone: str) -> ParsedRequest:
        try:
            answer = ScheduleAnswer.model_validate(json.loads(arguments))
        except (json.JSONDecodeError, ValidationError) as error:
            raise _InvalidAnswer(f"the arguments are not valid: {_first_line(error)}") from None
        if not answer.understood:
            # One line: the command line and the bot show it as the reason. The model's own
            # words (it is told the chat's language) go out as written: a free-text fact.
            reason = " ".join((answer.reason or "").split())
            if reason:
                raise NotUnderstoodError(N_("{reason}"), reason=reason)
            raise NotUnderstoodError(N_("I couldn't find a schedule in that"))
        prompt = " ".join(clean_text(answer.prompt).split())[:MAX_PROMPT_CHARS]
        if not prompt:
            raise _InvalidAnswer("prompt is empty; put the task to perform in it")
        try:
            zone = canonical_zone(answer.timezone) if answer.timezone else timezone
            schedule = validate(
                _schedule_from(answer, zone, now),
                now=now,
                min_interval_seconds=self._min_interval_seconds,
            )
        except ScheduleError as error:
            raise _InvalidAnswer(str(error), error) from None
        except OverflowError:
            # A time near year 9999 that leaves the calendar when converted to UTC.
            raise _InvalidAnswer("run_at is too far in the future") from None
        return ParsedRequest(
            schedule=schedule, prompt=prompt[:1].upper() + prompt[1:], source="llm"
        )


class _InvalidAnswer(Exception):
    """The model's answer cannot be used as it is; the text goes back to it. `schedule_error`
    is the reason when its schedule is not allowed: what the user is told if it stays so."""

    def __init__(self, problem: str, schedule_error: ScheduleError | None = None) -> None:
        super().__init__(problem)
        self.schedule_error = schedule_error


def _schedule_from(answer: ScheduleAnswer, zone: str, now: datetime) -> Schedule:
    if answer.kind == "cron":
        if not answer.cron:
            raise ScheduleError("kind is cron but cron is empty")
        return Schedule(kind=TaskKind.CRON, timezone=zone, cron=answer.cron)
    if answer.kind == "once":
        if not answer.run_at:
            raise ScheduleError("kind is once but run_at is empty")
        return Schedule(kind=TaskKind.ONCE, timezone=zone, run_at=_instant(answer.run_at, zone))
    if answer.kind == "interval":
        if not answer.every_seconds:
            raise ScheduleError("kind is interval but every_seconds is empty")
        if answer.run_at:
            # From its first run, like the rules' "every 2 weeks on friday"; validation checks it.
            return interval_starting(_instant(answer.run_at, zone), answer.every_seconds, zone)
        return Schedule(
            kind=TaskKind.INTERVAL, timezone=zone, every_seconds=answer.every_seconds, run_at=now
        )
    raise ScheduleError("kind must be cron, once or interval")


def _instant(text: str, zone: str) -> datetime:
    try:
        run_at = datetime.fromisoformat(text)
    except ValueError:
        raise ScheduleError(f"run_at {text!r} is not an ISO 8601 time") from None
    if run_at.tzinfo is None:
        # The same DST policy as cron: a time in a gap means the first valid instant after.
        run_at = fixed_time_instant(run_at, zone_for(zone))
    return run_at


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
