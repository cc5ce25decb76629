"""Files people send: voice notes, audio files and video notes are heard and then read as
typed text (a request, a reply about a task, the answer to an Edit); documents sent with a
request are read and kept with its task (or go to the follow-up model with a reply); pictures
are read with the request's words by a parser model that sees."""

from __future__ import annotations

import asyncio
import warnings
from datetime import timedelta

from telegram import Audio, Chat, Message, Update, VideoNote, Voice
from telegram.error import TelegramError
from telegram.warnings import PTBDeprecationWarning

from application.attachments import MAX_PICTURE_BYTES, FileRefusedError, SentFile
from application.errors import ParseBudgetSpentError
from application.permissions import RefusedError
from application.voice import (
    AUDIO_FILE,
    MAX_RECORDING_BYTES,
    VIDEO_NOTE,
    VOICE_NOTE,
    RecordingRefusedError,
    TranscriptionFailedError,
    VoiceNotSetUpError,
)
from application.voice import Recording as RecordingFacts
from bot import media, problems, render
from bot.context import Context, use_cases
from bot.handlers.common import actor, chat_translator, chat_zone, current_chat, reply
from bot.handlers.create import mentions, take_words, without_mention
from core.logs import get_logger

log = get_logger(__name__)

# A download from the Bot API server may take this long (20 MB on a slow link).
DOWNLOAD_SECONDS = 60.0


def _addressed(message: Message, chat: Chat, bot_id: int, username: str | None) -> bool:
    """Whether a file is meant for the bot: in a private chat, a reply to the bot, or with a
    caption that mentions it."""
    if chat.type == Chat.PRIVATE:
        return True
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return True
    return mentions(message.caption or "", username)


def _seconds(item: Voice | Audio | VideoNote) -> int:
    """A recording's length in seconds (PTB is moving `duration` from int to timedelta and
    warns on every read meanwhile)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        duration = item.duration
    return int(duration.total_seconds()) if isinstance(duration, timedelta) else int(duration)


def _recording(message: Message) -> tuple[str, str, RecordingFacts] | None:
    """The recording a message carries: its file id, a file name for the provider, and what
    is known of it before the download."""
    if message.voice is not None:
        note = message.voice
        facts = RecordingFacts(VOICE_NOTE, _seconds(note), note.file_size, note.mime_type)
        return note.file_id, "voice.ogg", facts
    if message.audio is not None:
        audio = message.audio
        facts = RecordingFacts(AUDIO_FILE, _seconds(audio), audio.file_size, audio.mime_type)
        return audio.file_id, audio.file_name or "audio.mp3", facts
    if message.video_note is not None:
        video = message.video_note
        facts = RecordingFacts(VIDEO_NOTE, _seconds(video), video.file_size, "video/mp4")
        return video.file_id, "video_note.mp4", facts
    return None


async def recording_message(update: Update, context: Context) -> None:
    """A voice note, audio file or video note: heard, then read like the same words typed."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    found = _recording(message)
    username = context.bot.username
    if found is None or not _addressed(message, chat, context.bot.id, username):
        return
    file_id, filename, facts = found
    record = await current_chat(update, context)
    _ = chat_translator(update, record)
    hearing = use_cases(context).voice
    who = actor(update)
    try:
        await hearing.admit(who, chat.id, facts)
        audio = await _download(context, file_id)
        if audio is None:
            await reply(update, media.not_fetched(_))
            return
        heard = await hearing.hear(who, chat.id, audio, filename=filename, recording=facts)
    except VoiceNotSetUpError:
        await reply(update, media.voice_not_set_up(_))
        return
    except RecordingRefusedError as error:
        await reply(update, media.refused(_, render.sentence(problems.worded(_, error))))
        return
    except TranscriptionFailedError as error:
        await reply(update, media.not_heard(_, _.reason(error.reason)))
        return
    except ParseBudgetSpentError as error:
        await reply(update, _("💸 {problem}", problem=render.sentence(problems.worded(_, error))))
        return
    except RefusedError as error:
        await reply(update, problems.reply(_, error, chat_zone(record, context)))
        return
    caption = without_mention(message.caption or "", message.caption_entities, username)
    # A caption says something beside the recording: both are the request.
    words = f"{caption}\n{heard.text}" if caption else heard.text
    await take_words(update, context, words, words, mentioned=True, heard=heard.text)


async def document_message(update: Update, context: Context) -> None:
    """A document with a request (its caption): read, and kept with the task it asks for."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or message.document is None:
        return
    username = context.bot.username
    if not _addressed(message, chat, context.bot.id, username):
        return
    document = message.document
    if (document.mime_type or "").lower().startswith("image/"):
        await _picture(update, context, document.file_id, _sent_document(message))
        return
    sent = _sent_document(message)
    record = await current_chat(update, context)
    _ = chat_translator(update, record)
    caption = message.caption or ""
    words = without_mention(caption, message.caption_entities, username)
    if not words:
        await reply(update, media.needs_request(_))
        return
    reading = use_cases(context).attachments
    who = actor(update)
    try:
        await reading.admit(who, chat.id, sent)
        body = await _download(context, document.file_id)
        if body is None:
            await reply(update, media.not_fetched(_))
            return
        attachment = await reading.read(who, chat.id, sent, body)
    except FileRefusedError as error:
        await reply(update, media.refused(_, render.sentence(problems.worded(_, error))))
        return
    except RefusedError as error:
        await reply(update, problems.reply(_, error, chat_zone(record, context)))
        return
    await take_words(
        update,
        context,
        caption,
        words,
        mentioned=mentions(caption, username),
        attachment=attachment,
    )


def _sent_document(message: Message) -> SentFile:
    document = message.document
    assert document is not None
    return SentFile(
        name=document.file_name or "document",
        media_type=document.mime_type,
        size=document.file_size,
    )


async def photo_message(update: Update, context: Context) -> None:
    """A photo (a poster, an invitation, a screenshot), with or without a request."""
    message = update.effective_message
    if message is None or not message.photo:
        return
    # Telegram sends several sizes, smallest first: the largest a model may be shown.
    fitting = [size for size in message.photo if (size.file_size or 0) <= MAX_PICTURE_BYTES]
    chosen = fitting[-1] if fitting else message.photo[-1]
    sent = SentFile(name="photo.jpg", media_type="image/jpeg", size=chosen.file_size)
    await _picture(update, context, chosen.file_id, sent)


async def _picture(update: Update, context: Context, file_id: str, sent: SentFile) -> None:
    """A picture with (perhaps) words: read as a request by a model that sees, or asked
    about in a reply to a result."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    username = context.bot.username
    if not _addressed(message, chat, context.bot.id, username):
        return
    record = await current_chat(update, context)
    _ = chat_translator(update, record)
    reading = use_cases(context).attachments
    who = actor(update)
    try:
        await reading.admit_picture(who, chat.id, sent)
        body = await _download(context, file_id)
        if body is None:
            await reply(update, media.not_fetched(_))
            return
        picture = await reading.picture(who, chat.id, sent, body)
    except FileRefusedError as error:
        await reply(update, media.refused(_, render.sentence(problems.worded(_, error))))
        return
    except RefusedError as error:
        await reply(update, problems.reply(_, error, chat_zone(record, context)))
        return
    caption = message.caption or ""
    words = without_mention(caption, message.caption_entities, username)
    await take_words(
        update, context, caption, words, mentioned=mentions(caption, username), attachment=picture
    )


async def _download(context: Context, file_id: str) -> bytes | None:
    """The file's bytes from the Bot API server, or None when it cannot be had in time or is
    larger than Telegram lets bots download."""
    try:
        async with asyncio.timeout(DOWNLOAD_SECONDS):
            file = await context.bot.get_file(file_id)
            if file.file_size is not None and file.file_size > MAX_RECORDING_BYTES:
                return None
            return bytes(await file.download_as_bytearray())
    except (TelegramError, TimeoutError) as error:
        log.warning("media.download_failed", error=str(error))
        return None
