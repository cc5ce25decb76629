"""Speech to text: the transcription port the voice use case calls, and its LiteLLM
implementation (`litellm.atranscription`, any provider LiteLLM's transcription API supports:
OpenAI's whisper-1, Groq's whisper-large-v3, …).

The audio goes to the provider as Telegram delivered it (OGG/Opus voice notes, MP3/M4A audio
files, MP4 video notes), without conversion: every provider named takes those formats.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from core.logs import Redactor
from core.reasons import ModelTimedOut, UnreadableAnswer
from scheduler.llm import call_failure, failure, litellm_library

if TYPE_CHECKING:
    from core.settings import Settings

# LiteLLM is given the timeout and normally reports it first; this much later the call is
# cancelled regardless.
_OVERRUN_GRACE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Transcript:
    """What was heard, and what hearing it cost (USD; None when LiteLLM knows no price)."""

    text: str
    cost: float | None
    model: str


class Transcriber(Protocol):
    # `timeout` bounds the provider request and is handed on to it (see LLMClient.complete).
    async def transcribe(
        self,
        audio: bytes,
        *,
        filename: str,
        model: str,
        timeout: float,  # noqa: ASYNC109
    ) -> Transcript:
        """The words spoken in `audio`; raises `LLMError` (scheduler.llm) when the call fails."""
        ...


class LiteLLMTranscriber:
    """`Transcriber` through LiteLLM, one attempt per call (as `LiteLLMClient`)."""

    def __init__(
        self, *, api_base: str | None, api_key: str | None, secrets: Iterable[str] = ()
    ) -> None:
        self._api_base = api_base or None
        self._api_key = api_key or None
        self._redactor = Redactor([*secrets, *([api_key] if api_key else [])])

    @classmethod
    def from_settings(cls, settings: Settings) -> LiteLLMTranscriber:
        """TRANSCRIPTION_API_BASE and TRANSCRIPTION_API_KEY, else the LLM's."""
        key = settings.transcription_api_key or settings.llm_api_key
        return cls(
            api_base=settings.transcription_api_base or settings.llm_api_base,
            api_key=key.get_secret_value() if key else None,
            secrets=settings.secret_values(),
        )

    def __repr__(self) -> str:
        return f"LiteLLMTranscriber(api_base={self._api_base!r})"

    async def transcribe(
        self,
        audio: bytes,
        *,
        filename: str,
        model: str,
        timeout: float,  # noqa: ASYNC109
    ) -> Transcript:
        litellm = await litellm_library()
        arguments: dict[str, Any] = {
            "model": model,
            "file": (filename, audio),
            "timeout": float(timeout),
            "num_retries": 0,
            "max_retries": 0,
        }
        if self._api_base is not None:
            arguments["api_base"] = self._api_base
        if self._api_key is not None:
            arguments["api_key"] = self._api_key
        try:
            async with asyncio.timeout(timeout + _OVERRUN_GRACE_SECONDS):
                response = await litellm.atranscription(**arguments)
        except TimeoutError:
            raise failure(ModelTimedOut(seconds=float(timeout))) from None
        except Exception as error:  # LiteLLM's, the SDK's and httpx's errors alike
            raise call_failure(
                error, litellm, model=model, timeout=timeout, redactor=self._redactor
            ) from error
        text = getattr(response, "text", None)
        if not isinstance(text, str):
            raise failure(UnreadableAnswer())
        return Transcript(text=" ".join(text.split()), cost=_cost(response), model=model)


def _cost(response: Any) -> float | None:
    hidden = getattr(response, "_hidden_params", None)
    value = hidden.get("response_cost") if isinstance(hidden, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)
