"""The Mini App's words in the person's language.

app.js marks every text it shows with `_("…")` (named placeholders as `{name}`, filled in the
browser); `pybabel extract` puts them into the bot's catalogs with the bot's own messages
(bot/locale/babel.cfg), where they are translated like any other. This module answers, for one
language, each of those texts and each tool's label with its translation. The catalogs are the
bot's: the composition root hands in how to read them (`Translate`), so web/ keeps none of its
own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract

from core.languages import ENGLISH, supported_language

# (language, English text) → the text in that language, placeholders left as they are.
Translate = Callable[[str, str], str]

MINIAPP_SCRIPT = Path(__file__).resolve().parent / "miniapp" / "app.js"


@functools.cache
def miniapp_messages(script: Path = MINIAPP_SCRIPT) -> tuple[str, ...]:
    """The texts app.js marks with `_(…)`, read as pybabel reads them."""
    with script.open("rb") as source:
        found = {
            message
            for _, message, _, _ in extract("javascript", source, keywords=DEFAULT_KEYWORDS)
            if isinstance(message, str) and message
        }
    return tuple(sorted(found))


class MiniAppTexts:
    def __init__(self, translate: Translate, labels: Iterable[str] = ()) -> None:
        self._translate = translate
        # The tools' labels: catalog messages, or the names an operator gave (kept as given).
        self._labels = tuple(labels)
        self._cache: dict[str, dict[str, str]] = {}

    def of(self, language: str | None) -> tuple[str, dict[str, str]]:
        """The language spoken (English unless the catalogs have `language`) and every text
        in it."""
        spoken = supported_language(language) or ENGLISH
        if spoken not in self._cache:
            self._cache[spoken] = {
                text: self._translate(spoken, text) for text in (*miniapp_messages(), *self._labels)
            }
        return spoken, self._cache[spoken]
