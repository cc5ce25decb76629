"""An answer's parts (bot.layout) posted to a chat, in order, as one delivery.

The first part decides whether the answer can be delivered at all: what it raises is the
caller's to handle (the chat is gone, Telegram is down, the formatting was refused), and nothing
is out yet. From then on the answer is partly in the chat, so the rest must follow rather than
fail the delivery, which would send the first part again:

- a later part Telegram cannot take now (a 5xx, a timeout, a lost connection) is tried again in
  place, a few times (tenacity; flood waits are the rate limiter's, bot.ratelimit);
- a later text whose formatting is refused goes as plain text;
- an album Telegram refuses (one URL it cannot fetch refuses the whole album) goes photo by
  photo, and a photo it refuses goes as its link, so no picture is lost;
- a document it refuses goes as the whole answer in plain messages.

Once the first part is out, a shutdown lets the rest finish (within `REST_GRACE_SECONDS`) and
then returns every message id, re-raising the cancellation at the caller's next wait: the caller
records the whole delivery as it would after a shutdown that landed once the message was out,
so a restart neither loses nor repeats a part (scheduler.runner.sending).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextvars import Context, ContextVar, copy_context
from dataclasses import dataclass, field

from telegram import (
    Bot,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    Message,
    MessageEntity,
    ReplyParameters,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegramify_markdown import split_entities, utf16_len
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from bot.layout import DocumentPart, Part, PhotosPart, TextPart
from bot.results import RESULT_CHUNK
from core.logs import get_logger

log = get_logger(__name__)

# After a shutdown lands, how long the rest of an answer already partly out may take.
REST_GRACE_SECONDS = 10.0
# A later part Telegram cannot take now: tried this many times, 1 s, 2 s, 4 s … apart.
LATER_ATTEMPTS = 5
_LATER_WAIT = wait_exponential(multiplier=1, max=16)


def _worth_retrying(error: BaseException) -> bool:
    """Telegram or the way to it failing for now (not a refusal, which is final)."""
    if isinstance(error, BadRequest | Forbidden):
        return False
    return isinstance(error, NetworkError | RetryAfter)


@dataclass(slots=True)
class _Progress:
    """The ids of the messages out so far, first to last."""

    message_ids: list[int] = field(default_factory=list)


# The forum topic the parts being posted go to (None: the main thread).
_THREAD: ContextVar[int | None] = ContextVar("thread", default=None)


def _in_thread(thread_id: int | None) -> Context:
    context = copy_context()
    context.run(_THREAD.set, thread_id)
    return context


class Poster:
    """Posts laid-out answers to chats through PTB's bot."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def post(
        self,
        chat_id: int,
        parts: Sequence[Part],
        *,
        buttons: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> list[int]:
        """Post `parts` in order (in forum topic `thread_id`, when given) and return the ids of
        every message sent, first to last. The buttons go on the last text message. Errors of
        the first part are raised as they are."""
        last_text = max(
            (index for index, part in enumerate(parts) if isinstance(part, TextPart)), default=-1
        )
        progress = _Progress()
        sending = asyncio.create_task(
            self._post_all(chat_id, parts, progress, buttons, last_text, reply_to),
            # The sending task takes the topic with it (a copy of this context).
            context=_in_thread(thread_id),
        )
        try:
            await asyncio.shield(sending)
        except asyncio.CancelledError:
            if not progress.message_ids:
                sending.cancel()  # nothing is out: the delivery is owed as a whole
                raise
            # Part of the answer is out: let the rest follow, then hand every id over.
            await asyncio.wait({sending}, timeout=REST_GRACE_SECONDS)
            if not sending.done():
                sending.cancel()
                log.warning("telegram.answer_cut_short", chat_id=chat_id)
            current = asyncio.current_task()
            if current is not None:
                current.cancel()  # the shutdown goes on at the caller's next wait
            return list(progress.message_ids)
        return sending.result()

    async def _post_all(
        self,
        chat_id: int,
        parts: Sequence[Part],
        progress: _Progress,
        buttons: InlineKeyboardMarkup | None,
        last_text: int,
        reply_to: int | None,
    ) -> list[int]:
        for index, part in enumerate(parts):
            markup = buttons if index == last_text else None
            if not progress.message_ids:
                sent = await self._part(chat_id, part, markup, reply_to)
            else:
                sent = await self._later_part(chat_id, part, markup, reply_to)
            progress.message_ids.extend(message.message_id for message in sent)
        return list(progress.message_ids)

    async def _later_part(
        self,
        chat_id: int,
        part: Part,
        markup: InlineKeyboardMarkup | None,
        reply_to: int | None,
    ) -> list[Message]:
        retrying = AsyncRetrying(
            retry=retry_if_exception(_worth_retrying),
            stop=stop_after_attempt(LATER_ATTEMPTS),
            wait=_LATER_WAIT,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                try:
                    return await self._part(chat_id, part, markup, reply_to)
                except BadRequest as refused:
                    # A chat gone meanwhile refuses what goes instead too, which is raised.
                    return await self._instead(chat_id, part, markup, reply_to, refused)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _part(
        self,
        chat_id: int,
        part: Part,
        markup: InlineKeyboardMarkup | None,
        reply_to: int | None,
    ) -> list[Message]:
        reply = _reply(reply_to)
        if isinstance(part, TextPart):
            message = await self._bot.send_message(
                chat_id,
                part.text,
                entities=list(part.entities),
                reply_markup=markup,
                disable_web_page_preview=True,
                reply_parameters=reply,
                message_thread_id=_THREAD.get(),
            )
            return [message]
        if isinstance(part, DocumentPart):
            message = await self._bot.send_document(
                chat_id,
                InputFile(part.content, filename=part.name),
                caption=part.caption or None,
                reply_markup=markup,
                reply_parameters=reply,
                message_thread_id=_THREAD.get(),
            )
            return [message]
        if len(part.pictures) == 1:
            (picture,) = part.pictures
            message = await self._bot.send_photo(
                chat_id,
                picture.url,
                caption=picture.alt or None,
                reply_parameters=reply,
                message_thread_id=_THREAD.get(),
            )
            return [message]
        album = [
            InputMediaPhoto(picture.url, caption=picture.alt or None) for picture in part.pictures
        ]
        return list(
            await self._bot.send_media_group(
                chat_id, album, reply_parameters=reply, message_thread_id=_THREAD.get()
            )
        )

    async def _instead(
        self,
        chat_id: int,
        part: Part,
        markup: InlineKeyboardMarkup | None,
        reply_to: int | None,
        refused: BadRequest,
    ) -> list[Message]:
        """What goes out when Telegram refuses a later part for good."""
        log.warning("telegram.part_refused", chat_id=chat_id, error=refused.message)
        if isinstance(part, PhotosPart) and len(part.pictures) > 1:
            sent: list[Message] = []
            for picture in part.pictures:
                sent += await self._later_part(chat_id, PhotosPart((picture,)), None, reply_to)
            return sent
        if isinstance(part, PhotosPart):
            (picture,) = part.pictures
            link = _link(picture.alt, picture.url)
            return await self._part(chat_id, link, None, reply_to)
        if isinstance(part, DocumentPart):
            answer = part.content.decode("utf-8")
            texts = [body for body, _ in split_entities(answer, [], RESULT_CHUNK)] or [answer]
            return [
                (await self._part(chat_id, TextPart(text, ()), None, reply_to))[0] for text in texts
            ]
        return await self._part(chat_id, TextPart(part.text, ()), markup, reply_to)


def _link(alt: str, url: str) -> TextPart:
    """A picture Telegram would not fetch, as its link: "🖼 alt" pointing at the URL (the URL
    itself when there is no alt text)."""
    label = alt or url
    prefix = "🖼 "
    return TextPart(
        prefix + label,
        (
            MessageEntity(
                MessageEntity.TEXT_LINK, offset=utf16_len(prefix), length=utf16_len(label), url=url
            ),
        ),
    )


def _reply(message_id: int | None) -> ReplyParameters | None:
    if message_id is None:
        return None
    return ReplyParameters(message_id, allow_sending_without_reply=True)
