"""/token: an API token for /api/v1, in a private chat only; `/token revoke` withdraws it."""

from __future__ import annotations

from html import escape

from telegram import Update

from application.permissions import RefusedError
from bot import problems
from bot.context import Context, use_cases
from bot.handlers.common import actor, chat_translator, chat_zone, current_chat, reply


async def token_command(update: Update, context: Context) -> None:
    chat = await current_chat(update, context)
    _ = chat_translator(update, chat)
    tokens = use_cases(context).tokens
    argument = context.args[0].lower() if context.args else ""
    try:
        if argument == "revoke":
            if await tokens.revoke(actor(update)):
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
            token = await tokens.issue(actor(update))
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
    except RefusedError as error:
        # In a group: tokens are a person's own, handed out in their private chat.
        await reply(update, problems.reply(_, error, chat_zone(chat, context)))
