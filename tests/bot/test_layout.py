"""An answer laid out as Telegram parts: when it becomes a document, how pictures are grouped,
how tables are aligned."""

from __future__ import annotations

from bot.i18n import translator
from bot.layout import (
    ALBUM_SIZE,
    MAX_PICTURES,
    PREVIEW_CHARS,
    DocumentPart,
    Layout,
    PhotosPart,
    TextPart,
)
from bot.results import RESULT_CHUNK
from bot.tables import aligned, width
from tests.fakes.records import a_task

TASK = a_task(id=7, name="Утренний обзор: рынки")
EN = translator("en")


def test_an_answer_up_to_the_limit_is_text_and_one_over_it_a_document() -> None:
    layout = Layout(long_chars=5000)
    answer = ("word " * 2000)[:5000]
    at_limit = layout.result(EN, TASK, answer)
    assert all(isinstance(part, TextPart) for part in at_limit)
    assert len(at_limit) == -(-5000 // RESULT_CHUNK)

    over = layout.result(EN, TASK, answer + "!")
    assert len(over) == 2
    preview, document = over
    assert isinstance(preview, TextPart)
    assert isinstance(document, DocumentPart)
    assert len(preview.text) < PREVIEW_CHARS + 200
    assert "(5,001 characters)" in preview.text
    assert document.content.decode() == answer + "!"
    # Named after the task, in its own script; captioned with the result's header.
    assert document.name == "утренний-обзор-рынки.md"
    assert document.caption == "📋 Утренний обзор: рынки · task #7"


def test_the_note_is_worded_in_the_chat_language_with_its_plural() -> None:
    layout = Layout(long_chars=1000)
    [preview, _] = layout.result(translator("ru"), TASK, "x" * 1001)
    assert isinstance(preview, TextPart)
    assert "(1 001 символ)" in preview.text.replace("\xa0", " ")
    [preview, _] = layout.result(translator("de"), TASK, "x" * 12_345)
    assert isinstance(preview, TextPart)
    assert "(12.345 Zeichen)" in preview.text


def test_pictures_follow_the_text_ten_to_an_album_each_url_once() -> None:
    pictures = "".join(f"![p{n}](https://img.example.com/{n}.png)\n" for n in range(45))
    answer = "Look:\n\n" + pictures + "![again](https://img.example.com/0.png)"
    parts = Layout().answer(EN, answer)
    text, *albums = parts
    assert isinstance(text, TextPart)
    assert all(isinstance(album, PhotosPart) for album in albums)
    sizes = [len(album.pictures) for album in albums if isinstance(album, PhotosPart)]
    assert sizes == [ALBUM_SIZE, ALBUM_SIZE, ALBUM_SIZE]
    assert sum(sizes) == MAX_PICTURES
    # Every picture is still a link in the text, the ones left out of the albums too.
    assert [entity.url for entity in text.entities].count("https://img.example.com/44.png") == 1


def test_only_web_pictures_become_photos() -> None:
    parts = Layout().answer(EN, "![local](file:///etc/passwd) and ![rel](img.png)")
    assert [type(part) for part in parts] == [TextPart]


def test_columns_are_aligned_by_screen_width_as_the_table_asks() -> None:
    table = aligned(
        [["Name", "Qty", "Mid"], ["日本", "1", "x"], ["Tea", "12", "yy"]],
        ("Left", "Right", "Center"),
    )
    lines = table.splitlines()
    assert lines == [
        "Name | Qty | Mid",
        "-----+-----+----",
        "日本 |   1 |  x",
        "Tea  |  12 | yy",
    ]
    assert len({width(line.split("|")[0]) for line in lines if "|" in line}) == 1


def test_a_ragged_table_gets_empty_cells() -> None:
    assert aligned([["a", "b"], ["c"]]) == "a | b\n--+--\nc |"
