"""The ChatMembers port for application.access, answered by getChatMember."""

from __future__ import annotations

from telegram import Bot
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from application.access import MemberRole
from core.logs import get_logger

log = get_logger(__name__)

ROLES: dict[str, MemberRole] = {
    ChatMemberStatus.OWNER: MemberRole.OWNER,
    ChatMemberStatus.ADMINISTRATOR: MemberRole.ADMIN,
    ChatMemberStatus.MEMBER: MemberRole.MEMBER,
}


class TelegramMembers:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def role(self, chat_id: int, user_id: int) -> MemberRole | None:
        try:
            member = await self._bot.get_chat_member(chat_id, user_id)
        except TelegramError as error:
            log.info("member.unknown", chat_id=chat_id, user_id=user_id, reason=str(error))
            return None
        if member.status == ChatMemberStatus.RESTRICTED:
            # A restricted user may still be in the group (and so read its tasks).
            return MemberRole.MEMBER if getattr(member, "is_member", False) else MemberRole.OUTSIDER
        return ROLES.get(str(member.status), MemberRole.OUTSIDER)
