"""Forum topics: a task's messages go to the topic it was made in; when Telegram answers that the
topic is closed or gone, the message goes to the chat's main thread instead, once, after a line
saying so and how to pick another place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.i18n import Translator
from core.logs import get_logger
from storage.records import Task

log = get_logger(__name__)

_T = TypeVar("_T")
# What Telegram says when a message_thread_id names a topic that is closed, deleted or unknown.
_TOPIC_GONE = ("message thread not found", "topic_closed", "topic_deleted", "thread not found")


def topic_gone(error: BadRequest) -> bool:
    """Whether Telegram refused a message because its topic is closed or gone."""
    return any(text in error.message.lower() for text in _TOPIC_GONE)


def moved_note(_: Translator, task: Task) -> str:
    return _(
        "⚠️ The topic of task #{number} is closed or gone, so its message comes here. To pick "
        "another place, send /target {number} here in the topic it should go to.",
        number=task.id,
    )


async def in_topic(
    bot: Bot,
    _: Translator,
    task: Task,
    send: Callable[[int | None], Awaitable[_T]],
) -> _T:
    """`send(thread)` in the task's topic; if the topic is closed or gone, a note and then
    `send(None)` in the main thread."""
    if task.thread_id is None:
        return await send(None)
    try:
        return await send(task.thread_id)
    except BadRequest as error:
        if not topic_gone(error):
            raise
    log.warning(
        "telegram.topic_gone", task_id=task.id, chat_id=task.chat_id, thread_id=task.thread_id
    )
    await bot.send_message(task.chat_id, moved_note(_, task), parse_mode=ParseMode.HTML)
    return await send(None)
