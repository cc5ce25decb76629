"""The TargetChats port for application.targets, answered by Telegram: getChat finds a chat by
@username or id, getChatMember says who administers it and whether the bot may post there."""

from __future__ import annotations

from telegram import Bot, ChatMemberAdministrator
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from application.access import MemberRole
from application.targets import FoundChat
from bot.members import TelegramMembers
from core.logs import get_logger

log = get_logger(__name__)


class TelegramTargetChats:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot
        self._members = TelegramMembers(bot)

    async def find(self, reference: str) -> FoundChat | None:
        chat_id: int | str = int(reference) if reference.lstrip("-").isdigit() else reference
        try:
            chat = await self._bot.get_chat(chat_id)
        except TelegramError as error:
            log.info("target.unknown_chat", reason=str(error))
            return None
        label = f"@{chat.username}" if chat.username else (chat.title or str(chat.id))
        return FoundChat(chat.id, str(chat.type), label)

    async def role(self, chat_id: int, user_id: int) -> MemberRole | None:
        return await self._members.role(chat_id, user_id)

    async def bot_can_post(self, chat: FoundChat) -> bool:
        try:
            member = await self._bot.get_chat_member(chat.id, self._bot.id)
        except TelegramError as error:
            log.info("target.bot_membership_unknown", chat_id=chat.id, reason=str(error))
            return False
        if chat.type == ChatType.CHANNEL:
            return isinstance(member, ChatMemberAdministrator) and member.can_post_messages is True
        return member.status in {
            ChatMemberStatus.ADMINISTRATOR,
            ChatMemberStatus.MEMBER,
            ChatMemberStatus.OWNER,
        }
