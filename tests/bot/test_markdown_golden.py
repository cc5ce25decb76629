"""What the model's Markdown becomes in the chat, character for character and entity for entity.

bot/markdown.py extends telegramify-markdown's converter from the inside, and the results are
split with its `split_entities`; pyproject.toml pins one minor release of it. These renderings
are checked in (tests/bot/markdown.golden.json), so an upgrade that changes any of them fails
here. After an upgrade on purpose, write the file anew and review its diff:

    uv run python -m tests.bot.test_markdown_golden
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import translator
from bot.results import RESULT_CHUNK, result_chunks
from tests.fakes.records import a_task

GOLDEN = Path(__file__).with_name("markdown.golden.json")
TASK = a_task(id=12, name="Morning digest")


def _long_answer() -> str:
    """An answer over RESULT_CHUNK characters, with formatting on both sides of the split."""
    items = [
        f"{number}. **Story {number}**: the council met again and *agreed* on `item-{number}`;"
        " details at [the minutes](https://example.com/minutes) and more words to fill a line."
        for number in range(1, 46)
    ]
    return "## Long read\n\n" + "\n".join(items) + "\n\n> That was all for today."


CASES = {
    "headings": "# The title\n\nIntro text.\n\n## A section\n\nBody.\n\n### A subsection\n\nMore.",
    "nested lists": (
        "- fruit\n  - apples\n  - pears\n    1. green\n    2. yellow\n- vegetables\n\n"
        "1. first\n2. second\n   - inner point\n3. third"
    ),
    "task list": "- [x] done\n- [ ] still to do",
    "table": (
        "| Name | Price | Note |\n|:-----|------:|------|\n| Tea | 3 | hot |\n| Coffee | 4.50 | |"
    ),
    # Columns as the table asks, measured by screen width; links in cells listed under it.
    "table with wide cells and links": (
        "| City | Sky | Note |\n|:--|:-:|--:|\n| 東京 | ☀️ | [forecast](https://example.com/t) |\n"
        "| **Lisbon** | 🌧 | `12 °C` |"
    ),
    "pictures": (
        "![Sales chart](https://example.com/chart.png)\n\nText with ![a logo](https://example.com/"
        'logo.jpg "Logo") inside.'
    ),
    "code block and inline code": (
        "Run `ls -la` first.\n\n```python\ndef double(x):\n    return x * 2  # <not a tag>\n```\n\n"
        "```\nplain block\n```"
    ),
    "links": (
        "See [the docs](https://example.com/docs?a=1&b=2), <https://example.org/auto> and "
        "https://example.net/bare."
    ),
    "tag text": (
        "a * star and <tag>\n\n<script>alert(1)</script>\n\n<div>\nblock *html*\n</div>\n\n"
        "x < y > z and a <tg-spoiler>secret</tg-spoiler>"
    ),
    "bold and italic": "**bold**, *italic*, ***both***, __under__, _also italic_ and ~~gone~~.",
    # The inner quote comes out as a blockquote inside a blockquote, which the Bot API documents
    # as not allowed; recorded as the library renders it today.
    "quotes": "> A quote\n> on two lines\n>\n> > nested inside\n\nAfter the quote.",
    "unicode offsets": "😀 **bold after an emoji** and 𝔘 *italic* — ü",
    "escapes and specials": (
        r"1\. not a list, \*not italic\*, a_b_c, 2 * 3 * 4, [x] and # not heading"
    ),
    "split": _long_answer(),
}


def rendered(markdown: str) -> list[dict[str, Any]]:
    """The messages a result is sent as: the text, and each entity as the Bot API receives it,
    written "type offset+length" and its other fields (url=…, language=…)."""
    messages = []
    for chunk in result_chunks(translator("en"), TASK, markdown):
        entities = []
        for entity in chunk.entities:
            fields = entity.to_dict()
            words = [f"{fields.pop('type')} {fields.pop('offset')}+{fields.pop('length')}"]
            words.extend(f"{key}={value}" for key, value in sorted(fields.items()))
            entities.append(" ".join(words))
        messages.append({"text": chunk.text, "entities": entities})
    return messages


def renderings() -> dict[str, dict[str, Any]]:
    return {name: {"markdown": text, "messages": rendered(text)} for name, text in CASES.items()}


@pytest.fixture(scope="module")
def golden() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = json.loads(GOLDEN.read_text(encoding="utf-8"))
    return found


def test_every_case_has_a_golden_rendering(golden: dict[str, dict[str, Any]]) -> None:
    assert sorted(golden) == sorted(CASES)


@pytest.mark.parametrize("name", CASES)
def test_rendering_is_unchanged(name: str, golden: dict[str, dict[str, Any]]) -> None:
    assert rendered(CASES[name]) == golden[name]["messages"]
    assert golden[name]["markdown"] == CASES[name]


def test_a_long_answer_is_split_under_the_limit(golden: dict[str, dict[str, Any]]) -> None:
    messages = golden["split"]["messages"]
    assert len(messages) == 2
    assert all(len(message["text"]) <= RESULT_CHUNK for message in messages)
    # Only the first message carries the task's name.
    assert messages[0]["text"].startswith("📋 Morning digest · task #12\n\n")
    assert not messages[1]["text"].startswith("📋")


if __name__ == "__main__":
    GOLDEN.write_text(
        json.dumps(renderings(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    sys.stdout.write(f"wrote {GOLDEN}\n")
