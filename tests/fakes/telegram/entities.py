"""Formatted text: entities, UTF-16 offsets, links, explicit entities and the text tdlib keeps.

The parsers follow tdlib's (td/telegram/MessageEntity.cpp), which is what the Bot API runs, so
the error texts and byte offsets are Telegram's."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, replace

from tests.fakes.telegram.api import JSONObject, bad_request

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
