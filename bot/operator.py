"""The operator's chat (OPERATOR_CHAT_ID): where incidents are told, as
`application.watch.OperatorChannel`. Plain text, in the chat's language (English unless it chose
one), in the topic when the setting names one; the end of an incident replies to its alert."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from telegram import Bot, ReplyParameters
from telegram.error import TelegramError

from bot.i18n import N_, Translator, translator
from core.logs import get_logger
from storage.incidents import Incident

log = get_logger(__name__)

# What an incident of each check says when it starts (its facts fill the placeholders).
_ALERTS = {
    "model_errors": N_(
        "⚠️ Model errors: {failed} of {runs} runs with {model} failed in the last {minutes} "
        "minutes ({percent}%). Check the provider's status page, the API key and the bot's log."
    ),
    "replicas": N_(
        "⚠️ A replica stopped: worker {worker} has sent no heartbeat since {since}. The other "
        "replicas take over its runs and owed results; start a replacement and look at why it "
        "died."
    ),
    "overdue": N_(
        "⚠️ Tasks did not run: {overdue} task(s) overdue and not started ({tasks}), {missed} "
        "run(s) missed in the last {minutes} minutes. Is `cronpilot run` up, and its clock right?"
    ),
    "deliveries": N_(
        "⚠️ Deliveries failing: {count} result(s) owed to chats for more than {minutes} minutes "
        "(chats {chats}). Check that Telegram can be reached and the bot's log."
    ),
}
_UTC = ZoneInfo("UTC")


class TelegramOperator:
    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        thread_id: int | None,
        language_of: Callable[[int], Awaitable[str]],
    ) -> None:
        self._bot = bot
        self._chat_id = chat_id
        self._thread_id = thread_id
        self._language_of = language_of

    async def _words(self) -> Translator:
        return translator(await self._language_of(self._chat_id))

    async def alert(self, incident: Incident) -> int | None:
        _ = await self._words()
        template = _ALERTS.get(incident.kind)
        if template is None:
            return None
        facts = dict(incident.facts)
        if "silent_since" in facts:
            facts["since"] = _.instant(_parse(str(facts["silent_since"])), _UTC)
        return await self._send(_(template, **facts))

    async def resolved(self, incident: Incident) -> None:
        _ = await self._words()
        ended = incident.resolved_at or incident.opened_at
        minutes = max(1, round((ended - incident.opened_at).total_seconds() / 60))
        text = _.plural(
            "✅ Resolved after {count} minute.", "✅ Resolved after {count} minutes.", minutes
        )
        await self._send(text, reply_to=incident.message_id)

    async def outage(self, incident: Incident) -> int | None:
        _ = await self._words()
        minutes = int(incident.facts.get("minutes", 1))
        text = _.plural(
            "⚠️ The database was unreachable for {count} minute, since {since}; it is back.",
            "⚠️ The database was unreachable for {count} minutes, since {since}; it is back.",
            minutes,
            since=_.instant(incident.opened_at, _UTC),
        )
        return await self._send(text)

    async def _send(self, text: str, *, reply_to: int | None = None) -> int | None:
        try:
            message = await self._bot.send_message(
                self._chat_id,
                text,
                message_thread_id=self._thread_id,
                reply_parameters=(
                    ReplyParameters(reply_to, allow_sending_without_reply=True)
                    if reply_to is not None
                    else None
                ),
                disable_web_page_preview=True,
            )
        except TelegramError as error:
            log.warning("operator.alert_failed", chat_id=self._chat_id, error=str(error))
            return None
        return message.message_id


def _parse(iso: str) -> datetime:
    moment = datetime.fromisoformat(iso)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
