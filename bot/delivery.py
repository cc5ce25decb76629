"""The scheduler's delivery port, implemented for Telegram."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot import results, shapes
from bot.i18n import Translator, translator
from bot.layout import Layout
from bot.posting import Poster
from bot.topics import in_topic, topic_gone
from core.languages import ENGLISH
from core.logs import get_logger
from core.reasons import InternalError, Reason
from scheduler.delivery import ChatUnreachableError, DeliveryDelayedError, DeliveryError
from storage.records import Run, Target, Task, TaskMode

log = get_logger(__name__)

# Telegram shows "typing…" for about five seconds; renew it a little before it fades.
TYPING_EVERY_SECONDS = 4.5
# Bad Request texts that mean the chat itself is gone, not that one message was wrong.
_GONE = ("chat not found", "bot was kicked", "group chat was deactivated", "user is deactivated")


def _unreachable(error: TelegramError) -> bool:
    if isinstance(error, Forbidden):
        return True
    return isinstance(error, BadRequest) and any(text in error.message.lower() for text in _GONE)


class TelegramDelivery:
    def __init__(self, bot: Bot, layout: Layout | None = None) -> None:
        self._bot = bot
        self._layout = layout or Layout()
        self._poster = Poster(bot)
        self._language_of: Callable[[int], Awaitable[str]] | None = None

    def learn_languages(self, language_of: Callable[[int], Awaitable[str]]) -> None:
        """How to find which language a chat speaks (the application's, once it exists)."""
        self._language_of = language_of

    async def _words(self, chat_id: int) -> Translator:
        if self._language_of is None:
            return translator(ENGLISH)
        return translator(await self._language_of(chat_id))

    @contextlib.asynccontextmanager
    async def working(self, chat_id: int) -> AsyncIterator[None]:
        done = asyncio.Event()
        typing = asyncio.create_task(self._keep_typing(chat_id, done), name=f"typing-{chat_id}")
        try:
            yield
        finally:
            # Asked to stop, not cancelled: cancelling a request in flight can leave its pooled
            # connection stuck, and enough of those exhaust the pool.
            done.set()
            await typing

    async def _keep_typing(self, chat_id: int, done: asyncio.Event) -> None:
        while not done.is_set():
            try:
                await self._bot.send_chat_action(chat_id, ChatAction.TYPING)
            except TelegramError as error:
                # Cosmetic: the result's own delivery reports real problems.
                log.debug("telegram.typing_failed", chat_id=chat_id, error=str(error))
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), TYPING_EVERY_SECONDS)

    async def send_result(self, task: Task, run: Run, text: str) -> Sequence[int]:
        """The answer laid out (bot.layout: messages, a document, photos) and posted; the ids
        of every message it took, so each is recorded as part of the result."""
        _ = await self._words(task.chat_id)
        try:
            return await in_topic(
                self._bot, _, task, lambda thread: self._send_result(_, task, run, text, thread)
            )
        except TelegramError as error:
            raise self._error(error) from None

    async def _send_result(
        self, _: Translator, task: Task, run: Run, text: str, thread: int | None
    ) -> Sequence[int]:
        if task.mode is TaskMode.REMINDER:
            return [await self._send_reminder(_, task, text, thread)]
        buttons = results.result_buttons(_, task)
        parts = self._layout.result(_, task, text)
        try:
            return await self._poster.post(task.chat_id, parts, buttons=buttons, thread_id=thread)
        except BadRequest as error:
            if _unreachable(error) or topic_gone(error):
                raise
            # The formatting was refused: send the model's text as it is.
            log.warning("telegram.formatting_refused", run_id=run.id, error=str(error))
            messages = await self._send_plain(_, task, text, buttons, thread)
        return [message.message_id for message in messages]

    async def _send_reminder(
        self, _: Translator, task: Task, words: str, thread: int | None
    ) -> int:
        """⏰ and the words, with Snooze and Done when it comes once (in the task's topic)."""
        message = await self._bot.send_message(
            task.chat_id,
            shapes.reminder(_, words),
            parse_mode=ParseMode.HTML,
            reply_markup=shapes.reminder_buttons(_, task),
            disable_web_page_preview=True,
            message_thread_id=thread,
        )
        return message.message_id

    async def _send_plain(
        self,
        _: Translator,
        task: Task,
        text: str,
        buttons: InlineKeyboardMarkup,
        thread: int | None,
    ) -> list[Message]:
        chunks = results.plain_chunks(_, task, text)
        return [
            await self._bot.send_message(
                task.chat_id,
                chunk,
                reply_markup=buttons if index == len(chunks) - 1 else None,
                disable_web_page_preview=True,
                message_thread_id=thread,
            )
            for index, chunk in enumerate(chunks)
        ]

    async def send_failure(self, task: Task, run: Run, reason: Reason) -> int:
        _ = await self._words(task.chat_id)
        screen = results.failure(_, task, reason, retry_at=run.retry_at)
        return (await self._notice(_, task, screen.text, screen.keyboard)).message_id

    async def send_paused(self, task: Task, reason: Reason) -> None:
        _ = await self._words(task.chat_id)
        screen = results.paused_notice(_, task, reason)
        await self._notice(_, task, screen.text, screen.keyboard)

    async def send_nothing_to_report(self, task: Task, run: Run) -> int:
        _ = await self._words(task.chat_id)
        text = results.nothing_to_report(_, task)
        return (await self._notice(_, task, text, results.result_buttons(_, task))).message_id

    async def send_budget_reached(self, task: Task, spent_usd: float, budget_usd: float) -> None:
        _ = await self._words(task.chat_id)
        await self._notice(_, task, results.budget_reached(_, task, spent_usd, budget_usd), None)

    async def _notice(
        self, _: Translator, task: Task, text: str, keyboard: InlineKeyboardMarkup | None
    ) -> Message:
        """A notice in HTML in the task's own chat and topic."""

        async def send(thread: int | None) -> Message:
            return await self._bot.send_message(
                task.chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
                message_thread_id=thread,
            )

        try:
            return await in_topic(self._bot, _, task, send)
        except TelegramError as error:
            raise self._error(error) from None

    async def send_copy(self, task: Task, run: Run, target: Target, text: str) -> Sequence[int]:
        """The answer in another chat or channel, laid out as a result is, without buttons
        (they act on the task, which is managed in its own chat). A refusal carries Telegram's
        own words, which the target's check (application.targets) falls back on."""
        if target.chat_id is None:
            raise DeliveryError("the target names no chat")
        _ = await self._words(task.chat_id)
        parts = self._layout.result(_, task, text)
        try:
            return await self._poster.post(target.chat_id, parts, thread_id=target.thread_id)
        except TelegramError as error:
            found = self._error(error)
            if isinstance(found, DeliveryDelayedError):
                raise found from None
            raise DeliveryError(error.message) from None

    async def send_target_refused(self, task: Task, target: Target, reason: Reason) -> None:
        _ = await self._words(task.chat_id)
        text = results.target_refused(_, task, target.label, _.reason(reason))
        await self._notice(_, task, text, None)

    async def send_skipped(self, task: Task, reason: Reason) -> None:
        _ = await self._words(task.chat_id)
        await self._notice(_, task, results.skipped(_, task, reason), None)

    async def settle_failure(self, task: Task, failed: Run, later: Run) -> None:
        """The failure notice says the later try worked, and loses its Retry button."""
        if failed.delivered_message_id is None:
            return
        _ = await self._words(task.chat_id)
        text = results.failure_settled(_, task, failed.reason or InternalError(), later)
        try:
            await self._bot.edit_message_text(
                text,
                chat_id=task.chat_id,
                message_id=failed.delivered_message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=None,
            )
        except TelegramError as error:
            raise self._error(error) from None

    @staticmethod
    def _error(error: TelegramError) -> DeliveryError:
        if _unreachable(error):
            return ChatUnreachableError(error.message)
        if isinstance(error, RetryAfter):
            pause = error.retry_after
            seconds = pause if isinstance(pause, int) else pause.total_seconds()
            return DeliveryDelayedError(
                f"Telegram asked to wait {seconds:g} s", retry_after=seconds
            )
        # A 5xx, a timeout or a dropped connection (BadRequest is a NetworkError too, and final).
        if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
            return DeliveryDelayedError(f"Telegram did not take the message: {error.message}")
        return DeliveryError(f"Telegram refused the message: {error.message}")
