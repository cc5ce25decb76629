"""Parse modes MarkdownV2 and legacy Markdown → plain text + entities, as tdlib parses them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.fakes.telegram.entities import (
    _SPACE,
    Entity,
    EntityParseError,
    FormattedText,
    _sorted,
    _units,
    checked_link,
)

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
