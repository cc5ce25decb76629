"""Every text the bot writes, in the chat's language.

Messages live in gettext catalogs under bot/locale/ (`messages.pot`, one `messages.po` per
language), managed with Babel: `pybabel extract` finds them in bot/ (see README, "Translations").
The .po files are read directly when a language is first used, so there is no compile step and
no compiled file that can go stale.

A `Translator` is passed to whatever renders text, conventionally named `_`:

    _("Task #{number} is paused.", number=task.id)
    _.plural("Cancelled {count} open request.", "Cancelled {count} open requests.", count)
    _.reason(run.reason)  # why a run ended, from its code and facts (core/reasons.py)

Messages are whole sentences with named placeholders, filled with `str.format` after
translation (a literal brace is written twice). Dates go through Babel in the same language.
"""

from __future__ import annotations

import functools
import gettext
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from core.languages import ENGLISH, LANGUAGES, chat_language, supported_language
from core.reasons import Reason
from storage.records import Chat

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
# "Tue 01 Dec 2026 09:00": weekday, day, month, year and time, with the names in the language.
DATE_PATTERN = "EEE dd MMM y HH:mm"


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def _translations(language: str) -> gettext.GNUTranslations:
    with catalog_path(language).open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@dataclass(frozen=True, slots=True)
class Translator:
    """The bot's words in one language."""

    language: str

    def __call__(self, message: str, /, **values: object) -> str:
        return _translations(self.language).gettext(message).format(**values)

    def text(self, message: str, /) -> str:
        """The message in this language, its placeholders left for the caller to fill (the
        Mini App fills them in the browser)."""
        return _translations(self.language).gettext(message)

    def plural(self, singular: str, plural: str, count: int, /, **values: object) -> str:
        """A message whose wording depends on a number, given to the text as `{count}`."""
        text = _translations(self.language).ngettext(singular, plural, count)
        return text.format(count=count, **values)

    def reason(self, reason: Reason) -> str:
        """Why something ended (plain text): the reason's sentence, its facts filled in, a
        reason inside it said the same way."""
        return self(reason.sentence, **reason.placeholders(self.reason))

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.language)

    def instant(self, moment: datetime, zone: ZoneInfo) -> str:
        """An instant as people read it in `zone`: "Tue 01 Dec 2026 09:00 CET"."""
        local = moment.astimezone(zone)
        return f"{format_datetime(local, DATE_PATTERN, locale=self.locale)} {local.tzname()}"


@functools.cache
def translator(language: str) -> Translator:
    return Translator(supported_language(language) or ENGLISH)


def translator_for(chat: Chat, telegram_language: str | None = None) -> Translator:
    """The chat's language: its /language setting, else (in a private chat) the language of
    the person's Telegram app, as given with this update or as last seen, else English."""
    user_language = None
    if chat.type == "private":
        user_language = telegram_language or chat.user_language
    return translator(chat_language(chat.language, user_language))


def N_(message: str) -> str:
    """Marks a message for the catalogs where it is defined; `_(message)` translates it later."""
    return message


def language_names() -> dict[str, str]:
    return {code: own_name for code, (own_name, _) in LANGUAGES.items()}
