"""The words about files people send: what was heard in a recording, and why a recording
or a file could not be used."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from babel.numbers import format_decimal

from bot.i18n import Translator

# The most of a transcript the card quotes; the request itself is on the card in full.
_QUOTED_CHARS = 600


def heard(_: Translator, text: str) -> str:
    """The quote of a recording above its card (HTML)."""
    quoted = text if len(text) <= _QUOTED_CHARS else text[: _QUOTED_CHARS - 1] + "…"
    return _("🎤 “{words}”", words=escape(quoted))


def voice_not_set_up(_: Translator) -> str:
    return _(
        "🎤 Voice notes are not set up here: the operator has not chosen a transcription model "
        "(TRANSCRIPTION_MODEL). Please type your request."
    )


def refused(_: Translator, problem: str) -> str:
    """A recording or file that cannot be used, and why (`problem`, one plain sentence)."""
    return _("📎 {problem}", problem=escape(problem))


def not_heard(_: Translator, reason: str) -> str:
    """The transcription failed; `reason` is why, in plain text."""
    return _("🎤 I could not hear that recording: {reason}.", reason=escape(reason))


def not_fetched(_: Translator) -> str:
    return _("📎 I could not fetch that file from Telegram. Please send it again.")


def attached(_: Translator, documents: Sequence[tuple[str, int]]) -> str:
    """The documents kept with a task or its draft, one line each (HTML)."""
    return "\n".join(
        _("📎 <b>Attached:</b> {name} ({size})", name=escape(name), size=text_size(_, size))
        for name, size in documents
    )


def text_size(_: Translator, size: int) -> str:
    """A size in bytes as people read it: "850 bytes", "12.3 KB"."""
    if size < 1000:
        return _.plural("{count} byte", "{count} bytes", size)
    return _("{size} KB", size=format_decimal(size / 1000, "0.#", locale=_.locale))


def needs_request(_: Translator) -> str:
    return _(
        "📎 Send the document with your request as its caption, for example “every monday "
        "compare this list with what's new on the site”."
    )
