"""Voice notes, audio files and video notes heard as text: the limits a recording must keep to
(`admit`, before it is downloaded) and its transcription (`hear`), on the chat's bill.

What is heard then follows the path of typed text, so a front door calls `admit`, fetches the
file, calls `hear` and hands the words on as if they were typed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from application.access import Access
from application.errors import ParseBudgetSpentError
from application.permissions import Action, Actor
from application.usage import TRANSCRIPTION, Ledger
from core.errors import N_, CronpilotError, WordedError
from core.logs import get_logger
from core.reasons import Reason
from scheduler.llm import LLMError
from scheduler.transcription import Transcriber

log = get_logger(__name__)

# What Telegram lets a bot download (getFile), and so the most a recording may weigh.
MAX_RECORDING_BYTES = 20 * 1024 * 1024
TRANSCRIPTION_TIMEOUT_SECONDS = 60.0
# Kinds of recording, as a front door names them.
VOICE_NOTE, AUDIO_FILE, VIDEO_NOTE = "voice", "audio", "video_note"
# The media types a kind may come as; anything else is not sent to the provider.
_MEDIA_TYPES = {
    VOICE_NOTE: ("audio/",),
    AUDIO_FILE: ("audio/",),
    VIDEO_NOTE: ("video/",),
}


class VoiceNotSetUpError(CronpilotError):
    """No TRANSCRIPTION_MODEL: the operator has not set up voice."""

    def __init__(self) -> None:
        super().__init__("voice notes are not set up here (no TRANSCRIPTION_MODEL)")


class RecordingRefusedError(WordedError):
    """The recording cannot be heard (too long, too large, empty, not audio, nothing said, the
    provider failed); the reason says why, for the person."""


class NothingHeardError(RecordingRefusedError):
    """The transcription came back empty."""

    def __init__(self) -> None:
        super().__init__(N_("I could not make out any words in that recording"))


class TranscriptionFailedError(CronpilotError):
    """The provider could not hear the recording; `reason` says why (core.reasons)."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(f"the recording could not be transcribed: {reason.message()}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Recording:
    """What a front door knows of a recording before downloading it."""

    kind: str  # VOICE_NOTE, AUDIO_FILE or VIDEO_NOTE
    seconds: int | None
    size: int | None  # bytes, when the messenger says
    media_type: str | None


@dataclass(frozen=True, slots=True)
class Heard:
    text: str
    cost: float | None


class Voice:
    def __init__(
        self,
        transcriber: Transcriber | None,
        access: Access,
        ledger: Ledger,
        *,
        model: str | None,
        max_seconds: int,
    ) -> None:
        self._transcriber = transcriber
        self._access = access
        self._ledger = ledger
        self._model = model
        self._max_seconds = max_seconds

    @property
    def set_up(self) -> bool:
        return self._model is not None and self._transcriber is not None

    async def admit(self, actor: Actor, chat_id: int, recording: Recording) -> None:
        """Whether the recording may be fetched and heard for the chat.

        Raises VoiceNotSetUpError, RecordingRefusedError (too long, too large, empty, not
        audio) or ParseBudgetSpentError."""
        await self._access.require(actor, Action.HEAR_VOICE, chat_id)
        if not self.set_up:
            raise VoiceNotSetUpError
        if recording.seconds is not None and recording.seconds > self._max_seconds:
            raise RecordingRefusedError(
                N_(
                    "that recording is {seconds} seconds long; I listen to at most {limit} "
                    "seconds, so please say it shorter or type it"
                ),
                seconds=recording.seconds,
                limit=self._max_seconds,
            )
        if recording.size is not None and recording.size > MAX_RECORDING_BYTES:
            raise RecordingRefusedError(
                N_("that file is larger than the {limit} MB I can download"),
                limit=MAX_RECORDING_BYTES // (1024 * 1024),
            )
        if recording.size == 0 or recording.seconds == 0:
            raise _empty()
        accepted = _MEDIA_TYPES.get(recording.kind, ())
        media_type = (recording.media_type or "").lower()
        if recording.media_type is not None and not media_type.startswith(accepted):
            raise RecordingRefusedError(
                N_("that file is {media_type}, not a recording I can listen to"),
                media_type=recording.media_type,
            )
        if await self._ledger.reached(chat_id) is not None:
            raise ParseBudgetSpentError

    async def hear(
        self, actor: Actor, chat_id: int, audio: bytes, *, filename: str, recording: Recording
    ) -> Heard:
        """The words of a recording `admit` let through, its cost on the chat's bill.

        Raises what `admit` raises, and RecordingRefusedError when the file is empty or the
        provider sent no words; TranscriptionFailedError when the provider failed."""
        await self.admit(actor, chat_id, recording)
        if not audio:
            raise _empty()
        if len(audio) > MAX_RECORDING_BYTES:
            raise RecordingRefusedError(
                N_("that file is larger than the {limit} MB I can download"),
                limit=MAX_RECORDING_BYTES // (1024 * 1024),
            )
        assert self._transcriber is not None
        assert self._model is not None
        try:
            transcript = await self._transcriber.transcribe(
                audio,
                filename=filename,
                model=self._model,
                timeout=TRANSCRIPTION_TIMEOUT_SECONDS,
            )
        except LLMError as error:
            log.warning(
                "voice.transcription_failed",
                chat_id=chat_id,
                reason=error.reason.code,
                detail=error.detail,
            )
            raise TranscriptionFailedError(error.reason) from error
        try:
            await self._ledger.record(
                chat_id,
                kind=TRANSCRIPTION,
                prompt_tokens=0,
                completion_tokens=0,
                cost=transcript.cost,
            )
        except SQLAlchemyError:  # the bill is not worth losing what the person said
            log.exception("usage.transcription_not_recorded", chat_id=chat_id)
        if not transcript.text.strip():
            raise NothingHeardError
        log.info("voice.heard", chat_id=chat_id, kind=recording.kind, chars=len(transcript.text))
        return Heard(text=transcript.text, cost=transcript.cost)


def _empty() -> RecordingRefusedError:
    return RecordingRefusedError(N_("that recording is empty; there is nothing to listen to"))
