"""Expected errors in words: the one place that turns an error's type and facts into a sentence.

Errors raised below the bot carry facts (a task id, a limit, an instant); what the user reads is
written here, through the catalogs. `explain` gives plain text (for a button's alert); `reply`
gives it as HTML with a sign in front (for a message).
"""

from __future__ import annotations

from html import escape

from application.changes import NoTargetsLeftError, NotATargetError
from application.errors import (
    CapOutOfRangeError,
    ChainLoopError,
    ChainTooLongError,
    DraftExpiredError,
    DraftNotFoundError,
    QuotaExceededError,
    TaskAlreadyActiveError,
    TaskNotActiveError,
    TaskStateError,
    TaskTimePassedError,
    UnknownModelError,
    UnknownToolError,
)
from application.permissions import (
    NotAllowedError,
    NotManagerError,
    PrivateChatOnlyError,
    RefusedError,
)
from application.targets import (
    BotCannotPostError,
    NotTargetAdminError,
    TargetError,
    TooManyTargetsError,
    UnknownTargetError,
)
from bot.i18n import Translator
from bot.render import period
from core.errors import CronpilotError, ScheduleError, TooFrequentError, WordedError
from scheduler.engine import TaskBusyError, TaskNotFoundError
from scheduler.schedules.schedule import TimePassedError, UnknownZoneError, zone_for
from storage.records import TaskState

ALERT_CHARS = 200
# Facts that are names marked with `N_` below the bot, which the catalogs translate too: a cron
# field ("minute"), a unit ("weeks"), a month or weekday, what was found twice ("a date").
_NAMED_FACTS = frozenset(
    {"field", "unit", "month", "other_month", "weekday", "other_weekday", "what"}
)


def explain(_: Translator, error: CronpilotError, zone: str) -> str:
    """The sentence for an expected error, in the chat's language; dates in `zone`."""
    if isinstance(error, NotManagerError):
        return not_manager(_)
    if isinstance(error, PrivateChatOnlyError):
        # Only API tokens are a person's own so far (application.permissions, Right.OWN).
        return _("API tokens are handed out in a private chat only. Write /token to me there.")
    if isinstance(error, NotAllowedError):
        return not_allowed(_, error.user_id)
    if isinstance(error, TaskNotFoundError):
        return _("There is no task #{number} in this chat.", number=error.task_id)
    if isinstance(error, TaskBusyError):
        return _("Task #{number} is running right now; wait for its result.", number=error.task_id)
    if isinstance(error, ChainLoopError):
        return _(
            "Task #{number} can't run after task #{upstream}: the chain would come back to "
            "task #{number}.",
            number=error.task_id,
            upstream=error.upstream_id,
        )
    if isinstance(error, ChainTooLongError):
        return _(
            "Task #{number} can't run after task #{upstream}: a chain holds at most {limit} tasks.",
            number=error.task_id,
            upstream=error.upstream_id,
            limit=error.limit,
        )
    if isinstance(error, TaskStateError):
        return _task_state(_, error)
    if isinstance(error, UnknownModelError) and not error.known:
        return _(
            "There is no model named {name}: this bot has no models to choose from, so every "
            "task runs on the default model.",
            name=error.name,
        )
    if isinstance(error, UnknownModelError):
        return _(
            "There is no model named {name}. The models are: {models}, or default.",
            name=error.name,
            models=", ".join(error.known) or "—",
        )
    if isinstance(error, UnknownToolError):
        return _(
            "There is no tool named {names}. The tools are: {tools}.",
            names=", ".join(error.names),
            tools=", ".join(error.known) or "—",
        )
    if isinstance(error, CapOutOfRangeError):
        return _(
            "A monthly cap must be between $0 and ${most}, such as /budget N 0.50.",
            most=f"{error.most_usd:g}",
        )
    if isinstance(error, QuotaExceededError):
        return _(
            "This chat already has {limit} tasks, the most it may have; "
            "delete one with /delete N first.",
            limit=error.limit,
        )
    if isinstance(error, DraftExpiredError):
        return _.plural(
            "This request expired (requests stay open for {count} hour); send it again.",
            "This request expired (requests stay open for {count} hours); send it again.",
            int(error.lifetime.total_seconds() // 3600),
        )
    if isinstance(error, DraftNotFoundError):
        return _(
            "This request is no longer open (already confirmed or cancelled); "
            "send it again if you still want it."
        )
    if isinstance(error, TimePassedError):
        return _(
            "{when} is in the past; send the request again with a time that is still ahead.",
            when=_.instant(error.run_at, zone_for(zone)),
        )
    if isinstance(error, UnknownZoneError):
        return _(
            "I don't know the time zone {name}; use an IANA name such as Europe/Berlin or UTC.",
            name=error.name,
        )
    if isinstance(error, ScheduleError):
        # The schedule's own reason (a cron field out of range, a zone we do not know, …).
        return _("That schedule can't be used: {reason}.", reason=worded(_, error))
    if isinstance(error, TargetError):
        return _target(_, error)
    if isinstance(error, WordedError):
        return worded(_, error)
    return str(error)


def _target(_: Translator, error: TargetError) -> str:
    target = escape(error.target)
    if isinstance(error, NotTargetAdminError):
        return _(
            "Only an administrator of {target} may send results there; you are not one.",
            target=target,
        )
    if isinstance(error, BotCannotPostError):
        return _(
            "I may not post in {target}. Make me an administrator there who may post messages, "
            "then try again.",
            target=target,
        )
    if isinstance(error, NotATargetError):
        return _(
            "Task #{number} does not post to {target}, so there is nothing to stop.",
            number=error.task_id,
            target=target,
        )
    if isinstance(error, NoTargetsLeftError):
        return _(
            "Task #{number} would then post nowhere. Say where it should post instead, "
            "or pause it.",
            number=error.task_id,
        )
    if isinstance(error, TooManyTargetsError):
        return _(
            "That is {count} targets; a task may post to at most {limit}.",
            count=error.count,
            limit=error.limit,
        )
    if isinstance(error, UnknownTargetError) and error.destinations:
        return _(
            "I can't find {target}: it is no chat or channel I am in, and no destination. "
            "Destinations: {names}.",
            target=target,
            names=escape(", ".join(error.destinations)),
        )
    return _(
        "I can't find {target}: add me to that chat or channel first, and write it as "
        "@username or its numeric id.",
        target=target,
    )


def not_manager(_: Translator) -> str:
    """A group member who is no admin tried to change something (NotManagerError)."""
    return _(
        "Only this group's admins can create, run or change tasks here. "
        "You can still look: /tasks lists them and /history N shows a task's last runs."
    )


def not_allowed(_: Translator, user_id: int) -> str:
    """A user not on ALLOWED_USERS (the gate stops them; a use case refuses them too)."""
    return _("You are not allowed to use this bot (your id is {user_id}).", user_id=user_id)


def too_frequent(_: Translator, error: TooFrequentError) -> str:
    """Its periods in the chat's language (the English ones are in its facts)."""
    return _(
        error.reason,
        period=period(_, error.period_seconds),
        minimum=period(_, error.min_seconds),
    )


def worded(_: Translator, error: WordedError) -> str:
    """An error's reason in the chat's language, its facts filled in (plain text).

    A reason the catalogs do not hold (the LLM parser's, in the model's own words) comes out
    as written."""
    if isinstance(error, TooFrequentError):
        return too_frequent(_, error)
    facts = {
        name: (
            worded(_, value)
            if isinstance(value, WordedError)
            else _(value)
            if name in _NAMED_FACTS and isinstance(value, str)
            else value
        )
        for name, value in error.facts.items()
    }
    try:
        return _(error.reason, **facts)
    except (KeyError, IndexError, ValueError):  # braces in a reason that is free text
        return str(error)


def alert(_: Translator, error: CronpilotError, zone: str) -> str:
    """For a button's alert: plain text within Telegram's 200 characters."""
    text = explain(_, error, zone)
    return text if len(text) <= ALERT_CHARS else text[: ALERT_CHARS - 1] + "…"


def reply(_: Translator, error: CronpilotError, zone: str, *, sign: str = "❌") -> str:
    """For a message: HTML, with a sign in front (a refusal is no failure: it has none)."""
    if isinstance(error, RefusedError):
        return escape(explain(_, error, zone))
    return f"{sign} {escape(explain(_, error, zone))}"


def _task_state(_: Translator, error: TaskStateError) -> str:
    number = error.task_id
    if isinstance(error, TaskAlreadyActiveError):
        return _("Task #{number} is already active.", number=number)
    if isinstance(error, TaskTimePassedError):
        return _(
            "Task #{number} was a one-time task and its time has passed; "
            "use /edit {number} with a new time.",
            number=number,
        )
    if isinstance(error, TaskNotActiveError) and error.state is TaskState.PAUSED:
        return _("Task #{number} is paused already.", number=number)
    return _("Task #{number} is done; it has nothing left to pause.", number=number)
