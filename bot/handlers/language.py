"""/language: which language the bot speaks in this chat."""

from __future__ import annotations

from html import escape

from telegram import Update

from application.languages import UnsupportedLanguageError
from application.permissions import RefusedError
from bot import problems
from bot.context import Context, use_cases
from bot.handlers.common import actor, chat_translator, chat_zone, current_chat, reply
from bot.i18n import Translator, language_names, translator
from storage.records import Chat

# What /language takes to drop the chat's choice and follow each person's app again.
AUTOMATIC = frozenset({"auto", "default", "reset"})


def _choices() -> str:
    return "\n".join(
        f"<code>/language {code}</code> {escape(name)}" for code, name in language_names().items()
    )


def _current(_: Translator, chat: Chat) -> str:
    name = escape(language_names()[_.language])
    if chat.language is None and chat.type == "private":
        about = _(
            "🌐 I speak <b>{language}</b> here, the language of your Telegram app.", language=name
        )
    else:
        about = _("🌐 This chat speaks <b>{language}</b>.", language=name)
    return _(
        "{about}\nChoose another one:\n{choices}\n"
        "<code>/language auto</code> follows the language of each person's Telegram app "
        "(English in groups).",
        about=about,
        choices=_choices(),
    )


async def language_command(update: Update, context: Context) -> None:
    chat = await current_chat(update, context)
    _ = chat_translator(update, chat)
    if not context.args:
        await reply(update, _current(_, chat))
        return
    wanted = context.args[0].strip().lower()
    try:
        language = await use_cases(context).languages.set_language(
            actor(update), chat.id, None if wanted in AUTOMATIC else wanted
        )
    except RefusedError as error:
        await reply(update, problems.reply(_, error, chat_zone(chat, context)))
        return
    except UnsupportedLanguageError as error:
        await reply(
            update,
            _(
                "❌ I don't speak “{code}”. Choose one of these:\n{choices}",
                code=escape(error.code),
                choices=_choices(),
            ),
        )
        return
    if language is None:
        chat = await current_chat(update, context)
        _ = chat_translator(update, chat)
        await reply(
            update,
            _("🌐 Done: I follow the language of your Telegram app again.")
            if chat.type == "private"
            else _("🌐 Done: I speak English in this chat again."),
        )
        return
    _ = translator(language)
    await reply(
        update,
        _(
            "🌐 Done: from now on I speak {language} in this chat.",
            language=language_names()[language],
        ),
    )
