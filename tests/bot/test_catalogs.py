"""The catalogs are complete: every message of the code is in messages.pot, and every language
translates every message with the same placeholders and the same HTML tags as the English."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from string import Formatter

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALE_DIR, catalog_path, translator
from core.languages import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
# The same keywords as the pybabel command in bot/locale/babel.cfg: `_.plural(one, many, n)`.
KEYWORDS = {**DEFAULT_KEYWORDS, "plural": (1, 2)}
SOURCES = ("bot", "application", "scheduler", "core")
TAG = re.compile(r"</?[a-z]+[^>]*>")


def _read(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=language)


def _ids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {
        message.id if isinstance(message.id, str) else tuple(message.id)
        for message in catalog
        if message.id
    }


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


def _forms(message: Message) -> list[str]:
    return [message.string] if isinstance(message.string, str) else list(message.string)


def _english(message: Message) -> list[str]:
    return [message.id] if isinstance(message.id, str) else list(message.id)


def test_the_template_holds_exactly_the_messages_in_the_code() -> None:
    extracted: set[str | tuple[str, ...]] = set()
    # The bot's own messages, and the reasons marked with `N_` below it (errors, failed runs).
    for package in SOURCES:
        for _, _, message, _, _ in extract_from_dir(
            str(ROOT / package), method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            extracted.add(message if isinstance(message, str) else tuple(message))
    # The Mini App's texts (web/texts.py serves them in the person's language).
    for _, _, message, _, _ in extract_from_dir(
        str(ROOT / "web" / "miniapp"), method_map=[("**.js", "javascript")], keywords=KEYWORDS
    ):
        extracted.add(message if isinstance(message, str) else tuple(message))
    template = _ids(_read(LOCALE_DIR / "messages.pot"))
    assert extracted - template == set(), "run pybabel extract (see README, Translations)"
    assert template - extracted == set(), "messages.pot has messages the code no longer uses"


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_language_translates_every_message_alike(language: str) -> None:
    template = _ids(_read(LOCALE_DIR / "messages.pot"))
    catalog = _read(catalog_path(language), language)
    assert _ids(catalog) == template, "run pybabel update (see README, Translations)"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        english = _english(message)
        forms = _forms(message)
        if message.fuzzy or not all(forms):
            problems.append(f"untranslated: {english[0]!r}")
            continue
        if not isinstance(message.id, str) and len(forms) != catalog.num_plurals:
            problems.append(f"{len(forms)} plural forms, not {catalog.num_plurals}: {english[0]!r}")
        for form in forms:
            try:
                names = _placeholders(form)
            except ValueError as error:
                problems.append(f"broken braces ({error}): {form!r}")
                continue
            # A plural form may leave out {count} ("one task"), never add or rename a name.
            expected = set().union(*map(_placeholders, english))
            if names - expected or (expected - {"count"}) - names:
                problems.append(f"placeholders {sorted(names)} ≠ {sorted(expected)}: {form!r}")
            if Counter(TAG.findall(form)) != Counter(TAG.findall(english[-1])):
                problems.append(f"HTML tags differ from the English: {form!r}")
    assert problems == []


def test_messages_come_out_in_the_language_with_their_values_filled_in() -> None:
    english = translator("en")("🌐 This chat speaks <b>{language}</b>.", language="X")
    russian = translator("ru")("🌐 This chat speaks <b>{language}</b>.", language="X")
    assert english == "🌐 This chat speaks <b>X</b>."
    assert "X" in russian
    assert russian != english
    assert translator("pt-BR").language == "pt"
    assert translator("ja").language == "en"
