"""Parse mode HTML → plain text + entities, as tdlib parses it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from tests.fakes.telegram.entities import (
    _SPACE,
    Entity,
    EntityParseError,
    FormattedText,
    _html_entity_at,
    _sorted,
    _units,
    checked_link,
)


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
