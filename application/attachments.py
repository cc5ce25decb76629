"""Documents in: a document sent with a request is read (text, Markdown, CSV, PDF; in the
extraction workers, bounded in time, CPU and memory) and kept with the task, whose model gets
its text at every run; `/task N` and the API list a task's attachments."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.access import Access
from application.permissions import Action, Actor
from core.errors import N_, WordedError
from core.logs import get_logger
from scheduler.documents import DocumentError, DocumentText, Picture, document_kind
from scheduler.runner.tools.extraction import ExtractionTimeoutError, default_pool
from storage import attachments
from storage.records import Attachment

log = get_logger(__name__)

# What Telegram lets a bot download (getFile), and so the most a document may weigh.
MAX_FILE_BYTES = 20 * 1024 * 1024
# Pictures go to the model whole (base64, a third larger): the providers take up to 20 MB.
MAX_PICTURE_BYTES = 10 * 1024 * 1024
# The picture formats every provider that sees takes.
PICTURE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


class FileRefusedError(WordedError):
    """A document (or image) that cannot be used; the reason says why, for the person."""


@dataclass(frozen=True, slots=True)
class SentFile:
    """What a front door knows of a file before downloading it."""

    name: str
    media_type: str | None
    size: int | None  # bytes, when the messenger says


class Attachments:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], access: Access, *, max_bytes: int
    ) -> None:
        self._sessions = sessions
        self._access = access
        self._max_bytes = max_bytes

    async def admit(self, actor: Actor, chat_id: int, sent: SentFile) -> None:
        """Whether the document may be fetched and read; raises FileRefusedError."""
        await self._access.require(actor, Action.READ_FILE, chat_id)
        if document_kind(sent.media_type, sent.name) is None:
            raise FileRefusedError(
                N_(
                    "I can keep text, Markdown, CSV and PDF documents with a task, and “{name}” "
                    "is {media_type}"
                ),
                name=sent.name,
                media_type=sent.media_type or "application/octet-stream",
            )
        too_large(sent.size)
        if sent.size == 0:
            raise _empty(sent.name)

    async def read(self, actor: Actor, chat_id: int, sent: SentFile, body: bytes) -> DocumentText:
        """The text of a document `admit` let through; raises FileRefusedError when it is
        empty, unreadable, too costly to read, or its text is over ATTACHMENT_MAX_BYTES."""
        await self.admit(actor, chat_id, sent)
        kind = document_kind(sent.media_type, sent.name)
        assert kind is not None
        if not body:
            raise _empty(sent.name)
        too_large(len(body))
        try:
            text = await default_pool().document_text(kind, body, self._max_bytes)
        except DocumentError as error:
            log.info("attachment.refused", chat_id=chat_id, why=error.code, bytes=len(body))
            raise _refusal(error, sent.name, self._max_bytes) from error
        except ExtractionTimeoutError as error:
            log.info("attachment.refused", chat_id=chat_id, why="timeout", bytes=len(body))
            raise FileRefusedError(
                N_("reading “{name}” took too long, so I stopped; send a simpler file"),
                name=sent.name,
            ) from error
        media_type = sent.media_type or ("application/pdf" if kind == "pdf" else "text/plain")
        return DocumentText(name=sent.name, media_type=media_type, text=text)

    async def admit_picture(self, actor: Actor, chat_id: int, sent: SentFile) -> None:
        """Whether the picture may be fetched and shown to a model; raises FileRefusedError."""
        await self._access.require(actor, Action.READ_FILE, chat_id)
        media_type = (sent.media_type or "").lower()
        if media_type not in PICTURE_TYPES:
            raise FileRefusedError(
                N_("I can read JPEG, PNG, WebP and GIF pictures, and “{name}” is {media_type}"),
                name=sent.name,
                media_type=sent.media_type or "application/octet-stream",
            )
        if sent.size is not None and sent.size > MAX_PICTURE_BYTES:
            raise FileRefusedError(
                N_("that picture is larger than the {limit} MB I can show a model"),
                limit=MAX_PICTURE_BYTES // (1024 * 1024),
            )
        if sent.size == 0:
            raise _empty(sent.name)

    async def picture(self, actor: Actor, chat_id: int, sent: SentFile, body: bytes) -> Picture:
        """The picture `admit_picture` let through, as fetched; raises FileRefusedError."""
        await self.admit_picture(actor, chat_id, sent)
        if not body:
            raise _empty(sent.name)
        if len(body) > MAX_PICTURE_BYTES:
            raise FileRefusedError(
                N_("that picture is larger than the {limit} MB I can show a model"),
                limit=MAX_PICTURE_BYTES // (1024 * 1024),
            )
        assert sent.media_type is not None
        return Picture(name=sent.name, media_type=sent.media_type.lower(), data=body)

    async def of_task(self, actor: Actor, task_id: int) -> list[Attachment]:
        """The documents kept with the task."""
        await self._access.task(actor, Action.SHOW_TASK, task_id)
        async with self._sessions() as session:
            return await attachments.of_task(session, task_id)


def too_large(size: int | None) -> None:
    if size is not None and size > MAX_FILE_BYTES:
        raise FileRefusedError(
            N_("that file is larger than the {limit} MB I can download"),
            limit=MAX_FILE_BYTES // (1024 * 1024),
        )


def _empty(name: str) -> FileRefusedError:
    return FileRefusedError(N_("“{name}” is empty; there is nothing to read"), name=name)


def _refusal(error: DocumentError, name: str, max_bytes: int) -> FileRefusedError:
    if error.code == "too_long":
        return FileRefusedError(
            N_(
                "the text of “{name}” is {size} KB; a task can keep at most {limit} KB, so "
                "send a shorter document"
            ),
            name=name,
            size=max(error.size // 1000, 1),
            limit=max_bytes // 1000,
        )
    if error.code == "empty":
        return FileRefusedError(N_("“{name}” holds no text I can read"), name=name)
    if error.code == "too_costly":
        return FileRefusedError(
            N_("“{name}” would take too much memory to read, so I did not read it"), name=name
        )
    return FileRefusedError(N_("I could not read “{name}”: it looks damaged"), name=name)
