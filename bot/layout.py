"""How an answer of the model is laid out in Telegram: which messages, documents and photos it
becomes, in order. Nothing here sends anything (bot.posting does).

- An answer up to `long_chars` characters is its text, split under the size limit.
- A longer one is its first lines, a line saying the whole answer is in the document below, and
  the whole answer as a `.md` document, instead of many split messages.
- The pictures of its Markdown (`![alt](https://…)`) follow as photos by URL, ten to an album,
  the alt text as caption; their links stay in the text too, so a picture Telegram cannot fetch
  is still one tap away.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from babel.numbers import format_decimal
from telegram import MessageEntity
from telegramify_markdown import split_entities

from bot import results
from bot.i18n import Translator
from bot.markdown import Picture, render
from bot.render import clip
from storage.records import Task

# A long answer's message shows about this many characters of it before the document.
PREVIEW_CHARS = 1000
# Telegram's most photos in one album, and the longest caption.
ALBUM_SIZE = 10
CAPTION_CHARS = 1024
# The most pictures sent as photos for one answer (three albums); the rest stay links in its
# text, as every picture does.
MAX_PICTURES = 30
# LONG_RESULT_CHARS by default: about three messages.
LONG_CHARS = 12_000
# The longest file name Telegram shows without cutting it.
_NAME_CHARS = 48


@dataclass(frozen=True, slots=True)
class TextPart:
    """A message: plain text plus formatting entities."""

    text: str
    entities: tuple[MessageEntity, ...]


@dataclass(frozen=True, slots=True)
class DocumentPart:
    """A file: the whole answer as the model wrote it."""

    name: str
    content: bytes
    caption: str


@dataclass(frozen=True, slots=True)
class PhotosPart:
    """One photo (sendPhoto) or an album of two to ten (sendMediaGroup)."""

    pictures: tuple[Picture, ...]


Part = TextPart | DocumentPart | PhotosPart


@dataclass(frozen=True, slots=True)
class Layout:
    """The rule for laying out answers; `long_chars` is LONG_RESULT_CHARS."""

    long_chars: int = LONG_CHARS

    def result(self, _: Translator, task: Task, answer: str) -> list[Part]:
        """A run's result, headed with its task's name; the file is named after the task."""
        header = results.result_header(_, task)
        return self._parts(_, answer, header, _file_name(task.name, f"task-{task.id}"))

    def answer(self, _: Translator, answer: str) -> list[Part]:
        """A follow-up answer (a reply to a result), without a header."""
        return self._parts(_, answer, "", "answer.md")

    def _parts(self, _: Translator, answer: str, header: str, name: str) -> list[Part]:
        rendered = render(answer)
        parts: list[Part]
        if len(answer) > self.long_chars:
            preview, preview_entities = split_entities(
                rendered.text, rendered.entities, PREVIEW_CHARS
            )[0]
            # Worked out before the call: pybabel's extractor misreads `_.locale` inside it.
            characters = format_decimal(len(answer), locale=_.locale)
            note = _.plural(
                "📎 The whole answer ({characters} character) is in the document below.",
                "📎 The whole answer ({characters} characters) is in the document below.",
                len(answer),
                characters=characters,
            )
            body = preview.rstrip() + "\n…\n\n" + note
            (first,) = results.headed_chunks(header, body, preview_entities, fallback=answer)
            caption = clip(header.strip(), CAPTION_CHARS)
            parts = [
                TextPart(first.text, first.entities),
                DocumentPart(name, answer.encode("utf-8"), caption),
            ]
        else:
            chunks = results.headed_chunks(
                header, rendered.text, rendered.entities, fallback=answer
            )
            parts = [TextPart(chunk.text, chunk.entities) for chunk in chunks]
        return parts + albums(rendered.pictures)


def albums(pictures: Sequence[Picture]) -> list[Part]:
    """The pictures as photos, each URL once, ten to an album, captions within Telegram's
    limit."""
    unique: dict[str, Picture] = {}
    for picture in pictures:
        unique.setdefault(picture.url, Picture(picture.url, clip(picture.alt, CAPTION_CHARS)))
    chosen = list(unique.values())[:MAX_PICTURES]
    return [
        PhotosPart(tuple(chosen[start : start + ALBUM_SIZE]))
        for start in range(0, len(chosen), ALBUM_SIZE)
    ]


def _file_name(name: str, fallback: str) -> str:
    """A file name from a task's name: letters, digits and dashes (any script), or the
    fallback when nothing of the name is left."""
    words = re.findall(r"\w+", name.lower())
    stem = "-".join(words)[:_NAME_CHARS].strip("-_") or fallback
    return f"{stem}.md"
