"""Edit on a card: the person's next request replaces that card, whether or not it is sent as
a reply to the bot's prompt, so a request never has two live cards."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.access import Access
from application.drafts import checked_draft
from application.errors import DraftNotFoundError
from application.permissions import Action, Actor
from scheduler.clock import Clock
from storage import drafts

# The payload key that marks a draft whose correction is awaited.
EDITING = "editing"


class DraftEdits:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, access: Access
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._access = access

    async def start(self, actor: Actor, draft_id: str) -> None:
        """Edit was pressed: this user's next request in this chat replaces the draft.

        Raises DraftNotFoundError when the draft is no longer open in this chat."""
        found = await checked_draft(
            self._sessions, self._access, actor, Action.CORRECT_DRAFT, draft_id
        )
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            draft = await drafts.get(session, draft_id)
            if draft is None or draft.chat_id != found.chat_id or draft.expires_at <= now:
                raise DraftNotFoundError(draft_id)
            await drafts.set_payload_value(session, draft_id, EDITING, actor.user_id)

    async def awaiting_correction(self, actor: Actor, chat_id: int) -> str | None:
        """The id of the draft whose Edit this user pressed last in this chat, if still open."""
        await self._access.require(actor, Action.SHOW_DRAFT, chat_id)
        now = self._clock.now()
        async with self._sessions() as session:
            # Any card of the chat: a group admin may correct someone else's request.
            found = await drafts.list_open_in_chat(session, chat_id=chat_id, now=now)
        editing = [draft for draft in found if draft.payload.get(EDITING) == actor.user_id]
        return editing[-1].id if editing else None
