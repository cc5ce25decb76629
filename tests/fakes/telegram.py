"""A fake Telegram Bot API server for end-to-end tests.

The bot under test runs the real python-telegram-bot client against this server over HTTP on
127.0.0.1 (``ApplicationBuilder().token(fake.token).base_url(fake.base_url)``), so requests and
answers go through PTB's real serialisation. The server keeps what a chat would show (the bot's
messages after edits, answered callback queries, chat actions, the command menu, the webhook) and
answers misuse the way Telegram does: bad HTML or MarkdownV2, messages over 4096 characters,
oversized callback data, edits that change nothing, unknown chats, blocked users and flood limits
all come back as Telegram's errors, with Telegram's wording.

Tests act as users through :class:`FakeTelegram`::

    async with FakeTelegram(bot_username="cronpilot_test_bot") as fake:
        alice = fake.user(id=111, first_name="Alice")
        dm = fake.private_chat(alice)
        ...  # start the bot with base_url=fake.base_url
        await fake.send_text(dm, alice, "/start")
        card = await fake.wait_for_message(dm, lambda m: m.has_button("Confirm"))
        await fake.press(dm, alice, card, "Confirm")

The module is laid out in sections: formatted text (parse modes → plain text + entities), reply
markup, rate limiting, chat state, request parameters, and the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import string
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NamedTuple, Protocol, Self, TypeVar

from aiohttp import ClientError, ClientSession, ClientTimeout, web

JSONObject = dict[str, Any]
_T = TypeVar("_T")

DEFAULT_TOKEN = "123456789:AAFakeTokenForCronpilotEndToEndTests"
MAX_MESSAGE_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_INLINE_BUTTONS = 100
MAX_COMMANDS = 100

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
POLLING_WHILE_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)
POLLING_TERMINATED = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Update kinds Telegram only sends when asked for them explicitly in allowed_updates.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class ApiError(Exception):
    """An error answer of the Bot API; the HTTP status equals ``error_code``."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> JSONObject:
        payload: JSONObject = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            payload["parameters"] = {"retry_after": self.retry_after}
        return payload


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    return ApiError(403, f"Forbidden: {reason}")


# ---------------------------------------------------------------------------------------------
# Formatted text: HTML, MarkdownV2 and legacy Markdown → plain text + entities.
# The parsers follow tdlib's (td/telegram/MessageEntity.cpp), which is what the Bot API runs, so
# the error texts and byte offsets are Telegram's.
# ---------------------------------------------------------------------------------------------


class EntityParseError(Exception):
    """A parse_mode text Telegram refuses; the server answers "can't parse entities: <this>"."""


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's offsets and length limits."""
    return len(text.encode("utf-16-le")) // 2


def _units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def utf16_slice(text: str, offset: int, length: int) -> str:
    data = text.encode("utf-16-le")
    return data[2 * offset : 2 * (offset + length)].decode("utf-16-le", errors="replace")


@dataclass(frozen=True)
class Entity:
    """A MessageEntity; offsets and lengths count UTF-16 code units."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None

    def to_json(self) -> JSONObject:
        data: JSONObject = {"type": self.type, "offset": self.offset, "length": self.length}
        if self.url is not None:
            data["url"] = self.url
        if self.language is not None:
            data["language"] = self.language
        if self.custom_emoji_id is not None:
            data["custom_emoji_id"] = self.custom_emoji_id
        return data


@dataclass(frozen=True)
class FormattedText:
    text: str
    entities: tuple[Entity, ...] = ()


# tdlib orders entities by offset, then longer first, then by these priorities.
_ENTITY_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}


def _entity_order(entity: Entity) -> tuple[int, int, int]:
    return entity.offset, -entity.length, _ENTITY_PRIORITY.get(entity.type, 50)


def _sorted(entities: Iterable[Entity]) -> tuple[Entity, ...]:
    return tuple(sorted(entities, key=_entity_order))


# tdlib's is_space; it also matches the NUL that ends a C string, which _at() returns past the end.
_SPACE = " \t\r\n\v\f\0"
_URL_WITH_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://(.*)$", re.DOTALL)
_HOST_NAME = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9\-]{1,59})$"
)
_IPV4 = re.compile(r"^(?:\d{1,3}\.){3}\d{1,3}$")
_OTHER_LINK_SCHEMES = frozenset({"tg", "ton", "tonsite"})


def _split_url(url: str) -> tuple[str, str, str] | None:
    """(scheme, host, rest) of an http(s) URL or a bare domain; None when it has no valid host."""
    match = _URL_WITH_SCHEME.match(url)
    scheme, remainder = (match.group(1).lower(), match.group(2)) if match else ("http", url)
    authority = re.split(r"[/?#]", remainder, maxsplit=1)[0]
    rest = remainder[len(authority) :]
    host_port = authority.rpartition("@")[2]
    host, _, port = host_port.partition(":")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        return None
    if not (_HOST_NAME.match(host) or _IPV4.match(host)):
        return None
    return scheme, authority.lower(), rest


def link_problem(url: str) -> str | None:
    """Why Telegram refuses ``url`` as a link (its wording), or None when the link is fine."""
    match = _URL_WITH_SCHEME.match(url.strip())
    if match and match.group(1).lower() in _OTHER_LINK_SCHEMES:
        return None if match.group(2) else "Wrong URL"
    if match and match.group(1).lower() not in {"http", "https"}:
        return "Unsupported URL protocol"
    return None if _split_url(url.strip()) else "Wrong HTTP URL"


def checked_link(url: str) -> str | None:
    """The link as Telegram stores it (scheme added, empty path → "/"), or None if refused."""
    url = url.strip()
    if link_problem(url) is not None:
        return None
    match = _URL_WITH_SCHEME.match(url)
    if match and match.group(1).lower() in _OTHER_LINK_SCHEMES:
        return url
    parts = _split_url(url)
    if parts is None:
        return None
    scheme, authority, rest = parts
    if not rest.startswith("/"):
        rest = "/" + rest
    return f"{scheme}://{authority}{rest}"


def _html_entity_at(source: str, pos: int) -> tuple[str, int] | None:
    """Decode the character reference starting at ``source[pos] == "&"`` like tdlib does.

    Returns the character and the position after the reference, or None when no reference of
    Telegram's set (``&lt; &gt; &amp; &quot;``, ``&#NN;``, ``&#xNN;``) starts here.
    """
    end = pos + 1
    size = len(source)
    if source[end : end + 1] == "#":
        end += 1
        hexadecimal = source[end : end + 1] == "x"
        if hexadecimal:
            end += 1
        digits = string.hexdigits if hexadecimal else string.digits
        start = end
        while end < size and source[end] in digits:
            end += 1
        code = int(source[start:end], 16 if hexadecimal else 10) if end > start else 0
        if code == 0 or code >= 0x10FFFF or end - pos >= 10 or 0xD800 <= code <= 0xDFFF:
            return None
        char = chr(code)
    else:
        while end < size and source[end].isascii() and source[end].isalpha():
            end += 1
        named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(source[pos + 1 : end])
        if named is None:
            return None
        char = named
    if end < size and source[end] == ";":
        end += 1
    return char, end


@dataclass
class _OpenTag:
    name: str
    argument: str
    offset: int  # UTF-16 offset in the output where the tag opened
    start: int  # index into the output characters


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_HTML_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}


class _HtmlParser:
    """Telegram's HTML: its tags only, properly nested, its four named character references."""

    def __init__(self, source: str, *, strict_ampersand: bool) -> None:
        self.source = source
        self.strict_ampersand = strict_ampersand
        self.out: list[str] = []
        self.offset = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[Entity] = []

    def _at(self, pos: int) -> str:
        return self.source[pos] if pos < len(self.source) else "\0"

    def _byte_offset(self, pos: int) -> int:
        return len(self.source[:pos].encode("utf-8"))

    def _emit(self, char: str) -> None:
        self.out.append(char)
        self.offset += _units(char)

    def parse(self) -> FormattedText:
        pos = 0
        while pos < len(self.source):
            char = self.source[pos]
            if char == "&":
                decoded = _html_entity_at(self.source, pos)
                if decoded is not None:
                    self._emit(decoded[0])
                    pos = decoded[1]
                    continue
                if self.strict_ampersand:
                    # Stricter than Telegram, which keeps such an '&' literally: an unescaped '&'
                    # is a rendering bug waiting for text like "&lt;" to turn into "<".
                    raise EntityParseError(
                        f"Character '&' at byte offset {self._byte_offset(pos)} must be "
                        "escaped as '&amp;'"
                    )
            if char != "<":
                self._emit(char)
                pos += 1
            elif self._at(pos + 1) == "/":
                pos = self._end_tag(pos)
            else:
                pos = self._start_tag(pos)
        if self.stack:
            raise EntityParseError(
                f"Can't find end tag corresponding to start tag {self.stack[-1].name}"
            )
        entities = [
            replace(entity, language=None) if entity.type == "code" else entity
            for entity in self.entities
        ]
        return FormattedText("".join(self.out), _sorted(entities))

    def _start_tag(self, begin: int) -> int:
        source, at, offset_of = self.source, self._at, self._byte_offset
        pos = begin + 1
        while at(pos) not in _SPACE and at(pos) != ">":
            pos += 1
        if pos >= len(source):
            raise EntityParseError(f"Unclosed start tag at byte offset {offset_of(begin)}")
        name = source[begin + 1 : pos].lower()
        if name not in _HTML_TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{name}" at byte offset {offset_of(begin)}'
            )
        argument = ""
        while at(pos) != ">":
            while pos < len(source) and at(pos) in _SPACE:
                pos += 1
            if at(pos) == ">":
                break
            attribute_begin = pos
            while at(pos) not in _SPACE and at(pos) not in "=>":
                pos += 1
            attribute = source[attribute_begin:pos]
            if not attribute:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {offset_of(begin)}'
                )
            while pos < len(source) and at(pos) in _SPACE:
                pos += 1
            if at(pos) != "=":
                if name == "blockquote" and attribute == "expandable":
                    argument = "expandable"
                    continue
                raise EntityParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{name}" at byte offset {offset_of(begin)}'
                )
            pos += 1
            while pos < len(source) and at(pos) in _SPACE:
                pos += 1
            if pos >= len(source):
                raise EntityParseError(
                    f'Unclosed start tag "{name}" at byte offset {offset_of(begin)}'
                )
            value, pos = self._attribute_value(pos)
            if pos >= len(source):
                raise EntityParseError(f"Unclosed start tag at byte offset {offset_of(begin)}")
            argument = _tag_argument(name, attribute, value) or argument
        if name == "span" and argument != "spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {offset_of(begin)}'
            )
        self.stack.append(_OpenTag(name, argument, self.offset, len(self.out)))
        return pos + 1

    def _attribute_value(self, pos: int) -> tuple[str, int]:
        source, at = self.source, self._at
        quote = at(pos)
        if quote not in "'\"":
            # A name token: letters, digits, periods and hyphens, not case-sensitive.
            token_begin = pos
            while at(pos).isascii() and (at(pos).isalnum() or at(pos) in ".-"):
                pos += 1
            if at(pos) not in _SPACE and at(pos) != ">":
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {self._byte_offset(token_begin)}"
                )
            return source[token_begin:pos].lower(), pos
        pos += 1
        chars: list[str] = []
        while pos < len(source) and source[pos] != quote:
            decoded = _html_entity_at(source, pos) if source[pos] == "&" else None
            if decoded is not None:
                chars.append(decoded[0])
                pos = decoded[1]
            else:
                chars.append(source[pos])
                pos += 1
        if pos < len(source):
            pos += 1
        return "".join(chars), pos

    def _end_tag(self, begin: int) -> int:
        at, offset_of = self._at, self._byte_offset
        if not self.stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {offset_of(begin)}")
        pos = begin + 1
        while at(pos) not in _SPACE and at(pos) != ">":
            pos += 1
        end_name = self.source[begin + 2 : pos].lower()
        while pos < len(self.source) and at(pos) in _SPACE:
            pos += 1
        if at(pos) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {offset_of(begin)}")
        tag = self.stack[-1]
        if end_name and end_name != tag.name:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {offset_of(begin)}, expected "</{tag.name}>", '
                f'found "</{end_name}>"'
            )
        self._close(tag)
        self.stack.pop()
        return pos + 1

    def _close(self, tag: _OpenTag) -> None:
        length = self.offset - tag.offset
        if length <= 0:
            return
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and (last.offset, last.length) == (tag.offset, length)
        if tag.name == "blockquote":
            kind = "expandable_blockquote" if tag.argument == "expandable" else "blockquote"
            self.entities.append(Entity(kind, tag.offset, length))
        elif tag.name in _HTML_SIMPLE:
            self.entities.append(Entity(_HTML_SIMPLE[tag.name], tag.offset, length))
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit() or int(tag.argument) == 0:
                raise EntityParseError("Invalid custom emoji identifier specified")
            self.entities.append(
                Entity("custom_emoji", tag.offset, length, custom_emoji_id=tag.argument)
            )
        elif tag.name == "a":
            url = checked_link(tag.argument or "".join(self.out[tag.start :]))
            if url is not None:  # Telegram silently drops links it does not accept
                self.entities.append(Entity("text_link", tag.offset, length, url=url))
        elif tag.name == "pre":
            if last is not None and same_span and last.type == "code" and last.language:
                self.entities[-1] = Entity("pre", tag.offset, length, language=last.language)
            else:
                self.entities.append(Entity("pre", tag.offset, length))
        elif last is not None and same_span and last.type == "pre" and tag.argument:
            self.entities[-1] = Entity("pre", tag.offset, length, language=tag.argument)
        else:  # code; a language outside <pre> is dropped at the end
            self.entities.append(Entity("code", tag.offset, length, language=tag.argument or None))


def _tag_argument(tag: str, attribute: str, value: str) -> str:
    if tag == "a" and attribute == "href":
        return value
    if tag == "code" and attribute == "class" and value.startswith("language-"):
        return value.removeprefix("language-")
    if tag == "span" and attribute == "class" and value.startswith("tg-"):
        return value.removeprefix("tg-")
    if tag == "tg-emoji" and attribute == "emoji-id":
        return value
    return ""


def parse_html(source: str, *, strict_ampersand: bool = True) -> FormattedText:
    """Parse ``parse_mode=HTML`` text; raises EntityParseError with Telegram's reason."""
    return _HtmlParser(source, strict_ampersand=strict_ampersand).parse()


_MARKDOWN_V2_RESERVED = "_*[]()~`>#+-=|{}.!\n"
# tdlib's names for entity types, used in "Can't find end of X entity" errors.
_MARKDOWN_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
}
_CUSTOM_EMOJI_URL = re.compile(r"^tg://emoji\?id=([0-9]+)$")


@dataclass
class _OpenMark:
    kind: str
    argument: str
    offset: int  # UTF-16 offset in the output
    byte_pos: int  # index into the source of the opening mark, for error messages
    start: int  # index into the output characters


def _reserved(char: str) -> EntityParseError:
    return EntityParseError(
        f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
    )


def _escapable(char: str) -> bool:
    return 0 < ord(char) <= 126


class _MarkdownV2Parser:
    """A port of tdlib's parse_markdown_v2."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.out: list[str] = []
        self.offset = 0
        self.stack: list[_OpenMark] = []
        self.entities: list[Entity] = []
        self.have_blockquote = False

    def _at(self, pos: int) -> str:
        return self.source[pos] if pos < len(self.source) else "\0"

    def _byte_offset(self, pos: int) -> int:
        return len(self.source[:pos].encode("utf-8"))

    def _unclosed(self, mark: _OpenMark) -> EntityParseError:
        return EntityParseError(
            f"Can't find end of {_MARKDOWN_NAMES[mark.kind]} entity at byte offset "
            f"{self._byte_offset(mark.byte_pos)}"
        )

    def parse(self) -> FormattedText:
        pos = 0
        while pos < len(self.source):
            char, following = self.source[pos], self._at(pos + 1)
            if char == "\\" and _escapable(following):
                self.out.append(following)
                self.offset += 1
                pos += 2
                continue
            in_code = bool(self.stack) and self.stack[-1].kind in {"code", "pre", "pre_code"}
            if char not in ("`" if in_code else _MARKDOWN_V2_RESERVED):
                self.out.append(char)
                self.offset += _units(char)
                pos += 1
                continue
            pos = self._close(pos) if self._closes(pos) else self._open(pos)
        if self.have_blockquote and self.stack and self.stack[-1].kind == "blockquote":
            mark = self.stack.pop()
            if self.offset > mark.offset:
                self.entities.append(Entity("blockquote", mark.offset, self.offset - mark.offset))
        if self.stack:
            raise self._unclosed(self.stack[-1])
        return FormattedText("".join(self.out), _sorted(self.entities))

    def _closes(self, pos: int) -> bool:
        if not self.stack:
            return False
        char, following, third = self.source[pos], self._at(pos + 1), self._at(pos + 2)
        if self.have_blockquote and char == "\n" and following != ">":
            return True
        return {
            "bold": char == "*",
            "italic": char == "_" and following != "_",
            "code": char == "`",
            "pre": char == "`" and following == "`" and third == "`",
            "pre_code": char == "`" and following == "`" and third == "`",
            "text_link": char == "]",
            "custom_emoji": char == "]",
            "underline": char == "_" and following == "_",
            "strikethrough": char == "~",
            "spoiler": char == "|" and following == "|",
            "blockquote": False,
        }[self.stack[-1].kind]

    def _open(self, pos: int) -> int:
        char, following = self.source[pos], self._at(pos + 1)
        byte_pos = pos
        argument = ""
        kind: str | None
        if char == "_":
            kind = "underline" if following == "_" else "italic"
            pos += 1 if following == "_" else 0
        elif char in "*~[":
            kind = {"*": "bold", "~": "strikethrough", "[": "text_link"}[char]
        elif char == "|" and following == "|":
            kind = "spoiler"
            pos += 1
        elif char == "!" and following == "[":
            kind = "custom_emoji"
            pos += 1
        elif char == "`" and following == "`" and self._at(pos + 2) == "`":
            kind, argument, pos = self._open_pre(pos + 3)
        elif char == "`":
            kind = "code"
        elif char == "\n":
            self.out.append("\n")
            self.offset += 1
            kind = None
            if following == ">":
                pos += 1
                if not self.have_blockquote:
                    kind = "blockquote"
                    self.have_blockquote = True
        elif char == ">" and pos == 0:
            kind = "blockquote"
            self.have_blockquote = True
        else:
            raise _reserved(char)
        if kind is not None:
            self.stack.append(_OpenMark(kind, argument, self.offset, byte_pos, len(self.out)))
        return pos + 1

    def _open_pre(self, pos: int) -> tuple[str, str, int]:
        """Kind, language and the position of the last character of the ``` opening."""
        at = self._at
        kind, language = "pre", ""
        language_end = pos
        while at(language_end) not in _SPACE and at(language_end) != "`":
            language_end += 1
        if pos != language_end and language_end < len(self.source) and at(language_end) != "`":
            kind, language, pos = "pre_code", self.source[pos:language_end], language_end
        if at(pos) in "\n\r":  # one line break right after the opening is not part of the text
            pos += 2 if at(pos + 1) in "\n\r" and at(pos) != at(pos + 1) else 1
        return kind, language, pos - 1

    def _link_target(self, pos: int, what: str) -> tuple[str, int]:
        """Read "(target)" whose "(" is at ``pos``; returns the target and the ")" position."""
        pos += 1
        target_begin = pos
        chars: list[str] = []
        while pos < len(self.source) and self.source[pos] != ")":
            if self.source[pos] == "\\" and _escapable(self._at(pos + 1)):
                chars.append(self.source[pos + 1])
                pos += 2
                continue
            chars.append(self.source[pos])
            pos += 1
        if self._at(pos) != ")":
            raise EntityParseError(
                f"Can't find end of {what} at byte offset {self._byte_offset(target_begin)}"
            )
        return "".join(chars), pos

    def _close(self, pos: int) -> int:
        char = self.source[pos]
        mark = self.stack[-1]
        if char == "\n" and mark.kind != "blockquote":
            raise self._unclosed(mark)
        skip = self.offset == mark.offset
        entity: Entity | None = None
        length = self.offset - mark.offset
        if mark.kind in {"underline", "spoiler"}:
            pos += 1
        elif mark.kind in {"pre", "pre_code"}:
            pos += 2
            entity = Entity("pre", mark.offset, length, language=mark.argument or None)
        elif mark.kind == "text_link":
            if self._at(pos + 1) == "(":
                url, pos = self._link_target(pos + 1, "a URL")
            else:
                url = "".join(self.out[mark.start :])
            checked = checked_link(url)
            skip = skip or checked is None
            entity = Entity("text_link", mark.offset, length, url=checked)
        elif mark.kind == "custom_emoji":
            if self._at(pos + 1) != "(":
                raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
            url, pos = self._link_target(pos + 1, "a custom emoji URL")
            match = _CUSTOM_EMOJI_URL.match(url)
            if match is None or int(match.group(1)) == 0:
                raise EntityParseError("Invalid custom emoji identifier specified")
            entity = Entity("custom_emoji", mark.offset, length, custom_emoji_id=match.group(1))
        elif mark.kind == "blockquote":
            self.have_blockquote = False
            self.out.append("\n")
            self.offset += 1
            length += 1
        if not skip:
            self.entities.append(entity or Entity(mark.kind, mark.offset, length))
        self.stack.pop()
        return pos + 1


def parse_markdown_v2(source: str) -> FormattedText:
    """Parse ``parse_mode=MarkdownV2`` text; raises EntityParseError with Telegram's reason."""
    return _MarkdownV2Parser(source).parse()


def parse_markdown(source: str) -> FormattedText:
    """Parse legacy ``parse_mode=Markdown`` (a port of tdlib's lenient parse_markdown)."""
    size = len(source)

    def at(pos: int) -> str:
        return source[pos] if pos < size else "\0"

    out: list[str] = []
    offset = 0
    entities: list[Entity] = []
    pos = 0
    while pos < size:
        char = source[pos]
        if char == "\\" and at(pos + 1) in "_*`[":
            out.append(source[pos + 1])
            offset += 1
            pos += 2
            continue
        if char not in "_*`[":
            out.append(char)
            offset += _units(char)
            pos += 1
            continue
        begin = pos
        end_char = "]" if char == "[" else char
        pos += 1
        language = ""
        is_pre = char == "`" and at(pos) == "`" and at(pos + 1) == "`"
        if is_pre:
            pos += 2
            language_end = pos
            while at(language_end) not in _SPACE and at(language_end) != "`":
                language_end += 1
            if pos != language_end and language_end < size and at(language_end) != "`":
                language, pos = source[pos:language_end], language_end
            if at(pos) in "\n\r":
                pos += 2 if at(pos + 1) in "\n\r" and at(pos) != at(pos + 1) else 1
        entity_offset, start = offset, len(out)
        while pos < size and (
            source[pos] != end_char or (is_pre and not (at(pos + 1) == "`" and at(pos + 2) == "`"))
        ):
            out.append(source[pos])
            offset += _units(source[pos])
            pos += 1
        if pos >= size:
            raise EntityParseError(
                "Can't find end of the entity starting at byte offset "
                f"{len(source[:begin].encode('utf-8'))}"
            )
        length = offset - entity_offset
        if char == "[" and length:
            url = "".join(out[start:])
            if at(pos + 1) == "(":
                target_begin = pos + 2
                closing = source.find(")", target_begin)
                if closing < 0:
                    raise EntityParseError(
                        "Can't find end of a URL at byte offset "
                        f"{len(source[:target_begin].encode('utf-8'))}"
                    )
                url, pos = source[target_begin:closing], closing
            checked = checked_link(url)
            if checked is not None:
                entities.append(Entity("text_link", entity_offset, length, url=checked))
        elif length:
            kind = {"_": "italic", "*": "bold"}.get(char, "pre" if is_pre else "code")
            entities.append(Entity(kind, entity_offset, length, language=language or None))
        pos += 3 if is_pre else 1
    return FormattedText("".join(out), _sorted(entities))


def explicit_entities(raw: object, text: str) -> tuple[Entity, ...]:
    """Entities given as the ``entities`` parameter instead of a parse_mode."""
    if not isinstance(raw, list):
        raise bad_request("can't parse entities JSON object")
    text_length = utf16_length(text)
    entities: list[Entity] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise bad_request("can't parse MessageEntity JSON object")
        offset, length = item.get("offset"), item.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 0:
            raise bad_request("can't parse MessageEntity JSON object")
        if offset + length > text_length:
            raise bad_request(
                f"entity beginning at UTF-16 offset {offset} ends after the end of the text at "
                f"UTF-16 offset {offset + length}"
            )
        url = item.get("url")
        if item["type"] == "text_link":
            url = checked_link(url) if isinstance(url, str) else None
            if url is None:
                raise bad_request("entity URL is invalid")
        entities.append(
            Entity(
                item["type"],
                offset,
                length,
                url=url if isinstance(url, str) else None,
                language=item.get("language") if isinstance(item.get("language"), str) else None,
                custom_emoji_id=(
                    item.get("custom_emoji_id")
                    if isinstance(item.get("custom_emoji_id"), str)
                    else None
                ),
            )
        )
    return _sorted(entities)


# Entities whose data is not visible in the text are kept even over whitespace only.
_HIDDEN_DATA_ENTITIES = frozenset({"text_link", "text_mention", "custom_emoji"})
_BLANK_UNITS = (0x20, 0x0A)  # tdlib trims spaces and line breaks only


def finalize_text(text: str, entities: Iterable[Entity]) -> FormattedText | None:
    """Telegram's clean-up of a parsed text; None when nothing but whitespace is left.

    Entities lose leading whitespace and are dropped when they cover only whitespace; the text
    loses trailing spaces and line breaks, and leading ones up to the first entity.
    """
    data = text.encode("utf-16-le")
    units = [int.from_bytes(data[k : k + 2], "little") for k in range(0, len(data), 2)]

    def blank(index: int) -> bool:
        return units[index] in _BLANK_UNITS

    kept: list[Entity] = []
    for entity in entities:
        offset, length = entity.offset, entity.length
        if entity.type not in _HIDDEN_DATA_ENTITIES:
            while length > 0 and blank(offset):
                offset, length = offset + 1, length - 1
            if all(blank(index) for index in range(offset, offset + length)):
                continue
        if length > 0:
            kept.append(replace(entity, offset=offset, length=length))
    last = max((index for index in range(len(units)) if not blank(index)), default=-1)
    if last < 0:
        return None
    end = last + 1
    clipped = [
        replace(entity, length=min(entity.length, end - entity.offset))
        for entity in kept
        if entity.offset < end
    ]
    first_entity = min((entity.offset for entity in clipped), default=end)
    start = 0
    while start < first_entity and blank(start):
        start += 1
    trimmed = b"".join(unit.to_bytes(2, "little") for unit in units[start:end])
    return FormattedText(
        trimmed.decode("utf-16-le", errors="surrogatepass"),
        _sorted(replace(entity, offset=entity.offset - start) for entity in clipped),
    )


_BOT_COMMAND = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")
_MENTION = re.compile(r"(?<!\w)@[A-Za-z0-9_]{2,32}(?!\w)")
_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'}]")


def detect_entities(text: str) -> tuple[Entity, ...]:
    """The entities Telegram finds by itself in a user's plain text (commands, mentions, URLs)."""
    found: list[Entity] = []
    for pattern, kind in ((_BOT_COMMAND, "bot_command"), (_MENTION, "mention"), (_URL, "url")):
        for match in pattern.finditer(text):
            offset = utf16_length(text[: match.start()])
            found.append(Entity(kind, offset, utf16_length(match.group())))
    return _sorted(found)


# ---------------------------------------------------------------------------------------------
# Reply markup
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FakeButton:
    """An inline keyboard button of a message the bot sent."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    # The Mini App a web_app button opens.
    web_app_url: str | None = None


_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
    "web_app",
)
_MARKUP_UNPARSABLE = "can't parse reply keyboard markup JSON object"


def validate_reply_markup(markup: object) -> JSONObject | None:
    """Check reply markup like Telegram; returns it normalised (None for an empty keyboard)."""
    if not isinstance(markup, dict):
        raise bad_request(_MARKUP_UNPARSABLE)
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
            raise bad_request("reply markup is too long")
        for row in rows:
            for button in row:
                _validate_inline_button(button)
        rows = [row for row in rows if row]
        return {"inline_keyboard": rows} if rows else None
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
        for row in rows:
            for button in row:
                label = button.get("text") if isinstance(button, dict) else button
                if not isinstance(label, str):
                    raise bad_request(
                        'can\'t parse keyboard button: Field "text" must be of type String'
                    )
        return markup
    if markup.get("force_reply") is True or markup.get("remove_keyboard") is True:
        return markup
    raise bad_request(_MARKUP_UNPARSABLE)


def _validate_inline_button(button: object) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    if not any(action in button for action in _BUTTON_ACTIONS):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        problem = link_problem(url) if isinstance(url, str) else "Wrong HTTP URL"
        if problem is not None:
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: {problem}")
    if "web_app" in button:
        web_app = button["web_app"]
        url = web_app.get("url") if isinstance(web_app, dict) else None
        if not isinstance(url, str) or not url.startswith("https://"):
            raise bad_request("BUTTON_URL_INVALID")


# ---------------------------------------------------------------------------------------------
# Rate limiting
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimits:
    """Flood limits; the defaults are Telegram's documented ones.

    One message per second per chat with a short burst, twenty per minute in a group, thirty per
    second over all chats. Only methods that send or edit messages count.
    """

    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    per_group_per_minute: int = 20
    global_per_second: int = 30
    enabled: bool = True

    @classmethod
    def unlimited(cls) -> RateLimits:
        return cls(enabled=False)


class _Limit(Protocol):
    def wait(self, now: float) -> float:
        """Seconds until one more message is allowed (0 when it is allowed now)."""

    def take(self, now: float) -> None:
        """Count one message."""


class _TokenBucket:
    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait(self, now: float) -> float:
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1


class _SlidingWindow:
    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self.sent: deque[float] = deque()

    def wait(self, now: float) -> float:
        while self.sent and self.sent[0] <= now - self.window:
            self.sent.popleft()
        return 0.0 if len(self.sent) < self.limit else self.sent[0] + self.window - now

    def take(self, now: float) -> None:
        self.sent.append(now)


class RateLimiter:
    def __init__(self, limits: RateLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self.clock = clock
        self._global = _SlidingWindow(limits.global_per_second, 1.0)
        self._chats: dict[int, _TokenBucket] = {}
        self._groups: dict[int, _SlidingWindow] = {}

    def acquire(self, chat_id: int, *, is_group: bool) -> int | None:
        """Count a message to ``chat_id``; None if allowed, else the seconds to retry after."""
        if not self.limits.enabled:
            return None
        now = self.clock()
        limits: list[_Limit] = [self._global, self._chat_bucket(chat_id, now)]
        if is_group:
            limits.append(self._groups.setdefault(chat_id, self._group_window()))
        wait = max(limit.wait(now) for limit in limits)
        if wait > 0:
            return max(1, math.ceil(wait))
        for limit in limits:
            limit.take(now)
        return None

    def _chat_bucket(self, chat_id: int, now: float) -> _TokenBucket:
        if chat_id not in self._chats:
            self._chats[chat_id] = _TokenBucket(
                self.limits.per_chat_per_second, self.limits.per_chat_burst, now
            )
        return self._chats[chat_id]

    def _group_window(self) -> _SlidingWindow:
        return _SlidingWindow(self.limits.per_group_per_minute, 60.0)


class ManualClock:
    """A clock that moves only when told to; pass it as ``FakeTelegram(clock=...)``."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go back")
        self.now += seconds


# ---------------------------------------------------------------------------------------------
# Chat state
# ---------------------------------------------------------------------------------------------

MemberStatus = Literal["creator", "administrator", "member", "left", "kicked"]
ChatType = Literal["private", "group", "supergroup"]


@dataclass(frozen=True)
class FakeUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_json(self) -> JSONObject:
        data: JSONObject = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        if self.language_code is not None:
            data["language_code"] = self.language_code
        return data


@dataclass(eq=False)
class FakeChat:
    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    bot_is_admin: bool = False
    # A private chat whose user blocked the bot, or a group the bot was removed from.
    bot_blocked: bool = False
    members: dict[int, MemberStatus] = field(default_factory=dict, repr=False)
    history: list[FakeMessage] = field(default_factory=list, init=False, repr=False)
    actions: list[str] = field(default_factory=list, init=False, repr=False)
    last_user_action: int = field(default=0, init=False, repr=False)
    _message_ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(1), init=False, repr=False
    )

    @property
    def is_group(self) -> bool:
        return self.type != "private"

    def next_message_id(self) -> int:
        return next(self._message_ids)

    def message(self, message_id: int) -> FakeMessage | None:
        for message in self.history:
            if message.message_id == message_id and not message.deleted:
                return message
        return None

    def to_json(self) -> JSONObject:
        data: JSONObject = {"id": self.id, "type": self.type}
        optional = {
            "title": self.title,
            "username": self.username,
            "first_name": self.first_name,
            "last_name": self.last_name,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        return data


@dataclass(eq=False)
class FakeMessage:
    """A message in a chat, in its current state (after edits)."""

    chat: FakeChat
    message_id: int
    sender: FakeUser
    date: int
    text: str = ""
    entities: tuple[Entity, ...] = ()
    reply_markup: JSONObject | None = None
    reply_to: FakeMessage | None = None
    location: tuple[float, float] | None = None
    edits: int = 0
    edit_date: int | None = None
    deleted: bool = False
    # The update that carried a user's message to the bot; None for the bot's own messages and
    # for group messages the bot does not see in privacy mode.
    update_id: int | None = None
    # Sequence number of the latest send or edit, for wait_for_message.
    last_event: int = 0

    def __repr__(self) -> str:
        return (
            f"FakeMessage(chat={self.chat.id}, message_id={self.message_id}, "
            f"from={self.sender.first_name!r}, text={self.text!r}, "
            f"buttons={self.button_labels!r}, edits={self.edits})"
        )

    @property
    def reply_to_message_id(self) -> int | None:
        return None if self.reply_to is None else self.reply_to.message_id

    @property
    def inline_keyboard(self) -> JSONObject | None:
        markup = self.reply_markup
        return markup if markup is not None and "inline_keyboard" in markup else None

    @property
    def button_rows(self) -> list[list[FakeButton]]:
        markup = self.inline_keyboard
        if markup is None:
            return []
        return [
            [
                FakeButton(
                    button["text"],
                    button.get("callback_data"),
                    button.get("url"),
                    (button.get("web_app") or {}).get("url"),
                )
                for button in row
            ]
            for row in markup["inline_keyboard"]
        ]

    @property
    def buttons(self) -> list[FakeButton]:
        return [button for row in self.button_rows for button in row]

    @property
    def button_labels(self) -> list[str]:
        return [button.text for button in self.buttons]

    def has_button(self, label: str) -> bool:
        """Whether an inline button's label contains ``label`` (labels may carry an emoji)."""
        return any(label in button.text for button in self.buttons)

    @property
    def force_reply(self) -> bool:
        return self.reply_markup is not None and self.reply_markup.get("force_reply") is True

    @property
    def keyboard(self) -> list[list[str]]:
        """Labels of a reply keyboard (the buttons shown instead of the phone keyboard)."""
        if self.reply_markup is None or "keyboard" not in self.reply_markup:
            return []
        return [
            [button["text"] if isinstance(button, dict) else button for button in row]
            for row in self.reply_markup["keyboard"]
        ]

    def entity_texts(self, entity_type: str) -> list[str]:
        """The parts of the text covered by entities of one type, e.g. ``"bold"``."""
        return [
            utf16_slice(self.text, entity.offset, entity.length)
            for entity in self.entities
            if entity.type == entity_type
        ]

    def to_json(self, *, include_reply: bool = True) -> JSONObject:
        data: JSONObject = {
            "message_id": self.message_id,
            "from": self.sender.to_json(),
            "chat": self.chat.to_json(),
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.location is not None:
            data["location"] = {"latitude": self.location[0], "longitude": self.location[1]}
        else:
            data["text"] = self.text
            if self.entities:
                data["entities"] = [entity.to_json() for entity in self.entities]
        if include_reply and self.reply_to is not None:
            data["reply_to_message"] = self.reply_to.to_json(include_reply=False)
        if self.inline_keyboard is not None:
            data["reply_markup"] = self.inline_keyboard
        return data


@dataclass(frozen=True)
class CallbackAnswer:
    query_id: str
    text: str | None
    show_alert: bool
    url: str | None


@dataclass(eq=False)
class FakeCallbackQuery:
    id: str
    user: FakeUser
    chat: FakeChat
    message: FakeMessage
    data: str
    update_id: int = 0
    answer: CallbackAnswer | None = None

    @property
    def answered(self) -> bool:
        return self.answer is not None


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None = None
    allowed_updates: tuple[str, ...] | None = None
    drop_pending_updates: bool = False
    max_connections: int = 40
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


class ApiCall(NamedTuple):
    """One request the bot made: the method as called and its parameters as received."""

    method: str
    params: dict[str, object]


class ApiErrorAnswer(NamedTuple):
    """An error the fake answered, with Telegram's full description."""

    method: str
    error_code: int
    description: str


@dataclass
class _PendingUpdate:
    update_id: int
    kind: str
    payload: JSONObject


# ---------------------------------------------------------------------------------------------
# Request parameters: form-encoded, multipart or JSON bodies, plus the query string
# ---------------------------------------------------------------------------------------------


class Params:
    """Parameters of one request; form values arrive as strings, complex ones JSON-encoded."""

    def __init__(self, values: Mapping[str, object]) -> None:
        self.values = dict(values)

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return json.dumps(value)

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return int(value)
        raise bad_request(f"invalid {name} specified")

    def number(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return float(value)
        raise bad_request(f"invalid {name} specified")

    def boolean(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in {"true", "1"}
        return bool(value)

    def json(self, name: str, error: str) -> object:
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        if not value:
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise bad_request(error) from None


async def read_params(request: web.Request) -> Params:
    values: dict[str, object] = dict(request.query)
    if not request.body_exists:
        return Params(values)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise bad_request("can't parse JSON encoded request body") from None
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON encoded request body")
        values.update(body)
    elif request.content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                values[key] = value.filename
            elif isinstance(value, bytes):
                values[key] = value.decode("utf-8", errors="replace")
            else:
                values[key] = value
    return Params(values)


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------

ApiMethod = Callable[[Params], Awaitable[object]]
MessagePredicate = Callable[[FakeMessage], bool]


def _bot_id(token: str) -> int:
    prefix = token.partition(":")[0]
    return int(prefix) if prefix.isdigit() else 1


def _member_json(status: MemberStatus, user: FakeUser) -> JSONObject:
    data: JSONObject = {"status": status, "user": user.to_json()}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        data.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=True,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=True,
            can_invite_users=True,
            can_post_stories=True,
            can_edit_stories=True,
            can_delete_stories=True,
            can_pin_messages=True,
            can_manage_topics=False,
        )
    elif status == "kicked":
        data["until_date"] = 0
    return data


def _button_word(label: str) -> str:
    """A button label without the emoji or punctuation around its words."""
    return re.sub(r"^\W+|\W+$", "", label)


class FakeTelegram:
    """A Bot API server on 127.0.0.1 plus the users and chats that talk to the bot.

    ``clock`` gives the current Unix time for message dates and the rate limiter; inject a
    :class:`ManualClock` to test flood limits without waiting. With ``privacy_mode`` (Telegram's
    default for bots) a group the bot does not administer only delivers commands, mentions of the
    bot and replies to the bot. ``strict_html_ampersand`` refuses an unescaped ``&`` in HTML text,
    which Telegram itself keeps literally.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "cronpilot_test_bot",
        bot_name: str = "cronpilot",
        rate_limits: RateLimits | None = None,
        clock: Callable[[], float] = time.time,
        privacy_mode: bool = True,
        strict_html_ampersand: bool = True,
        webhook_retry_delay: float = 0.05,
    ) -> None:
        self.token = token
        self.bot = FakeUser(_bot_id(token), bot_name, username=bot_username, is_bot=True)
        self.privacy_mode = privacy_mode
        self.strict_html_ampersand = strict_html_ampersand
        self.webhook_retry_delay = webhook_retry_delay
        self.calls: list[ApiCall] = []
        self.errors: list[ApiErrorAnswer] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.rate_limited_count = 0
        self.webhook: WebhookConfig | None = None
        self.logged_out = False
        self.closed = False
        self._clock = clock
        self._limiter = RateLimiter(rate_limits or RateLimits(), clock)
        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, FakeChat] = {}
        self._queries: dict[str, FakeCallbackQuery] = {}
        self._commands: dict[tuple[str, str], list[tuple[str, str]]] = {}
        # setChatMenuButton, by chat id (None: the default for every private chat).
        self.menu_buttons: dict[int | None, JSONObject] = {}
        self._pending: list[_PendingUpdate] = []
        self._allowed_updates: frozenset[str] | None = None
        self._update_ids = itertools.count(700_000_001)
        self._query_ids = itertools.count(1)
        self._events = 0
        self._poll_generation = 0
        self._change = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self._delivery: asyncio.Task[None] | None = None
        self._port: int | None = None
        self._faults: dict[str, list[tuple[ApiError, str | None]]] = {}
        self._methods: dict[str, ApiMethod] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "sendchataction": self._send_chat_action,
            "setmycommands": self._set_my_commands,
            "setchatmenubutton": self._set_chat_menu_button,
            "getchatmenubutton": self._get_chat_menu_button,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "getchatadministrators": self._get_chat_administrators,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "close": self._close,
            "logout": self._log_out,
        }

    @property
    def rate_limits(self) -> RateLimits:
        return self._limiter.limits

    @rate_limits.setter
    def rate_limits(self, limits: RateLimits) -> None:
        """Replace the flood limits; counting starts afresh."""
        self._limiter = RateLimiter(limits, self._clock)

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # A client that hangs up (PTB cancelling its long poll on stop) cancels its handler, so
        # an abandoned poll neither consumes nor reports anything.
        runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        self._session = ClientSession(timeout=ClientTimeout(total=10))
        self._closing = False

    async def stop(self) -> None:
        self._closing = True
        self._notify()  # long polls answer at once
        await self._stop_delivery()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """What PTB takes as ``base_url``: requests go to ``{base_url}{token}/{method}``."""
        if self._port is None:
            raise RuntimeError("the fake Telegram server is not started")
        return f"http://127.0.0.1:{self._port}/bot"

    # -- users and chats ------------------------------------------------------------------------

    def user(
        self,
        id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> FakeUser:
        user = FakeUser(id, first_name, last_name, username, language_code)
        known = self._users.get(id)
        if known is not None and known != user:
            raise ValueError(f"user {id} already exists as {known}")
        self._users[id] = user
        return user

    def private_chat(self, user: FakeUser) -> FakeChat:
        """The chat between ``user`` and the bot (its id is the user's); the user started it."""
        self._known_user(user)
        chat = self._chats.get(user.id)
        if chat is None:
            chat = FakeChat(
                user.id,
                "private",
                username=user.username,
                first_name=user.first_name,
                last_name=user.last_name,
            )
            self._chats[user.id] = chat
        return chat

    def group(
        self,
        id: int,
        title: str,
        *,
        owner: FakeUser | None = None,
        admins: Iterable[FakeUser] = (),
        members: Iterable[FakeUser] = (),
        username: str | None = None,
        supergroup: bool = True,
        bot_is_admin: bool = False,
    ) -> FakeChat:
        """A group the bot is in; ids of supergroups look like -100…."""
        if id in self._chats:
            raise ValueError(f"chat {id} already exists")
        chat = FakeChat(
            id,
            "supergroup" if supergroup else "group",
            title=title,
            username=username,
            bot_is_admin=bot_is_admin,
        )
        statuses: list[tuple[Iterable[FakeUser], MemberStatus]] = [
            ([owner] if owner is not None else [], "creator"),
            (admins, "administrator"),
            (members, "member"),
        ]
        for users, status in statuses:
            for user in users:
                chat.members[self._known_user(user).id] = status
        self._chats[id] = chat
        return chat

    def set_member_status(self, chat: FakeChat, user: FakeUser, status: MemberStatus) -> None:
        self._known_chat(chat).members[self._known_user(user).id] = status

    def block(self, chat: FakeChat) -> None:
        """The user blocks the bot (private chat) or the bot is removed from the group."""
        self._known_chat(chat).bot_blocked = True

    def unblock(self, chat: FakeChat) -> None:
        self._known_chat(chat).bot_blocked = False

    # -- acting as users ------------------------------------------------------------------------

    async def send_text(
        self,
        chat: FakeChat,
        user: FakeUser,
        text: str,
        *,
        reply_to: FakeMessage | None = None,
    ) -> FakeMessage:
        """``user`` writes ``text`` in ``chat``; commands, mentions and URLs get entities."""
        message = self._user_message(chat, user, reply_to)
        message.text = text
        message.entities = detect_entities(text)
        return self._deliver_user_message(message)

    async def send_location(
        self,
        chat: FakeChat,
        user: FakeUser,
        *,
        latitude: float,
        longitude: float,
        reply_to: FakeMessage | None = None,
    ) -> FakeMessage:
        message = self._user_message(chat, user, reply_to)
        message.location = (latitude, longitude)
        return self._deliver_user_message(message)

    async def press(
        self, chat: FakeChat, user: FakeUser, message: FakeMessage, label: str
    ) -> FakeCallbackQuery:
        """``user`` taps the inline button of ``message`` whose label is or contains ``label``."""
        button = self._find_button(message, label)
        if button.callback_data is None:
            raise AssertionError(f"button {button.text!r} of {message!r} sends no callback data")
        return await self.press_data(chat, user, message, button.callback_data)

    async def press_data(
        self, chat: FakeChat, user: FakeUser, message: FakeMessage, data: str
    ) -> FakeCallbackQuery:
        """A callback query with any data, as a forged or outdated client would send it."""
        self._known_chat(chat)
        self._known_user(user)
        if message.chat is not chat or message.deleted:
            raise AssertionError(f"{message!r} is not a current message of chat {chat.id}")
        if chat.bot_blocked:
            raise ValueError(f"chat {chat.id} has blocked the bot; call unblock(chat) first")
        query = FakeCallbackQuery(
            str(4_000_000_000_000_000_000 + next(self._query_ids)), user, chat, message, data
        )
        self._queries[query.id] = query
        body: JSONObject = {
            "id": query.id,
            "from": user.to_json(),
            "message": message.to_json(),
            "chat_instance": str(-(abs(chat.id) * 2_654_435_761 % 2**62)),
            "data": data,
        }
        self._user_acted(chat)
        query.update_id = self._queue_update("callback_query", body)
        return query

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        *,
        times: int = 1,
        retry_after: int | None = None,
        text_contains: str | None = None,
    ) -> None:
        """The next `times` calls of `method` (only those whose `text` contains
        `text_contains`, if given) get this error answer instead of their result, as
        Telegram's 5xx, 429 and 403 answers arrive (the call still counts in `calls`)."""
        error = ApiError(error_code, description, retry_after=retry_after)
        self._faults.setdefault(method.lower(), []).extend([(error, text_contains)] * times)

    def clear_faults(self) -> None:
        self._faults.clear()

    def inject_update(self, update: Mapping[str, Any]) -> int:
        """Queue any update body (``{"my_chat_member": {...}}``); returns its update_id."""
        if len(update) != 1:
            raise ValueError("an update has exactly one field besides update_id")
        ((kind, body),) = update.items()
        return self._queue_update(kind, dict(body))

    # -- observing the bot ----------------------------------------------------------------------

    def messages(self, chat: FakeChat, *, include_users: bool = False) -> list[FakeMessage]:
        """Messages in ``chat`` in order, as they are now; the bot's only unless asked."""
        return [
            message
            for message in self._known_chat(chat).history
            if not message.deleted and (include_users or message.sender.id == self.bot.id)
        ]

    def chat_actions(self, chat: FakeChat) -> list[str]:
        return list(self._known_chat(chat).actions)

    @property
    def commands(self) -> list[tuple[str, str]]:
        """The command menu for the default scope and all languages."""
        return list(self._commands.get((_DEFAULT_SCOPE, ""), []))

    def commands_for(
        self, scope: Mapping[str, Any], language_code: str = ""
    ) -> list[tuple[str, str]]:
        return list(self._commands.get((_scope_key(scope), language_code), []))

    @property
    def pending_updates(self) -> int:
        """Updates queued for the bot and not yet confirmed (getUpdates offset or webhook 2xx)."""
        return len(self._pending)

    def calls_to(self, method: str) -> list[dict[str, object]]:
        return [call.params for call in self.calls if call.method.lower() == method.lower()]

    def checkpoint(self) -> int:
        """A mark for ``wait_for_message(since=...)``: only later sends and edits match."""
        return self._events

    async def wait_for_message(
        self,
        chat: FakeChat,
        predicate: MessagePredicate | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the test's wait
        since: int | None = None,
    ) -> FakeMessage:
        """The first bot message (new or edited) in ``chat`` matching ``predicate``.

        Only sends and edits after the latest user action in the chat count (or after
        ``since``, a :meth:`checkpoint`), so a reply is never mistaken for an older one.
        """
        threshold = self._known_chat(chat).last_user_action if since is None else since

        def matching() -> FakeMessage | None:
            found = [
                message
                for message in self.messages(chat)
                if message.last_event > threshold and (predicate is None or predicate(message))
            ]
            return min(found, key=lambda message: message.last_event, default=None)

        found = await self._wait_until(matching, timeout)
        if found is None:
            shown = "\n  ".join(repr(message) for message in self.messages(chat)) or "none"
            errors = "\n  ".join(str(error) for error in self.errors) or "none"
            raise AssertionError(
                f"no matching bot message in chat {chat.id} within {timeout} s.\n"
                f"Bot messages:\n  {shown}\nErrors answered:\n  {errors}"
            )
        return found

    async def wait_for_callback_answer(
        self,
        query: FakeCallbackQuery,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the test's wait
    ) -> CallbackAnswer:
        answer = await self._wait_until(lambda: query.answer, timeout)
        if answer is None:
            raise AssertionError(f"callback query {query.data!r} not answered within {timeout} s")
        return answer

    async def wait_for_call(
        self,
        method: str,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the test's wait
    ) -> ApiCall:
        """Wait until the bot has called ``method`` ``count`` times; returns the latest call."""

        def latest() -> ApiCall | None:
            calls = [call for call in self.calls if call.method.lower() == method.lower()]
            return calls[-1] if len(calls) >= count else None

        call = await self._wait_until(latest, timeout)
        if call is None:
            raise AssertionError(f"{method} was not called {count} time(s) within {timeout} s")
        return call

    async def post_update_to_webhook(
        self, url: str, update: Mapping[str, Any], *, secret_token: str | None = None
    ) -> int:
        """POST an update to a webhook the way Telegram does; returns the HTTP status."""
        status, _ = await self._post_update(url, update, secret_token)
        return status

    # -- HTTP -----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._error_response(method, ApiError(401, "Unauthorized"))
        try:
            params = await read_params(request)
        except ApiError as error:
            return self._error_response(method, error)
        self.calls.append(ApiCall(method, dict(params.values)))
        self._notify()
        faults = self._faults.get(method.lower(), [])
        text = params.text("text") or ""
        for index, (fault, text_contains) in enumerate(faults):
            if text_contains is None or text_contains in text:
                del faults[index]
                return self._error_response(method, fault)
        implementation = self._methods.get(method.lower())
        if implementation is None:
            return self._error_response(method, ApiError(404, "Not Found"))
        try:
            result = await implementation(params)
        except ApiError as error:
            if request.transport is None or request.transport.is_closing():
                raise web.HTTPServiceUnavailable from None  # nobody is listening any more
            return self._error_response(method, error)
        return web.json_response({"ok": True, "result": result})

    def _error_response(self, method: str, error: ApiError) -> web.Response:
        if error.error_code == 429:
            self.rate_limited_count += 1
        self.errors.append(ApiErrorAnswer(method, error.error_code, error.description))
        self._notify()
        return web.json_response(error.to_json(), status=error.error_code)

    # -- Bot API: updates -----------------------------------------------------------------------

    async def _get_me(self, params: Params) -> JSONObject:
        return self.bot.to_json() | {
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: Params) -> list[JSONObject]:
        self._check_polling_allowed()
        offset = params.integer("offset")
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(params.number("timeout") or 0.0, 0.0)
        allowed = params.json("allowed_updates", "can't parse allowed updates JSON object")
        if allowed is not None:
            self._allowed_updates = _allowed_update_kinds(allowed)
        self._poll_generation += 1
        generation = self._poll_generation
        if offset is not None:
            self._confirm_updates(offset)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._drop_unwanted_updates(self._allowed_updates)
            if self._pending or self._closing or loop.time() >= deadline:
                return [update.payload for update in self._pending[:limit]]
            await self._wait_for_change(deadline - loop.time())
            if generation != self._poll_generation:
                raise ApiError(409, POLLING_TERMINATED)
            self._check_polling_allowed()

    def _check_polling_allowed(self) -> None:
        if self.webhook is not None:
            raise ApiError(409, POLLING_WHILE_WEBHOOK)

    def _confirm_updates(self, offset: int) -> None:
        before = len(self._pending)
        if offset < 0:
            self._pending = self._pending[offset:]
        elif offset > 0:
            self._pending = [update for update in self._pending if update.update_id >= offset]
        if len(self._pending) != before:
            self._notify()

    def _drop_unwanted_updates(self, allowed: Iterable[str] | None) -> None:
        wanted = None if allowed is None else frozenset(allowed)
        self._pending = [
            update
            for update in self._pending
            if (update.kind in wanted if wanted is not None else update.kind not in OPT_IN_UPDATES)
        ]

    async def _set_webhook(self, params: Params) -> bool:
        url = params.text("url") or ""
        if not url:
            return await self._delete_webhook(params)
        if not url.startswith(("https://", "http://")):
            # Telegram demands HTTPS; plain HTTP is allowed here so tests can listen locally.
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.text("secret_token")
        if secret is not None and len(secret) > 256:
            raise bad_request("secret token is too long")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_\-]+", secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = params.json("allowed_updates", "can't parse allowed updates JSON object")
        kinds = None if allowed is None else _allowed_update_kinds(allowed)
        drop = params.boolean("drop_pending_updates")
        if drop:
            self._pending.clear()
        self.webhook = WebhookConfig(
            url=url,
            secret_token=secret,
            allowed_updates=None if kinds is None else tuple(sorted(kinds)),
            drop_pending_updates=drop,
            max_connections=params.integer("max_connections") or 40,
            ip_address=params.text("ip_address"),
        )
        self._notify()  # a waiting getUpdates now answers 409
        if self._delivery is None or self._delivery.done():
            self._delivery = asyncio.get_running_loop().create_task(self._deliver_to_webhook())
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        if params.boolean("drop_pending_updates"):
            self._pending.clear()
        self.webhook = None
        await self._stop_delivery()
        return True

    async def _get_webhook_info(self, params: Params) -> JSONObject:
        info: JSONObject = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        webhook = self.webhook
        if webhook is None:
            return info
        info.update(url=webhook.url, max_connections=webhook.max_connections)
        optional = {
            "ip_address": webhook.ip_address,
            "allowed_updates": None
            if webhook.allowed_updates is None
            else list(webhook.allowed_updates),
            "last_error_date": webhook.last_error_date,
            "last_error_message": webhook.last_error_message,
        }
        info.update({key: value for key, value in optional.items() if value is not None})
        return info

    async def _close(self, params: Params) -> bool:
        self.closed = True
        return True

    async def _log_out(self, params: Params) -> bool:
        self.logged_out = True
        return True

    # -- Bot API: messages ----------------------------------------------------------------------

    async def _send_message(self, params: Params) -> JSONObject:
        # Telegram parses the text before it looks at the chat.
        formatted = self._formatted_text(params)
        chat = self._chat_param(params)
        markup = self._markup_param(params)
        reply_to = self._reply_param(params, chat)
        self._check_can_write(chat)
        self._check_rate(chat)
        message = FakeMessage(
            chat,
            chat.next_message_id(),
            self.bot,
            self._now(),
            text=formatted.text,
            entities=formatted.entities,
            reply_markup=markup,
            reply_to=reply_to,
        )
        chat.history.append(message)
        self._bot_event(message)
        return message.to_json()

    async def _edit_message_text(self, params: Params) -> JSONObject:
        self._refuse_inline_message(params)
        formatted = self._formatted_text(params)
        chat = self._chat_param(params)
        message = self._message_to_edit(chat, params)
        if message.location is not None:
            raise bad_request("there is no text in the message to edit")
        # Without reply_markup an edit removes the inline keyboard, as on Telegram.
        markup = self._inline_markup_param(params)
        if (message.text, message.entities, message.inline_keyboard) == (
            formatted.text,
            formatted.entities,
            markup,
        ):
            raise bad_request(NOT_MODIFIED)
        self._check_can_write(chat)
        self._check_rate(chat)
        message.text, message.entities, message.reply_markup = (
            formatted.text,
            formatted.entities,
            markup,
        )
        self._edited(message)
        return message.to_json()

    async def _edit_message_reply_markup(self, params: Params) -> JSONObject:
        self._refuse_inline_message(params)
        chat = self._chat_param(params)
        message = self._message_to_edit(chat, params)
        markup = self._inline_markup_param(params)
        if message.inline_keyboard == markup:
            raise bad_request(NOT_MODIFIED)
        self._check_can_write(chat)
        self._check_rate(chat)
        message.reply_markup = markup
        self._edited(message)
        return message.to_json()

    async def _delete_message(self, params: Params) -> bool:
        chat = self._chat_param(params)
        message_id = params.integer("message_id")
        message = None if message_id is None else chat.message(message_id)
        if message is None:
            raise bad_request("message to delete not found")
        if message.sender.id != self.bot.id and chat.is_group and not chat.bot_is_admin:
            raise bad_request("message can't be deleted")
        message.deleted = True
        self._notify()
        return True

    async def _answer_callback_query(self, params: Params) -> bool:
        text = params.text("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        query = self._queries.get(params.text("callback_query_id") or "")
        if query is None or query.answer is not None:
            raise bad_request(QUERY_TOO_OLD)
        query.answer = CallbackAnswer(
            query.id, text or None, params.boolean("show_alert"), params.text("url")
        )
        self.callback_answers.append(query.answer)
        self._notify()
        return True

    async def _send_chat_action(self, params: Params) -> bool:
        action = params.text("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat = self._chat_param(params)
        self._check_can_write(chat)
        chat.actions.append(action)
        self._notify()
        return True

    # -- Bot API: commands and chats ------------------------------------------------------------

    async def _set_my_commands(self, params: Params) -> bool:
        raw = params.json("commands", "can't parse commands JSON object")
        if not isinstance(raw, list):
            raise bad_request("can't parse commands JSON object")
        if len(raw) > MAX_COMMANDS:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        commands: list[tuple[str, str]] = []
        for item in raw:
            if not isinstance(item, dict):
                raise bad_request("can't parse BotCommand JSON object")
            command, description = item.get("command"), item.get("description")
            if not isinstance(command, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", command):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            commands.append((command, description))
        self._commands[self._commands_key(params)] = commands
        return True

    async def _set_chat_menu_button(self, params: Params) -> bool:
        raw = params.json("menu_button", "can't parse menu button JSON object")
        button: JSONObject = {"type": "default"} if raw is None else raw  # type: ignore[assignment]
        if not isinstance(button, dict) or button.get("type") not in (
            "default",
            "commands",
            "web_app",
        ):
            raise bad_request("can't parse menu button JSON object")
        if button["type"] == "web_app":
            web_app = button.get("web_app")
            url = web_app.get("url") if isinstance(web_app, dict) else None
            if not isinstance(button.get("text"), str) or not button["text"].strip():
                raise bad_request("BUTTON_TEXT_INVALID")
            if not isinstance(url, str) or not url.startswith("https://"):
                raise bad_request("BUTTON_URL_INVALID")
        self.menu_buttons[params.integer("chat_id")] = button
        return True

    async def _get_chat_menu_button(self, params: Params) -> JSONObject:
        return self.menu_buttons.get(params.integer("chat_id"), {"type": "default"})

    async def _get_my_commands(self, params: Params) -> list[JSONObject]:
        return [
            {"command": command, "description": description}
            for command, description in self._commands.get(self._commands_key(params), [])
        ]

    async def _delete_my_commands(self, params: Params) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _commands_key(self, params: Params) -> tuple[str, str]:
        scope = params.json("scope", "can't parse BotCommandScope JSON object")
        if scope is not None and not isinstance(scope, dict):
            raise bad_request("can't parse BotCommandScope JSON object")
        return _scope_key(scope), params.text("language_code") or ""

    async def _get_chat(self, params: Params) -> JSONObject:
        chat = self._chat_param(params)
        return chat.to_json() | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _get_chat_member(self, params: Params) -> JSONObject:
        chat = self._chat_param(params)
        user_id = params.integer("user_id")
        user = self.bot if user_id == self.bot.id else self._users.get(user_id or 0)
        if user is None:
            raise bad_request("user not found")
        return _member_json(self._member_status(chat, user), user)

    async def _get_chat_administrators(self, params: Params) -> list[JSONObject]:
        chat = self._chat_param(params)
        if not chat.is_group:
            raise bad_request("there are no administrators in the private chat")
        admins = [
            _member_json(status, self._users[user_id])
            for user_id, status in chat.members.items()
            if status in {"creator", "administrator"}
        ]
        if chat.bot_is_admin and not chat.bot_blocked:
            admins.append(_member_json("administrator", self.bot))
        return admins

    def _member_status(self, chat: FakeChat, user: FakeUser) -> MemberStatus:
        if user.id == self.bot.id:
            if chat.bot_blocked:
                return "kicked"
            return "administrator" if chat.bot_is_admin else "member"
        if not chat.is_group:
            return "member" if user.id == chat.id else "left"
        return chat.members.get(user.id, "left")

    # -- parameters -----------------------------------------------------------------------------

    def _formatted_text(self, params: Params) -> FormattedText:
        text = params.text("text")
        if not text:
            raise bad_request("message text is empty")
        parse_mode = (params.text("parse_mode") or "").lower()
        raw_entities = params.json("entities", "can't parse entities JSON object")
        try:
            if raw_entities is not None:
                parsed = FormattedText(text, explicit_entities(raw_entities, text))
            elif not parse_mode:
                parsed = FormattedText(text)
            elif parse_mode == "html":
                parsed = parse_html(text, strict_ampersand=self.strict_html_ampersand)
            elif parse_mode == "markdownv2":
                parsed = parse_markdown_v2(text)
            elif parse_mode == "markdown":
                parsed = parse_markdown(text)
            else:
                raise bad_request("unsupported parse_mode")
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
        formatted = finalize_text(parsed.text, parsed.entities)
        if formatted is None:
            raise bad_request("message text is empty")
        if utf16_length(formatted.text) > MAX_MESSAGE_LENGTH:
            raise bad_request("message is too long")
        return formatted

    def _chat_param(self, params: Params) -> FakeChat:
        raw = params.text("chat_id")
        if not raw:
            raise bad_request("chat_id is empty")
        found: FakeChat | None = None
        if raw.startswith("@"):
            found = next(
                (
                    chat
                    for chat in self._chats.values()
                    if chat.username is not None and chat.username.lower() == raw[1:].lower()
                ),
                None,
            )
        elif raw.lstrip("-").isdigit():
            found = self._chats.get(int(raw))
        if found is None:
            raise bad_request("chat not found")
        return found

    def _markup_param(self, params: Params) -> JSONObject | None:
        raw = params.json("reply_markup", _MARKUP_UNPARSABLE)
        return None if raw is None else validate_reply_markup(raw)

    def _inline_markup_param(self, params: Params) -> JSONObject | None:
        markup = self._markup_param(params)
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request(_MARKUP_UNPARSABLE)
        return markup

    def _reply_param(self, params: Params, chat: FakeChat) -> FakeMessage | None:
        raw = params.json("reply_parameters", "can't parse reply parameters JSON object")
        if raw is None:
            message_id = params.integer("reply_to_message_id")
            allow_without = params.boolean("allow_sending_without_reply")
            target_chat = chat
            if message_id is None:
                return None
        else:
            if not isinstance(raw, dict) or not isinstance(raw.get("message_id"), int):
                raise bad_request("can't parse reply parameters JSON object")
            message_id = raw["message_id"]
            allow_without = bool(raw.get("allow_sending_without_reply"))
            target_chat = (
                chat
                if raw.get("chat_id") is None
                else self._chat_param(Params({"chat_id": raw["chat_id"]}))
            )
        target = target_chat.message(message_id)
        if target is None and not allow_without:
            raise bad_request("message to be replied not found")
        return target

    def _refuse_inline_message(self, params: Params) -> None:
        if params.text("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")

    def _message_to_edit(self, chat: FakeChat, params: Params) -> FakeMessage:
        message_id = params.integer("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = chat.message(message_id)
        if message is None:
            raise bad_request("message to edit not found")
        if message.sender.id != self.bot.id:
            raise bad_request("message can't be edited")
        return message

    def _check_can_write(self, chat: FakeChat) -> None:
        if not chat.bot_blocked:
            return
        if chat.type == "private":
            raise forbidden("bot was blocked by the user")
        raise forbidden(f"bot was kicked from the {chat.type} chat")

    def _check_rate(self, chat: FakeChat) -> None:
        retry_after = self._limiter.acquire(chat.id, is_group=chat.is_group)
        if retry_after is not None:
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )

    # -- state helpers --------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self._clock())

    def _notify(self) -> None:
        """Wake everything waiting for a change (long polls, webhook delivery, test waits)."""
        self._change.set()
        self._change = asyncio.Event()

    async def _wait_for_change(self, within: float | None) -> None:
        change = self._change
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(change.wait(), within)

    async def _wait_until(self, probe: Callable[[], _T | None], within: float) -> _T | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while (found := probe()) is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            await self._wait_for_change(remaining)
        return found

    def _bot_event(self, message: FakeMessage) -> None:
        self._events += 1
        message.last_event = self._events
        self._notify()

    def _edited(self, message: FakeMessage) -> None:
        message.edits += 1
        message.edit_date = self._now()
        self._bot_event(message)

    def _user_acted(self, chat: FakeChat) -> None:
        self._events += 1
        chat.last_user_action = self._events

    def _known_user(self, user: FakeUser) -> FakeUser:
        if self._users.get(user.id) != user:
            raise ValueError(f"unknown user {user!r}; create it with fake.user(...)")
        return user

    def _known_chat(self, chat: FakeChat) -> FakeChat:
        if self._chats.get(chat.id) is not chat:
            raise ValueError(f"unknown chat {chat!r}; create it with private_chat() or group()")
        return chat

    def _user_message(
        self, chat: FakeChat, user: FakeUser, reply_to: FakeMessage | None
    ) -> FakeMessage:
        self._known_chat(chat)
        self._known_user(user)
        if chat.type == "private" and user.id != chat.id:
            raise ValueError(f"{user!r} is not the user of private chat {chat.id}")
        if chat.bot_blocked:
            raise ValueError(f"chat {chat.id} has blocked the bot; call unblock(chat) first")
        if reply_to is not None and (reply_to.chat is not chat or reply_to.deleted):
            raise ValueError(f"{reply_to!r} is not a current message of chat {chat.id}")
        if chat.is_group and chat.members.get(user.id, "left") in {"left", "kicked"}:
            chat.members[user.id] = "member"
        return FakeMessage(chat, chat.next_message_id(), user, self._now(), reply_to=reply_to)

    def _deliver_user_message(self, message: FakeMessage) -> FakeMessage:
        message.chat.history.append(message)
        self._user_acted(message.chat)
        if self._bot_sees(message):
            message.update_id = self._queue_update("message", message.to_json())
        return message

    def _bot_sees(self, message: FakeMessage) -> bool:
        """Privacy mode: in groups only commands, mentions and replies to the bot arrive."""
        chat = message.chat
        if not chat.is_group or not self.privacy_mode or chat.bot_is_admin:
            return True
        if message.reply_to is not None and message.reply_to.sender.id == self.bot.id:
            return True
        username = (self.bot.username or "").lower()
        if message.text.startswith("/"):
            addressee = message.text.split(maxsplit=1)[0].partition("@")[2].lower()
            return addressee in {"", username}
        return f"@{username}" in message.text.lower()

    def _queue_update(self, kind: str, body: JSONObject) -> int:
        update_id = next(self._update_ids)
        self._pending.append(_PendingUpdate(update_id, kind, {"update_id": update_id, kind: body}))
        self._notify()
        return update_id

    def _find_button(self, message: FakeMessage, label: str) -> FakeButton:
        buttons = message.buttons
        for candidates in (
            [button for button in buttons if _button_word(button.text) == label],
            [button for button in buttons if label in button.text],
        ):
            if len(candidates) == 1:
                return candidates[0]
            if len(candidates) > 1:
                raise AssertionError(f"{label!r} matches several buttons of {message!r}")
        raise AssertionError(f"no button {label!r} on {message!r}")

    # -- webhook delivery -----------------------------------------------------------------------

    async def _deliver_to_webhook(self) -> None:
        """Post pending updates to the webhook one at a time, retrying until it answers 2xx."""
        while not self._closing and (webhook := self.webhook) is not None:
            self._drop_unwanted_updates(webhook.allowed_updates)
            if not self._pending:
                await self._wait_for_change(None)
                continue
            update = self._pending[0]
            status, problem = await self._post_update(
                webhook.url, update.payload, webhook.secret_token
            )
            if 200 <= status < 300:
                if self._pending and self._pending[0] is update:
                    self._pending.pop(0)
                self._notify()
            else:
                webhook.last_error_date = self._now()
                webhook.last_error_message = problem
                await asyncio.sleep(self.webhook_retry_delay)

    async def _stop_delivery(self) -> None:
        task, self._delivery = self._delivery, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _post_update(
        self, url: str, update: Mapping[str, Any], secret_token: str | None
    ) -> tuple[int, str]:
        if self._session is None:
            raise RuntimeError("the fake Telegram server is not started")
        headers = {"Content-Type": "application/json"}
        if secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        try:
            async with self._session.post(url, data=json.dumps(update), headers=headers) as answer:
                await answer.read()
                return (
                    answer.status,
                    f"Wrong response from the webhook: {answer.status} {answer.reason}",
                )
        except (ClientError, OSError, TimeoutError) as error:
            return 0, f"Connection failed: {error}"


_DEFAULT_SCOPE = json.dumps({"type": "default"})


def _scope_key(scope: object) -> str:
    return _DEFAULT_SCOPE if scope is None else json.dumps(scope, sort_keys=True)


def _allowed_update_kinds(raw: object) -> frozenset[str] | None:
    if not isinstance(raw, list) or not all(isinstance(kind, str) for kind in raw):
        raise bad_request("can't parse allowed updates JSON object")
    return frozenset(raw) or None
