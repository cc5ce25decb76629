"""/token: an API token for /api/v1, in a private chat only; `/token revoke` withdraws it."""

from __future__ import annotations

from html import escape

from telegram import Chat, Update

from bot.context import Context, services
from bot.handlers.common import reply

PRIVATE_ONLY = "API tokens are handed out in a private chat only. Write /token to me directly."
ISSUED = (
    "🔑 Your API token (shown only this once; it replaces any token you had):\n\n"
    "<code>{token}</code>\n\n"
    "Send it as <code>Authorization: Bearer …</code> to the API at <code>/api/v1</code>. "
    "It acts as you, in every chat you may use. /token revoke withdraws it."
)
REVOKED = "Your API token was revoked; requests that use it are refused from now on."
NOTHING_TO_REVOKE = "You have no API token to revoke. /token makes one."
USAGE = "Usage: /token for a new API token, or /token revoke to withdraw yours."


async def token_command(update: Update, context: Context) -> None:
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None and user is not None
    if chat.type != Chat.PRIVATE:
        await reply(update, PRIVATE_ONLY)
        return
    tokens = services(context).tokens
    argument = (context.args or [""])[0].lower() if context.args else ""
    if argument == "revoke":
        await reply(update, REVOKED if await tokens.revoke(user.id) else NOTHING_TO_REVOKE)
    elif argument:
        await reply(update, USAGE)
    else:
        token = await tokens.issue(user.id)
        await reply(update, ISSUED.format(token=escape(token)))
