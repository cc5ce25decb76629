"""/token: an API token for /api/v1, in a private chat only; `/token revoke` withdraws it."""

from __future__ import annotations

from html import escape

from telegram import Chat, Update

from bot.context import Context, services
from bot.handlers.common import current_chat, reply, words


async def token_command(update: Update, context: Context) -> None:
    chat_info = update.effective_chat
    user = update.effective_user
    assert chat_info is not None and user is not None
    chat = await current_chat(update, context)
    _ = words(update, chat)
    if chat_info.type != Chat.PRIVATE:
        await reply(
            update, _("API tokens are handed out in a private chat only. Write /token to me there.")
        )
        return
    tokens = services(context).tokens
    argument = context.args[0].lower() if context.args else ""
    if argument == "revoke":
        if await tokens.revoke(user.id):
            await reply(
                update,
                _("Your API token was revoked; requests that use it are refused from now on."),
            )
        else:
            await reply(update, _("You have no API token to revoke. /token makes one."))
    elif argument:
        await reply(
            update, _("Usage: /token for a new API token, or /token revoke to withdraw yours.")
        )
    else:
        token = await tokens.issue(user.id)
        await reply(
            update,
            _(
                "🔑 Your API token, shown only this once (it replaces any token you had):\n\n"
                "<code>{token}</code>\n\n"
                "Send it as <code>Authorization: Bearer …</code> to <code>/api/v1</code>. "
                "It acts as you, in every chat you may use; /token revoke withdraws it.",
                token=escape(token),
            ),
        )
