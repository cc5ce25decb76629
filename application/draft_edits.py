"""Edit on a card: the person's next request replaces that card, whether or not it is sent as
a reply to the bot's prompt, so a request never has two live cards."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.errors import DraftNotFoundError
from scheduler.clock import Clock
from storage import drafts

# The payload key that marks a draft whose correction is awaited.
EDITING = "editing"


class DraftEdits:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def start(self, chat_id: int, draft_id: str, user_id: int) -> None:
        """Edit was pressed: this user's next request in this chat replaces the draft.

        Raises DraftNotFoundError when the draft is no longer open in this chat."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            draft = await drafts.get(session, draft_id)
            if draft is None or draft.chat_id != chat_id or draft.expires_at <= now:
                raise DraftNotFoundError(f"draft {draft_id} is not open in chat {chat_id}")
            await drafts.set_payload_value(session, draft_id, EDITING, user_id)

    async def awaiting_correction(self, chat_id: int, user_id: int) -> str | None:
        """The id of the draft whose Edit this user pressed last in this chat, if still open."""
        now = self._clock.now()
        async with self._sessions() as session:
            # Any card of the chat: a group admin may correct someone else's request.
            found = await drafts.list_open_in_chat(session, chat_id=chat_id, now=now)
        editing = [draft for draft in found if draft.payload.get(EDITING) == user_id]
        return editing[-1].id if editing else None
