"""The languages cronpilot speaks, and how a chat's language is chosen.

A chat's own setting (`/language xx`) wins; else, in a private chat, the Telegram user's
`language_code`; else English. Codes are matched loosely: `pt-BR` and `pt_br` mean Portuguese,
and a language we do not speak falls back to English.
"""

from __future__ import annotations

ENGLISH = "en"

# Code → the language's own name (what /language shows) and its English name (what the task
# model is told).
LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("English", "English"),
    "ru": ("Русский", "Russian"),
    "de": ("Deutsch", "German"),
    "es": ("Español", "Spanish"),
    "fr": ("Français", "French"),
    "pt": ("Português", "Portuguese"),
}


def supported_language(code: str | None) -> str | None:
    """The supported language a code names (`pt-br` → `pt`), or None."""
    if not code:
        return None
    primary = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def chat_language(setting: str | None, user_language: str | None) -> str:
    """The language to speak: the chat's setting, else its user's language, else English."""
    return supported_language(setting) or supported_language(user_language) or ENGLISH


def english_name(code: str) -> str:
    return LANGUAGES.get(code, LANGUAGES[ENGLISH])[1]
